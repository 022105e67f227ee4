/**
 * Prometheus's tools for the tests: whether prometheus and promtool are installed, and a real
 * Prometheus for the end-to-end tests, started on a free loopback port with a config (and rule
 * files) of the test's, in a temporary directory that {@linkcode PrometheusServer.stop} removes,
 * with its HTTP API wrapped. Prometheus 2.x and 3.x take the same flags.
 * @module
 */
import assert from "node:assert/strict";
import { freePort } from "../../scripts/runtime_flags.ts";
import { waitFor } from "./live_oomhero.ts";

/** Bound of every wait on Prometheus; its first scrape comes within one 1 s interval. */
export const PROMETHEUS_WAIT_MS = 60_000;

/** The installed Prometheus's version, or undefined when it is not installed. */
export function prometheusVersion(): string | undefined {
  try {
    const out = new Deno.Command("prometheus", { args: ["--version"] }).outputSync();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return /version (\d+\.\d+\.\d+)/.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/** The installed promtool's version line, or undefined when it is not installed. */
export function promtoolVersion(): string | undefined {
  try {
    const out = new Deno.Command("promtool", { args: ["--version"] }).outputSync();
    return new TextDecoder().decode(out.stdout).split("\n")[0];
  } catch {
    return undefined;
  }
}

/** One series of an instant query's answer. */
export interface InstantSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** One series of a range query's answer. */
export interface RangeSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

/** An alert as `/api/v1/alerts` lists it. */
export interface ActiveAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: "pending" | "firing";
  value: string;
}

/** A Prometheus started by {@linkcode startPrometheus}. */
export class PrometheusServer {
  /** Its base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The temporary directory holding its config, data and log. */
  readonly dir: string;
  readonly #child: Deno.ChildProcess;
  readonly #logged: Promise<void>;

  constructor(url: string, dir: string, child: Deno.ChildProcess, logged: Promise<void>) {
    this.url = url;
    this.dir = dir;
    this.#child = child;
    this.#logged = logged;
  }

  /** Its log and scrape targets, for failure messages. */
  async describe(): Promise<string> {
    const targets = await fetch(`${this.url}/api/v1/targets`).then((r) => r.text())
      .catch((e) => String(e));
    const log = await Deno.readTextFile(`${this.dir}/prometheus.log`).catch(() => "");
    return `prometheus targets: ${targets}\n--- prometheus log:\n${log}`;
  }

  /** GETs an API path (`/api/v1/…` with its query) and returns `data` of a successful answer. */
  async api<T>(path: string): Promise<T> {
    const response = await fetch(`${this.url}${path}`);
    const body = await response.json();
    assert.equal(body.status, "success", `${path}: ${JSON.stringify(body)}`);
    return body.data as T;
  }

  /** An instant query now. */
  async query(promql: string): Promise<InstantSample[]> {
    const data = await this.api<{ result: InstantSample[] }>(
      `/api/v1/query?query=${encodeURIComponent(promql)}`,
    );
    return data.result;
  }

  /** A range query from `start` to `end` (Unix seconds) every `step` seconds. */
  async queryRange(
    promql: string,
    start: number,
    end: number,
    step: number,
  ): Promise<RangeSeries[]> {
    const params = new URLSearchParams({
      query: promql,
      start: String(start),
      end: String(end),
      step: String(step),
    });
    const data = await this.api<{ result: RangeSeries[] }>(`/api/v1/query_range?${params}`);
    return data.result;
  }

  /** The alerts now pending or firing. */
  async alerts(): Promise<ActiveAlert[]> {
    return (await this.api<{ alerts: ActiveAlert[] }>("/api/v1/alerts")).alerts;
  }

  /** Polls an instant query until it returns at least one series. */
  waitForSeries(promql: string): Promise<InstantSample[]> {
    let describe = "";
    return waitFor(`${promql} in Prometheus`, async () => {
      const result = await this.query(promql);
      if (result.length > 0) return result;
      describe = await this.describe();
    }, { timeoutMs: PROMETHEUS_WAIT_MS, everyMs: 250, describe: () => describe });
  }

  /** Stops it (SIGTERM, SIGKILL when it lingers) and removes its directory. */
  async stop(): Promise<void> {
    await stopChild(this.#child);
    await this.#logged;
    await Deno.remove(this.dir, { recursive: true });
  }
}

/** Stops a child: SIGTERM, then SIGKILL when it lingers 5 s. */
export async function stopChild(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, 5_000);
  await child.status;
  clearTimeout(timer);
}

/**
 * Starts Prometheus with `config` (prometheus.yml text) in a new temporary directory, in which
 * `files` (name → text, e.g. rule files the config names) are written first, and waits until it
 * is ready.
 */
export async function startPrometheus(
  config: string,
  files: Record<string, string> = {},
): Promise<PrometheusServer> {
  const dir = await Deno.makeTempDir({ prefix: "oomhero_prometheus_" });
  const url = `http://127.0.0.1:${freePort()}`;
  let server: PrometheusServer | undefined;
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    await Deno.writeTextFile(`${dir}/prometheus.yml`, config);
    const child = new Deno.Command("prometheus", {
      args: [
        `--config.file=${dir}/prometheus.yml`,
        `--storage.tsdb.path=${dir}/data`,
        `--web.listen-address=${url.slice("http://".length)}`,
        "--log.level=warn",
      ],
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const log = await Deno.open(`${dir}/prometheus.log`, { write: true, create: true });
    const write = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream) await log.write(chunk);
    };
    const logged = Promise.all([write(child.stdout), write(child.stderr)]).then(() => log.close());
    server = new PrometheusServer(url, dir, child, logged);
    const started = server;
    await waitFor("Prometheus's /-/ready", async () => {
      const response = await fetch(`${url}/-/ready`).catch(() => undefined);
      await response?.body?.cancel();
      return response?.ok ? true : undefined;
    }, {
      timeoutMs: PROMETHEUS_WAIT_MS,
      everyMs: 100,
      describe: () => Deno.readTextFileSync(`${started.dir}/prometheus.log`),
    });
    return server;
  } catch (e) {
    if (server) await server.stop();
    else await Deno.remove(dir, { recursive: true });
    throw e;
  }
}
