/**
 * oomhero's own memory limit, read once at startup from its own cgroup (v1 or v2, as the collector
 * reads any process's), and a warning when it is below what oomhero was measured to need: under
 * upstream's `memory: 32Mi` oomhero would start, say "started" and be OOM-killed without a word.
 * @module
 */
import type { Logger } from "../base/log.ts";
import type { ProcessSample } from "../collect/sample.ts";

const MIB = 1024 * 1024;

/**
 * The smallest limit oomhero was measured healthy in (README, Footprint; 72 MiB was not): Deno
 * 2.9.5, 10 watched processes, scraped every second, its binary read from a disk that reads ahead
 * 8 MiB (`scripts/bench-footprint --limit none,72,80,96`). Disks reading ahead 128 KiB need less.
 */
export const NEEDED_MEMORY_BYTES = 80 * MIB;

/** Bytes as a Kubernetes quantity in Mi, e.g. `32Mi`, `95.5Mi`. */
function mebibytes(bytes: number): string {
  const mib = bytes / MIB;
  return `${Number.isInteger(mib) ? mib : mib.toFixed(1)}Mi`;
}

/**
 * Logs what `self`, oomhero's own sample, says of its memory limit, and returns the limit in
 * bytes: 0 when there is none, NaN when it could not be read (said at warn, with the cause).
 */
export function checkOwnLimit(self: ProcessSample | undefined, log: Logger): number {
  const limit = self?.variables.memory_max ?? NaN;
  const needed = mebibytes(NEEDED_MEMORY_BYTES);
  if (Number.isNaN(limit)) {
    log.warn("cannot read oomhero's own memory limit", {
      error: self === undefined ? "its own /proc entry is unreadable" : self.unreadable?.join("; "),
      needed,
    });
  } else if (limit === 0) {
    log.debug("oomhero runs without a memory limit", { needed });
  } else if (limit < NEEDED_MEMORY_BYTES) {
    log.warn("oomhero's memory limit is below what it needs: it may stall or be OOM-killed", {
      limit: mebibytes(limit),
      needed,
      cgroup: self?.source.limitDir,
      fix: `set oomhero's memory limit (resources.limits.memory) to at least ${needed}`,
    });
  } else {
    log.debug("oomhero's memory limit", { limit: mebibytes(limit), needed });
  }
  return limit;
}
