/**
 * `process_open_fds` as prom-client names it, counted by the kernel without listing the
 * descriptors: since Linux 6.2 a stat of `/proc/self/fd` gives their number as its size.
 * prom-client lists the directory every scrape instead, one name string per descriptor.
 * @module
 */
import { Gauge, type Registry } from "./prom_client.ts";

/**
 * The number of open descriptors under `fdDir` (a `/proc/<pid>/fd`): its stat size where the
 * kernel counts them (6.2+), else a listing (0 there: we always hold at least one descriptor).
 */
export function openFdCount(fdDir = "/proc/self/fd"): number {
  const size = Deno.statSync(fdDir).size;
  if (size > 0) return size;
  let count = 0;
  for (const _ of Deno.readDirSync(fdDir)) count++;
  // The listing's own descriptor is among the ones listed.
  return count - 1;
}

/** Registers `process_open_fds` in `registry`, as prom-client's default metric does. */
export function registerOpenFds(registry: Registry): void {
  new Gauge({
    name: "process_open_fds",
    help: "Number of open file descriptors.",
    registers: [registry],
    collect() {
      try {
        this.set(openFdCount());
      } catch {
        // Unreadable: the gauge shows no value rather than a made-up one, as prom-client's.
      }
    },
  });
}
