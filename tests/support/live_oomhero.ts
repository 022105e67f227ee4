/**
 * A running oomhero CLI under test: started with its metrics on a free loopback port, its log
 * lines collected, its metrics scraped and its resident memory read from /proc. Shared by the
 * reliability tests and `scripts/soak`.
 * @module
 */
import { lines } from "../../demo/scenario.ts";
import { freePort } from "../../scripts/runtime_flags.ts";
import { oomheroArgv } from "./oomhero_process.ts";

export { freePort };

/** Bound of every wait for oomhero: startup takes well under a second, CI can be slow. */
export const WAIT_MS = 30_000;
/** Resolves after `ms`; for poll intervals only, never to wait for an event. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `probe` every `everyMs` until it returns a value other than undefined; throws naming
 * `what` (and what `describe` adds) once `timeoutMs` has passed.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  { timeoutMs = WAIT_MS, everyMs = 50, describe = () => "" }: {
    timeoutMs?: number;
    everyMs?: number;
    describe?: () => string | Promise<string>;
  } = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${await describe()}`);
    }
    await delay(everyMs);
  }
}

/** Resident memory (VmRSS) of a process in bytes, from /proc/<pid>/status. */
export function vmRssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (kib === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kib[1]) * 1024;
}

/** The sample lines of a Prometheus text exposition: neither comments nor blank. */
export function sampleLines(exposition: string): string[] {
  return exposition.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
}

/**
 * The sum of the samples of `name` whose labels include every pair of `labels`
 * (`name{a="1"} 3`); 0 when there is none, as for a counter not yet incremented.
 */
export function metricValue(
  exposition: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  let sum = 0;
  for (const line of sampleLines(exposition)) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = m[2] ?? "";
    if (Object.entries(labels).every(([k, v]) => have.includes(`${k}=${JSON.stringify(v)}`))) {
      sum += Number(m[3]);
    }
  }
  return sum;
}

/** Options of {@link startOomhero}. */
export interface StartOptions {
  /** Runs oomhero under this prefix, e.g. `setpriv --reuid=65534 …`. */
  prefix?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Whether to serve metrics on a free loopback port (default true). */
  metrics?: boolean;
  /** Bound of the wait for "oomhero started" (default {@link WAIT_MS}). */
  startTimeoutMs?: number;
}

/** An oomhero started by {@link startOomhero}. */
export class LiveOomhero {
  /** The child process. */
  readonly process: Deno.ChildProcess;
  /** The metrics port on 127.0.0.1, or 0 when metrics are off. */
  readonly port: number;
  /** Every stderr line so far. */
  readonly log: string[] = [];
  readonly #drained: Promise<void>;

  constructor(process: Deno.ChildProcess, port: number) {
    this.process = process;
    this.port = port;
    this.#drained = (async () => {
      for await (const line of lines(process.stderr)) this.log.push(line);
    })();
  }

  /** oomhero's pid: the Deno process itself, which the prefix and the launcher exec. */
  get pid(): number {
    return this.process.pid;
  }

  /** The log so far, for failure messages. */
  describe = (): string => `oomhero log:\n${this.log.join("\n")}`;

  /** Waits for a log line matching `pattern` and returns it. */
  waitForLog(pattern: RegExp, timeoutMs = WAIT_MS): Promise<string> {
    return waitFor(`a log line matching ${pattern}`, () => this.log.find((l) => pattern.test(l)), {
      timeoutMs,
      describe: this.describe,
    });
  }

  /** GETs `path` from the metrics server and returns status and body. */
  async get(path: string): Promise<{ status: number; body: string }> {
    const response = await fetch(`http://127.0.0.1:${this.port}${path}`);
    return { status: response.status, body: await response.text() };
  }

  /** The /metrics exposition. */
  async scrape(): Promise<string> {
    const { status, body } = await this.get("/metrics");
    if (status !== 200) throw new Error(`/metrics answered ${status}: ${body}`);
    return body;
  }

  /** Polls /metrics until `probe` returns a value for it. */
  waitForMetrics<T>(
    what: string,
    probe: (exposition: string) => T | undefined,
    timeoutMs = WAIT_MS,
  ): Promise<T> {
    let last = "";
    return waitFor(what, async () => probe(last = await this.scrape()), {
      timeoutMs,
      everyMs: 100,
      describe: () => `${this.describe()}\nlast scrape:\n${last.slice(0, 4000)}`,
    });
  }

  /** Stops oomhero with SIGTERM (SIGKILL after 10 s) and returns its exit status. */
  async stop(): Promise<Deno.CommandStatus> {
    try {
      this.process.kill("SIGTERM");
    } catch { /* already exited */ }
    const timer = setTimeout(() => {
      try {
        this.process.kill("SIGKILL");
      } catch { /* already exited */ }
    }, 10_000);
    const status = await this.process.status;
    clearTimeout(timer);
    await this.#drained;
    return status;
  }
}

/**
 * Starts the real CLI with `args` plus a metrics address on a free loopback port, and waits for
 * its "oomhero started" line.
 */
export async function startOomhero(
  args: string[],
  options: StartOptions = {},
): Promise<LiveOomhero> {
  const port = options.metrics === false ? 0 : freePort();
  const argv = [
    ...(options.prefix ?? []),
    ...oomheroArgv([
      ...args,
      `--metrics-address=${port === 0 ? "" : `127.0.0.1:${port}`}`,
    ]),
  ];
  const process = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
  }).spawn();
  const live = new LiveOomhero(process, port);
  try {
    await live.waitForLog(/oomhero started/, options.startTimeoutMs);
  } catch (e) {
    await live.stop();
    throw e;
  }
  return live;
}
