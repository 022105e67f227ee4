/**
 * How the demo, the tests and the benchmarks run oomhero from source: with exactly the permission
 * and V8 flags of scripts/runtime-flags, which `deno task start` and `scripts/compile` use too.
 * @module
 */
import { fileURLToPath } from "node:url";

/** The repository root, with a trailing slash. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/** The production permission and V8 flags, one per line in scripts/runtime-flags. */
export const RUNTIME_FLAGS: readonly string[] = Deno.readTextFileSync(
  `${ROOT}scripts/runtime-flags`,
).split("\n").map((l) => l.trim()).filter((l) => l !== "");

/** The full argv (Deno binary first) that runs `src/main.ts` like `deno task start`. */
export function oomheroArgv(args: string[]): string[] {
  return [Deno.execPath(), "run", ...RUNTIME_FLAGS, `${ROOT}src/main.ts`, ...args];
}

/** A loopback port free right now, for a server a test or benchmark starts. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
