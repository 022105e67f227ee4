/**
 * Scans fixture roots with the real Collector a few times and prints, as JSON, each scan's
 * samples and every line logged: lets a test watch the collector as another user (see
 * as_nobody.ts), where file modes apply.
 *
 * Usage: collector_scans.ts PROCFS CGROUPFS SELF_PID SCANS
 * @module
 */
import { Collector } from "../../src/collect/collector.ts";
import { Logger } from "../../src/base/log.ts";
import type { ProcessSample } from "../../src/collect/sample.ts";

/** What {@link scanTimes} saw. */
export interface Scans {
  /** The samples of each scan, in order. */
  scans: ProcessSample[][];
  /** Every line logged at warn level or above, as JSON objects. */
  warnings: Record<string, unknown>[];
}

/** Runs `count` scans of the roots and collects samples and warnings. */
export function scanTimes(procfs: string, cgroupfs: string, selfPid: number, count: number): Scans {
  const warnings: Record<string, unknown>[] = [];
  const log = new Logger("warn", "json", (line) => warnings.push(JSON.parse(line)));
  const collector = new Collector({ procfs, cgroupfs, log, selfPid });
  const scans = Array.from({ length: count }, () => collector.scan());
  return { scans, warnings };
}

if (import.meta.main) {
  const [procfs, cgroupfs, selfPid, count] = Deno.args;
  console.log(JSON.stringify(scanTimes(procfs, cgroupfs, Number(selfPid), Number(count))));
}
