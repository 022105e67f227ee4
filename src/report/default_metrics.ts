/**
 * oomhero's own `process_*` and `nodejs_*` metrics under prom-client's default-metric names: the
 * ones that report true values under Deno. Left out: the `nodejs_eventloop_lag_*` gauges (Deno's
 * monitorEventLoopDelay misses a 500 ms block; idle it yields NaN and 9.2e9), `nodejs_active_*`
 * (Deno stubs, always 0 or 1), `nodejs_gc_duration_seconds` (Deno emits no gc performance
 * entries), `nodejs_version_info` (Deno's emulated Node version) and `process_heap_bytes`
 * (VmData: V8's reservations, ~600 MB under a 64 MB heap cap).
 * @module
 */
import { knownOpenFilesLimit } from "./fd_budget.ts";
import { registerOpenFds } from "./open_fds.ts";
import { registerProcessMemory } from "./process_memory.ts";
import {
  Gauge,
  heapSizeAndUsed,
  heapSpacesSizeAndUsed,
  processCpuTotal,
  processStartTime,
  type Registry,
} from "./prom_client.ts";

/**
 * Registers the default metrics in `registry`: prom-client's own where they read nothing but
 * the runtime, ours where prom-client's read files (it loads `node:fs` for them, and lists
 * `/proc/self/fd` and splits all of `/proc/self/status` each scrape).
 */
export function registerDefaultMetrics(registry: Registry): void {
  processCpuTotal(registry);
  processStartTime(registry);
  heapSizeAndUsed(registry);
  heapSpacesSizeAndUsed(registry);
  registerMaxFds(registry);
  registerOpenFds(registry);
  registerProcessMemory(registry);
}

/**
 * `process_max_fds`, the open-file soft limit read once, as prom-client's does; absent when it
 * is unlimited or cannot be read.
 */
function registerMaxFds(registry: Registry): void {
  const limit = knownOpenFilesLimit();
  if (limit === undefined) return;
  new Gauge({
    name: "process_max_fds",
    help: "Maximum number of open file descriptors.",
    registers: [registry],
    collect() {
      this.set(limit);
    },
  });
}
