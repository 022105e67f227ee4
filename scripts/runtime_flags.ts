/**
 * How the demo, the tests and the benchmarks run oomhero from source, exactly as `deno task start`
 * does: under the launcher of scripts/runtime-launcher (`env --block-signal=SIGUSR1`), with the
 * environment of scripts/runtime-env and the permission and V8 flags of scripts/runtime-flags.
 * `scripts/compile` bakes the same flags into the binary; the Dockerfile sets the same
 * environment.
 * @module
 */
import { fileURLToPath } from "node:url";

/** The repository root, with a trailing slash. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/** The non-empty lines of a file under scripts/, trimmed. */
function lines(name: string): string[] {
  return Deno.readTextFileSync(`${ROOT}scripts/${name}`).split("\n").map((l) => l.trim())
    .filter((l) => l !== "");
}

/** The production permission and V8 flags, one per line in scripts/runtime-flags. */
export const RUNTIME_FLAGS: readonly string[] = lines("runtime-flags");

/**
 * The production environment variables (`KEY=VALUE`), one per line in scripts/runtime-env: given
 * to the launcher, which sets them for Deno.
 */
export const RUNTIME_ENV: readonly string[] = lines("runtime-env");

/**
 * The command that starts Deno, one argument per line in scripts/runtime-launcher:
 * `env --block-signal=SIGUSR1`. Deno 2.9.2+ opens a V8 inspector on 127.0.0.1:9229 when
 * `deno run` receives SIGUSR1; blocked from the start, that signal stays pending and never
 * reaches it (README, Security).
 */
export const RUNTIME_LAUNCHER: readonly string[] = lines("runtime-launcher");

/** What {@link runtimeArgv} may run instead of the production runtime. */
export interface RuntimeOptions {
  /** The Deno binary (default: the one running this). */
  deno?: string;
  /** Deno flags instead of {@link RUNTIME_FLAGS}. */
  flags?: readonly string[];
  /** `KEY=VALUE` pairs instead of {@link RUNTIME_ENV}. */
  env?: readonly string[];
}

/** The full argv (the launcher first) that runs `script` as `deno task start` runs oomhero. */
export function runtimeArgv(
  script: string,
  args: readonly string[],
  { deno = Deno.execPath(), flags = RUNTIME_FLAGS, env = RUNTIME_ENV }: RuntimeOptions = {},
): string[] {
  return [...RUNTIME_LAUNCHER, ...env, deno, "run", ...flags, script, ...args];
}

/** The full argv (the launcher first) that runs `src/main.ts` like `deno task start`. */
export function oomheroArgv(args: readonly string[], options: RuntimeOptions = {}): string[] {
  return runtimeArgv(`${ROOT}src/main.ts`, args, options);
}

/** A loopback port free right now, for a server a test or benchmark starts. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
