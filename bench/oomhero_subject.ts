/**
 * oomhero as a benchmark subject: started from source as `deno task start` starts it (the
 * launcher, environment and flags of scripts/runtime-*), in dry-run mode with thresholds nothing
 * reaches, its metrics on a free loopback port.
 * @module
 */
import {
  freePort,
  ROOT,
  RUNTIME_FLAGS,
  runtimeArgv,
  type RuntimeOptions,
} from "../scripts/runtime_flags.ts";

export { freePort };

const MAIN = `${ROOT}src/main.ts`;

/** A running oomhero and where its metrics are. */
export interface OomheroSubject {
  /** The process; stop it with SIGTERM. */
  child: Deno.ChildProcess;
  /** The loopback port of /metrics. */
  port: number;
}
/**
 * The production runtime flags (scripts/runtime-flags), with the V8 flags replaced by `v8Flags`
 * when given (other than `production`): how the footprint benchmark weighs other V8 settings.
 */
export function runtimeFlags(v8Flags?: string): string[] {
  if (v8Flags === undefined || v8Flags === "production") return [...RUNTIME_FLAGS];
  return [...RUNTIME_FLAGS.filter((f) => !f.startsWith("--v8-flags=")), `--v8-flags=${v8Flags}`];
}

/** How {@link startOomhero} starts oomhero. */
export interface StartOptions {
  /** Another Deno binary, flags or environment than production's. */
  runtime?: RuntimeOptions;
  /** Wraps the argv, e.g. to start it inside a memory cgroup. */
  wrap?: (argv: string[]) => string[];
  /** How long it may take to serve its first scrape (default 30 s). */
  readyMs?: number;
  /** More arguments, e.g. an `--include` for a test outside a PID namespace. */
  args?: string[];
  /** Another tree's `src/main.ts`, e.g. the one before a change (default: this tree's). */
  main?: string;
}

/**
 * Starts oomhero scanning every `loopInterval`; resolves once it serves /metrics.
 */
export async function startOomhero(
  loopInterval: string,
  { runtime, wrap = (argv) => argv, readyMs = 30_000, args: extra = [], main = MAIN }:
    StartOptions = {},
): Promise<OomheroSubject> {
  const port = freePort();
  const [bin, ...args] = wrap(runtimeArgv(main, [
    "--warning=memory_usage > 99.9",
    "--critical=memory_usage > 99.99",
    `--loop-interval=${loopInterval}`,
    "--dry-run",
    `--metrics-address=127.0.0.1:${port}`,
    "--log-level=warn",
    ...extra,
  ], runtime));
  const child = new Deno.Command(bin, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const deadline = performance.now() + readyMs;
  for (;;) {
    try {
      // Bounded, as a dead server can hang a request; generous, as a first scrape of 1,000+
      // processes on a busy machine can take seconds.
      await scrape(port, 10_000);
      return { child, port };
    } catch (e) {
      const exited = await Promise.race([child.status, new Promise((r) => setTimeout(r, 100))]);
      if (exited !== undefined) throw new Error(`oomhero exited before serving metrics: ${e}`);
      if (performance.now() > deadline) {
        child.kill("SIGKILL");
        await child.status;
        throw new Error(`oomhero served no metrics within ${readyMs / 1000} s: ${e}`);
      }
    }
  }
}

/** Stops a subject and waits for it to exit. */
export async function stopOomhero(subject: OomheroSubject): Promise<void> {
  subject.child.kill("SIGTERM");
  await subject.child.status;
}

/** One scrape of /metrics, as Prometheus does it; fails after `timeoutMs` when given. */
export async function scrape(port: number, timeoutMs?: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
    signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  return await response.text();
}

/** The value of the sample line `series` (name plus labels exactly as exposed), or NaN. */
export function sampleValue(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}
