/**
 * Runs the real CLI as a child process, with exactly the runtime flags that `deno task start`
 * and `deno task compile` use (scripts/runtime-flags).
 * @module
 */
import { oomheroArgv } from "../scripts/runtime_flags.ts";

export { ROOT, RUNTIME_FLAGS } from "../scripts/runtime_flags.ts";

/** The arguments to the Deno binary that run `src/main.ts` like `deno task start`. */
export function oomheroArgs(args: string[]): string[] {
  return oomheroArgv(args).slice(1);
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
