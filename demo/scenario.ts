/**
 * One run of the demo scenario: the leaking app in a memory cgroup, with or without oomhero
 * watching it. Shared by `deno task demo` and the survival tests.
 * @module
 */
import { oomheroArgv, ROOT } from "../scripts/runtime_flags.ts";
import type { MemoryCgroup } from "./memory_cgroup.ts";

const APP = `${ROOT}demo/app.ts`;

/**
 * The oomhero flags that send the signals the demo app handles (its defaults): SIGUSR2 and
 * SIGHUP, since `deno run` of Deno 2.9.2+ opens a V8 inspector on SIGUSR1, as Node.js does.
 */
export const APP_SIGNAL_FLAGS: readonly string[] = [
  "--warning-signal=SIGUSR2",
  "--critical-signal=SIGHUP",
];

/**
 * The argv of the demo app; its command line contains `demo/app.ts`, for `--include`. It runs
 * without permissions unless given some, e.g. `--allow-all` to read its own cgroup.
 */
export function appArgv(args: string[], permissions: readonly string[] = []): string[] {
  return [Deno.execPath(), "run", "--v8-flags=--expose-gc", ...permissions, APP, ...args];
}

/** Starts the app with `args` inside `cgroup`, its stdout piped (read it: it must not block). */
export function spawnApp(
  cgroup: MemoryCgroup,
  args: string[],
  permissions: readonly string[] = [],
): Deno.ChildProcess {
  const [bin, ...rest] = cgroup.wrap(appArgv(args, permissions));
  return new Deno.Command(bin, {
    args: rest,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
    // A fixed mmap threshold makes freed buffers go back to the kernel at once.
    env: { MALLOC_MMAP_THRESHOLD_: "131072" },
  }).spawn();
}

/** Yields the lines of a byte stream. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    yield* parts;
  }
  if (rest) yield rest;
}

/** What a run of the scenario ended with. */
export interface ScenarioResult {
  /** The app's exit code, or undefined when a signal ended it. */
  exitCode: number | undefined;
  /** The signal that ended the app, e.g. SIGKILL from the OOM killer. */
  exitSignal: string | null;
  /** The signals the app reported handling. */
  handled: { warning: number; critical: number };
  /** The kernel's count of OOM kills in the cgroup. */
  oomKills: number;
  /** The cgroup's peak use in bytes. */
  peakBytes: number;
  /** Seconds the app ran. */
  seconds: number;
}

/** Options of one run. */
export interface ScenarioOptions {
  /** The app's arguments (see demo/app.ts). */
  appArgs: string[];
  /** The app's Deno permissions (none by default); see {@link appArgv}. */
  appPermissions?: readonly string[];
  /** oomhero's arguments, or undefined to run the app alone. */
  oomheroArgs?: string[];
  /** Receives every line the app prints. */
  onAppLine?: (line: string) => void;
  /** Receives every line oomhero logs. */
  onOomheroLine?: (line: string) => void;
}

/**
 * Runs the app inside `cgroup`, with oomhero watching when asked. oomhero is started first and
 * the app only once oomhero has logged that it runs, so no growth goes unwatched.
 */
export async function runScenario(
  cgroup: MemoryCgroup,
  opts: ScenarioOptions,
): Promise<ScenarioResult> {
  let oomhero: Deno.ChildProcess | undefined;
  let oomheroDone: Promise<void> = Promise.resolve();
  if (opts.oomheroArgs) {
    const [bin, ...args] = oomheroArgv([...APP_SIGNAL_FLAGS, ...opts.oomheroArgs]);
    oomhero = new Deno.Command(bin, { args, stdin: "null", stdout: "null", stderr: "piped" })
      .spawn();
    const started = Promise.withResolvers<void>();
    oomheroDone = (async () => {
      for await (const line of lines(oomhero.stderr)) {
        if (line.includes("oomhero started")) started.resolve();
        opts.onOomheroLine?.(line);
      }
      started.reject(new Error("oomhero exited before it started"));
    })();
    await started.promise;
  }
  const handled = { warning: 0, critical: 0 };
  const begin = performance.now();
  const app = spawnApp(cgroup, opts.appArgs, opts.appPermissions);
  try {
    for await (const line of lines(app.stdout)) {
      if (line.includes("] warning signal:")) handled.warning++;
      if (line.includes("] critical signal:")) handled.critical++;
      opts.onAppLine?.(line);
    }
    const status = await app.status;
    return {
      exitCode: status.signal ? undefined : status.code,
      exitSignal: status.signal,
      handled,
      oomKills: cgroup.oomKills(),
      peakBytes: cgroup.peakBytes(),
      seconds: (performance.now() - begin) / 1000,
    };
  } finally {
    try {
      app.kill("SIGKILL");
    } catch { /* already exited */ }
    if (oomhero) {
      oomhero.kill("SIGTERM");
      await oomhero.status;
      await oomheroDone.catch(() => {});
    }
  }
}
