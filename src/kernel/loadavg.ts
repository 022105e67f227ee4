/**
 * The parser of `/proc/loadavg`, kept to the one field oomhero uses: the last pid allocated.
 * @module
 */
import { finiteNumber, quote } from "./kernel_text.ts";

/**
 * Returns the last pid allocated in the reader's pid namespace from `/proc/loadavg` (proc(5)):
 * three load averages, runnable/total scheduling entities, then that pid, which moves with every
 * process and thread created in the namespace and those below it:
 *
 * ```
 * 0.57 0.31 0.22 2/1207 12345
 * ```
 * @throws {Error} quoting the file when it has not five fields or the last is not a pid.
 */
export function parseLoadavgLastPid(text: string): number {
  const fields = text.trim().split(" ");
  const last = fields[4] ?? "";
  if (fields.length !== 5 || !/^\d+$/.test(last)) {
    throw new Error(`not a loadavg line: ${quote(text)}`);
  }
  return finiteNumber(last);
}
