/**
 * oomhero as a benchmark subject: started from source with the production runtime flags, in
 * dry-run mode with thresholds nothing reaches, its metrics on a free loopback port.
 * @module
 */
import { fileURLToPath } from "node:url";
import { freePort, RUNTIME_FLAGS } from "../scripts/runtime_flags.ts";

export { freePort };

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

/** A running oomhero and where its metrics are. */
export interface OomheroSubject {
  /** The process; stop it with SIGTERM. */
  child: Deno.ChildProcess;
  /** The loopback port of /metrics. */
  port: number;
}
/**
 * The production runtime flags (scripts/runtime-flags), with the V8 flags replaced by `v8Flags`
 * when given: how the footprint benchmark weighs other V8 settings.
 */
export function runtimeFlags(v8Flags?: string): string[] {
  if (v8Flags === undefined) return [...RUNTIME_FLAGS];
  return [...RUNTIME_FLAGS.filter((f) => !f.startsWith("--v8-flags=")), `--v8-flags=${v8Flags}`];
}

/**
 * Starts oomhero scanning every `loopInterval`, with other V8 flags when given; resolves once it
 * serves /metrics.
 */
export async function startOomhero(
  loopInterval: string,
  v8Flags?: string,
): Promise<OomheroSubject> {
  const port = freePort();
  const args = [
    "run",
    ...runtimeFlags(v8Flags),
    MAIN,
    "--warning=memory_usage > 99.9",
    "--critical=memory_usage > 99.99",
    `--loop-interval=${loopInterval}`,
    "--dry-run",
    `--metrics-address=127.0.0.1:${port}`,
    "--log-level=warn",
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const deadline = performance.now() + 30_000;
  for (;;) {
    try {
      await scrape(port);
      return { child, port };
    } catch (e) {
      const exited = await Promise.race([child.status, new Promise((r) => setTimeout(r, 100))]);
      if (exited !== undefined) throw new Error(`oomhero exited before serving metrics: ${e}`);
      if (performance.now() > deadline) {
        child.kill("SIGKILL");
        await child.status;
        throw new Error(`oomhero served no metrics within 30 s: ${e}`);
      }
    }
  }
}

/** Stops a subject and waits for it to exit. */
export async function stopOomhero(subject: OomheroSubject): Promise<void> {
  subject.child.kill("SIGTERM");
  await subject.child.status;
}

/** One scrape of /metrics, as Prometheus does it. */
export async function scrape(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  return await response.text();
}

/** The value of the sample line `series` (name plus labels exactly as exposed), or NaN. */
export function sampleValue(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}
