/**
 * Full-scan time over real processes, oomhero against the syscall floor (bench/floor.c): for 10,
 * 100, 1,000 and 5,000 `sleep`s in up to 50 memory cgroups, in a PID namespace of its own.
 *
 *   ./scripts/deno run --allow-all bench/scan_time.ts [--counts 10,100,1000,5000] [--scans 20]
 *
 * Per count: the median of `--scans` calls of `Collector.scan()` in this process (wall and CPU
 * time), oomhero's own `oomhero_scan_duration_seconds` histogram from a running oomhero (its mean
 * over the same number of scans), and the floor's median; the ratios are the headline. Needs
 * root, a writable cgroupfs, `unshare` and `cc`.
 * @module
 */
import process from "node:process";
import { benchArgs } from "./args.ts";
import { Collector } from "../src/collect/collector.ts";
import { Logger } from "../src/base/log.ts";
import { floorBinary, floorScan } from "./floor.ts";
import { sampleValue, scrape, startOomhero, stopOomhero } from "./oomhero_subject.ts";
import { enterPidNamespace } from "./pid_namespace.ts";
import { SleepingProcesses } from "./real_processes.ts";

const values = benchArgs(import.meta.url, {
  counts: { type: "string", default: "10,100,1000,5000" },
  scans: { type: "string", default: "20" },
});
const COUNTS = values.counts.split(",").map(Number);
const SCANS = Number(values.scans);

await enterPidNamespace();
floorBinary();

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/** Medians of `SCANS` in-process scans after a warm-up, wall and CPU (all threads) in ms. */
function collectorScan(): { processes: number; median_ms: number; cpu_median_ms: number } {
  const collector = new Collector({
    procfs: "/proc",
    cgroupfs: "/sys/fs/cgroup",
    log: new Logger("error"),
  });
  // Warm up until the JIT has seen a few thousand processes, as in a long-running oomhero.
  let processes = collector.scan().length;
  for (let seen = processes; seen < 5_000; seen += processes) processes = collector.scan().length;
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < SCANS; i++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    processes = collector.scan().length;
    const used = process.cpuUsage(cpuStart);
    wall.push(performance.now() - start);
    cpu.push((used.user + used.system) / 1000);
  }
  return { processes, median_ms: median(wall), cpu_median_ms: median(cpu) };
}

/**
 * Mean scan time from a running oomhero's histogram, over at least `SCANS` scans; NaN, said on
 * stderr, when oomhero does not live that long (at 5,000 processes its metrics outgrow the heap).
 */
async function histogramMean(): Promise<{ scans: number; mean_ms: number }> {
  let subject;
  try {
    subject = await startOomhero("100ms");
  } catch (e) {
    console.error(`no histogram: ${e}`);
    return { scans: 0, mean_ms: NaN };
  }
  try {
    const deadline = performance.now() + 10 * 60_000;
    for (;;) {
      let text;
      try {
        text = await scrape(subject.port);
      } catch (e) {
        console.error(`no histogram: ${e}`);
        return { scans: 0, mean_ms: NaN };
      }
      const count = sampleValue(text, "oomhero_scan_duration_seconds_count");
      if (count >= SCANS) {
        const sum = sampleValue(text, "oomhero_scan_duration_seconds_sum");
        return { scans: count, mean_ms: sum / count * 1000 };
      }
      if (performance.now() > deadline) throw new Error(`only ${count} scans in 10 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await stopOomhero(subject).catch(() => {});
  }
}

const rows = [];
for (const count of COUNTS) {
  const sleepers = await SleepingProcesses.start(count);
  try {
    const floor = floorScan(SCANS);
    const collector = collectorScan();
    const histogram = await histogramMean();
    const row = {
      sleeps: count,
      processes: collector.processes,
      collector_ms: collector.median_ms,
      collector_cpu_ms: collector.cpu_median_ms,
      histogram_mean_ms: histogram.mean_ms,
      floor_ms: floor.median_ms,
      floor_cpu_ms: floor.cpu_median_ms,
      ratio: collector.median_ms / floor.median_ms,
      cpu_ratio: collector.cpu_median_ms / floor.cpu_median_ms,
    };
    rows.push(row);
    console.error(JSON.stringify(row));
  } finally {
    await sleepers.stop();
  }
}

const f = (n: number) => n.toFixed(n < 10 ? 2 : 1);
console.log(
  "| sleeps | processes seen | Collector.scan() median | histogram mean | floor median | ratio " +
    "| CPU: scan / floor | CPU ratio |",
);
console.log("| --: | --: | --: | --: | --: | --: | --: | --: |");
for (const r of rows) {
  console.log(
    `| ${r.sleeps} | ${r.processes} | ${f(r.collector_ms)} ms | ${f(r.histogram_mean_ms)} ms | ` +
      `${f(r.floor_ms)} ms | ${r.ratio.toFixed(2)}× | ${f(r.collector_cpu_ms)} / ` +
      `${f(r.floor_cpu_ms)} ms | ${r.cpu_ratio.toFixed(2)}× |`,
  );
}
