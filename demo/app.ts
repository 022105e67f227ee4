/**
 * The demo application: it grows a cache steadily, like a service with a slow leak, and listens
 * to oomhero — on the warning signal it drops half of the cache, on the critical signal nine
 * tenths. Run it with `--v8-flags=--expose-gc` so dropped memory goes back to the kernel at once.
 *
 * Usage: app.ts [--step-mib N] [--every-ms N] [--seconds N] [--usage-file F --crossing-bytes N]
 * Prints one line per event and, at the end, `summary {...}` as JSON.
 *
 * With `--usage-file` (its cgroup's memory.current or memory.usage_in_bytes) and `--crossing-bytes`,
 * as the reaction benchmark runs it, the app reads its cgroup's usage after every step; once above
 * N it prints `crossed at T ms` and stops growing, and the warning signal's handler prints
 * `handled at T ms` and drops the whole cache. The next crossing counts once usage has been below
 * N again. T is the app's own monotonic clock.
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "step-mib": { type: "string", default: "4" },
    "every-ms": { type: "string", default: "50" },
    "seconds": { type: "string", default: "15" },
    // Not SIGUSR1: on it `deno run` of Deno 2.9.2+ opens a V8 inspector (README, Troubleshooting).
    "warning-signal": { type: "string", default: "SIGUSR2" },
    "critical-signal": { type: "string", default: "SIGHUP" },
    "usage-file": { type: "string" },
    "crossing-bytes": { type: "string" },
  },
});
const MIB = 1024 * 1024;
const stepBytes = Number(values["step-mib"]) * MIB;
const cache: Uint8Array[] = [];
const counts = { warning: 0, critical: 0 };
let peakMib = 0;
const started = performance.now();
const usageFile = values["usage-file"];
const crossingBytes = Number(values["crossing-bytes"] ?? Infinity);
/** Whether usage crossed `crossingBytes` and no warning has come since. */
let crossed = false;
/** Whether usage was below `crossingBytes` since the last crossing: freed memory takes a moment. */
let armed = true;
/**
 * After a warning, growth resumes after a random pause: otherwise each cycle would start in step
 * with oomhero's scans, and every crossing would fall at the same point between two of them.
 */
let resumeAt = 0;

const cacheMib = () => cache.length * stepBytes / MIB;
const say = (msg: string) =>
  console.log(`[app +${((performance.now() - started) / 1000).toFixed(2)}s] ${msg}`);

/** Drops the given share of the cache and returns its memory to the kernel. */
function shed(share: number, severity: "warning" | "critical"): void {
  const before = cacheMib();
  cache.splice(0, Math.ceil(cache.length * share));
  (globalThis as { gc?: () => void }).gc?.();
  counts[severity]++;
  say(`${severity} signal: dropped ${before - cacheMib()} MiB of cache, ${cacheMib()} MiB left`);
}

Deno.addSignalListener(values["warning-signal"] as Deno.Signal, () => {
  const at = performance.now();
  if (crossed) say(`handled at ${at.toFixed(3)} ms`);
  crossed = false;
  resumeAt = at + Math.random() * 200;
  // Measuring reaction, the whole cache goes, so that usage is below the threshold again.
  shed(usageFile === undefined ? 0.5 : 1, "warning");
});
Deno.addSignalListener(values["critical-signal"] as Deno.Signal, () => shed(0.9, "critical"));

say(`growing ${values["step-mib"]} MiB every ${values["every-ms"]} ms for ${values.seconds}s`);
const timer = setInterval(() => {
  if (crossed || performance.now() < resumeAt) return;
  // fill() touches every page, so the memory is really charged to the cgroup.
  cache.push(new Uint8Array(stepBytes).fill(1));
  peakMib = Math.max(peakMib, cacheMib());
  if (usageFile === undefined) return;
  if (Number(Deno.readTextFileSync(usageFile)) <= crossingBytes) armed = true;
  else if (armed) {
    crossed = true;
    armed = false;
    say(`crossed at ${performance.now().toFixed(3)} ms`);
  }
}, Number(values["every-ms"]));

setTimeout(() => {
  clearInterval(timer);
  say(`done: ${counts.warning} warnings, ${counts.critical} criticals, peak cache ${peakMib} MiB`);
  console.log(`summary ${JSON.stringify({ ...counts, peakCacheMib: peakMib })}`);
  Deno.exit(0);
}, Number(values.seconds) * 1000);
