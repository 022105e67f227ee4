/**
 * The demo application: it grows a cache steadily, like a service with a slow leak, and listens
 * to oomhero — on the warning signal it drops half of the cache, on the critical signal nine
 * tenths. Run it with `--v8-flags=--expose-gc` so dropped memory goes back to the kernel at once.
 *
 * Usage: app.ts [--step-mib N] [--every-ms N] [--seconds N]
 * Prints one line per event and, at the end, `summary {...}` as JSON.
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "step-mib": { type: "string", default: "4" },
    "every-ms": { type: "string", default: "50" },
    "seconds": { type: "string", default: "15" },
    "warning-signal": { type: "string", default: "SIGUSR1" },
    "critical-signal": { type: "string", default: "SIGUSR2" },
  },
});
const MIB = 1024 * 1024;
const stepBytes = Number(values["step-mib"]) * MIB;
const cache: Uint8Array[] = [];
const counts = { warning: 0, critical: 0 };
let peakMib = 0;
const started = performance.now();

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

Deno.addSignalListener(values["warning-signal"] as Deno.Signal, () => shed(0.5, "warning"));
Deno.addSignalListener(values["critical-signal"] as Deno.Signal, () => shed(0.9, "critical"));

say(`growing ${values["step-mib"]} MiB every ${values["every-ms"]} ms for ${values.seconds}s`);
const timer = setInterval(() => {
  // fill() touches every page, so the memory is really charged to the cgroup.
  cache.push(new Uint8Array(stepBytes).fill(1));
  peakMib = Math.max(peakMib, cacheMib());
}, Number(values["every-ms"]));

setTimeout(() => {
  clearInterval(timer);
  say(`done: ${counts.warning} warnings, ${counts.critical} criticals, peak cache ${peakMib} MiB`);
  console.log(`summary ${JSON.stringify({ ...counts, peakCacheMib: peakMib })}`);
  Deno.exit(0);
}, Number(values.seconds) * 1000);
