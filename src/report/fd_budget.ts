/**
 * How oomhero's open-file limit is shared: a quarter at most for the metrics server's
 * connections, so HTTP clients can never take the descriptors the scans need for /proc and
 * cgroupfs, and half at most for the kernel files the scans keep open (src/kernel/kept_files.ts).
 * @module
 */
import { readKernelFile } from "../kernel/kernel_file.ts";
import { quote } from "../kernel/kernel_text.ts";
import { KEPT_FILES_CAP } from "../kernel/kept_files.ts";

/** Most connections held at once, whatever the limit: scrapers and probes need a handful. */
export const CONNECTION_CAP = 64;
/** At most this share of the open-file limit goes to HTTP clients; the rest stays for scans. */
const CLIENT_SHARE = 1 / 4;

/**
 * The soft limit of "Max open files" in a `/proc/<pid>/limits` text; undefined when it is
 * "unlimited". The file is a fixed-width table:
 *
 * ```
 * Limit                     Soft Limit           Hard Limit           Units
 * Max open files            1024                 1048576              files
 * ```
 * @throws {Error} when the line is missing or garbled.
 */
export function parseOpenFilesLimit(text: string): number | undefined {
  const line = /^Max open files\b.*$/m.exec(text)?.[0];
  if (line === undefined) throw new Error('no "Max open files" line');
  const m = /^Max open files +(\d{1,15}|unlimited) +(?:\d+|unlimited) +files *$/.exec(line);
  if (m === null) throw new Error(`garbled "Max open files" line: ${quote(line)}`);
  return m[1] === "unlimited" ? undefined : Number(m[1]);
}

/** At most this share of the open-file limit is kept open between scans. */
const KEPT_SHARE = 1 / 2;

/**
 * How many kernel files the scans may keep open for an open-file soft limit: half of it, at most
 * {@link KEPT_FILES_CAP}; the full cap when it is unknown or unlimited.
 */
export function keptFilesBudget(openFilesLimit: number | undefined): number {
  if (openFilesLimit === undefined) return KEPT_FILES_CAP;
  return Math.max(0, Math.min(KEPT_FILES_CAP, Math.floor(openFilesLimit * KEPT_SHARE)));
}

/**
 * The connection cap for an open-file soft limit: {@link CONNECTION_CAP}, or a quarter of the
 * limit when that is less (at least 1). Undefined (not known, or unlimited) gives the full cap.
 */
export function connectionCap(openFilesLimit: number | undefined): number {
  if (openFilesLimit === undefined) return CONNECTION_CAP;
  return Math.max(1, Math.min(CONNECTION_CAP, Math.floor(openFilesLimit * CLIENT_SHARE)));
}

/**
 * This process's open-file soft limit, from `/proc/self/limits`; undefined when unlimited.
 * @throws {Error} when the file cannot be read or parsed.
 */
export function readOpenFilesLimit(): number | undefined {
  return parseOpenFilesLimit(readKernelFile("/proc/self/limits"));
}

/** This process's open-file soft limit; undefined when it is unlimited or cannot be read. */
export function knownOpenFilesLimit(): number | undefined {
  try {
    return readOpenFilesLimit();
  } catch {
    return undefined;
  }
}
