/**
 * Runs the real CLI as a child process, with exactly the runtime flags that `deno task start`
 * and `deno task compile` use (scripts/runtime-flags).
 * @module
 */
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/** The production permission and V8 flags, one per line in scripts/runtime-flags. */
export const RUNTIME_FLAGS: readonly string[] = Deno.readTextFileSync(
  `${ROOT}scripts/runtime-flags`,
).split("\n").map((l) => l.trim()).filter((l) => l !== "");

/** The argv that runs `src/main.ts` like `deno task start`. */
export function oomheroArgs(args: string[]): string[] {
  return ["run", ...RUNTIME_FLAGS, `${ROOT}src/main.ts`, ...args];
}

/** The result of a finished run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs oomhero to completion, with `env` added to the environment, and collects its output. */
export async function runOomhero(
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: oomheroArgs(args),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Starts a long-running oomhero with piped output. */
export function spawnOomhero(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: oomheroArgs(args),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}
