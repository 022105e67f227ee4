/**
 * Bytes retained per watched process between scrapes, by what retains them: the metrics'
 * series (after a scan and a scrape) and the trend history (a full window at a 100 ms loop).
 * Measured as V8 heap used (and ArrayBuffers) after full GCs, N processes against N / 2, for
 * this tree's src/ or another's (`--src DIR`, e.g. a `git archive` of the tree before).
 *
 *   deno run --allow-all --v8-flags=--expose-gc bench/retained.ts [--src DIR] [--processes 5000]
 * @module
 */
import { benchArgs } from "./args.ts";

const values = benchArgs(import.meta.url, {
  src: { type: "string", default: new URL("../src", import.meta.url).pathname },
  processes: { type: "string", default: "5000" },
});
const src = values.src!;
const count = Number(values.processes);
/** A module of `src`: in its stage folder (src/<stage>/), or flat in a tree from before them. */
function module(stage: string, name: string): string {
  try {
    Deno.statSync(`${src}/${stage}/${name}`);
    return `${src}/${stage}/${name}`;
  } catch {
    return `${src}/${name}`;
  }
}
const { Metrics } = await import(module("report", "metrics.ts"));
const { TrendTracker } = await import(module("collect", "trend_tracker.ts"));
const { VARIABLE_NAMES } = await import(module("collect", "variables.ts"));
const { NO_TREND } = await import(module("collect", "trend.ts"));

const gc = (globalThis as unknown as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");

/** V8 heap used plus ArrayBuffer backing stores (the trend history's typed arrays). */
function heapUsed(): number {
  for (let i = 0; i < 3; i++) gc!();
  const usage = Deno.memoryUsage();
  return usage.heapUsed + usage.external;
}

/** A sample of process `pid` as a scan hands it over. */
function sample(pid: number, t: number) {
  const variables: Record<string, number> = {
    ...Object.fromEntries(VARIABLE_NAMES.map((n: string, i: number) => [n, pid + i + 0.5])),
    ...NO_TREND,
  };
  variables.memory_current = 100e6 + pid * 4096 + t * 1000;
  variables.memory_working_set = 90e6 + t * 900;
  variables.memory_max = 1e9;
  return {
    pid,
    startTime: 1_000_000 + pid,
    cmdline: `/usr/bin/java-${pid % 50} -Xmx800m -jar app.jar`,
    firstArg: `/usr/bin/java-${pid % 50}`,
    source: {
      version: 2,
      view: "host",
      path: `/kubepods.slice/kubepods-pod${pid % 50}.slice/cri-containerd-${pid}.scope`,
      memoryDir: "/",
      limitDir: "",
      memoryMaxScope: "effective",
      pressureSource: "",
      pressureNote: "",
    },
    variables,
  };
}

const processes = Array.from({ length: count }, (_, i) => 1000 + i);

/** One scan of `n` processes; not inline, so no suspended frame keeps the samples alive. */
function observe(metrics: { observeScan(s: unknown[], d: number): void }, n: number): void {
  metrics.observeScan(processes.slice(0, n).map((pid) => sample(pid, 0)), 0.001);
}

async function metricsBytes(n: number): Promise<number> {
  const metrics = new Metrics({ version: "bench" });
  const base = heapUsed();
  observe(metrics, n);
  await metrics.render(null);
  // The last scrape's text stays reachable until the next task: wait for it.
  await new Promise((resolve) => setTimeout(resolve, 10));
  const used = heapUsed() - base;
  // Kept alive until measured.
  if (metrics.registry === undefined) throw new Error("unreachable");
  return used;
}

function trendBytes(n: number): number {
  const tracker = new TrendTracker({ windowMs: 30_000, intervalMs: 100 });
  const base = heapUsed();
  // A full 30 s window at a 100 ms loop.
  for (let t = 0; t <= 31_000; t += 100) {
    tracker.update(processes.slice(0, n).map((pid) => sample(pid, t)), t);
  }
  const used = heapUsed() - base;
  if (tracker.size !== n) throw new Error("tracker lost processes");
  return used;
}

// Once untimed, so that compiled code and one-off allocations are not counted; then the
// difference between `count` processes and half as many, so that nothing fixed is.
await metricsBytes(count);
trendBytes(100);
const half = Math.floor(count / 2);
const series = (await metricsBytes(count) - await metricsBytes(half)) / (count - half) * count;
const trend = (trendBytes(count) - trendBytes(half)) / (count - half) * count;
const heapMax = (await import("node:v8")).getHeapStatistics().heap_size_limit;
console.log(JSON.stringify({
  src,
  processes: count,
  seriesBytesPerProcess: Math.round(series / count),
  trendBytesPerProcess: Math.round(trend / count),
  heapLimitMiB: Math.round(heapMax / 2 ** 20),
}));
