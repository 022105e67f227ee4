/**
 * Runs the real CLI as a child process, exactly as `deno task start` runs it: under the launcher,
 * with the environment and the runtime flags of scripts/runtime-* (scripts/runtime_flags.ts).
 * @module
 */
import { oomheroArgv } from "../../scripts/runtime_flags.ts";

export { oomheroArgv, ROOT, RUNTIME_FLAGS } from "../../scripts/runtime_flags.ts";

/**
 * Flags that make a monitor run harmless on a shared machine should it start after all: it
 * watches no process and would signal none. Every test of input that might be accepted adds them.
 */
export const HARMLESS_ARGS: readonly string[] = [
  "--include=^oomhero-cli-test-matches-nothing$",
  "--dry-run",
];

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
  const [bin, ...argv] = oomheroArgv(args);
  const out = await new Deno.Command(bin, {
    args: argv,
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
  const [bin, ...argv] = oomheroArgv(args);
  return new Deno.Command(bin, {
    args: argv,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}
