/**
 * Kernel files kept open between scans, within a budget of descriptors: a read through a kept
 * descriptor is `seekSync(0)` and one read, two system calls instead of open, read and close.
 * @module
 */
import { readKernelFile, readOpenKernelFile } from "./kernel_file.ts";

/** One kept descriptor and the scan that last read through it. */
interface KeptFile {
  file: Deno.FsFile;
  usedIn: number;
}

/**
 * Most kernel files kept open, whatever the open-file limit. Each costs the kernel a page of
 * seq_file buffer besides the descriptor, charged to oomhero's memory cgroup: 2,048 are 8 MiB.
 */
export const KEPT_FILES_CAP = 2048;

/** How many scans a shared file may go unread before its descriptor is closed. */
const IDLE_SCANS = 64;

/**
 * The kept descriptors, by path. Only files the kernel renders afresh at each read are kept:
 * they report size 0 (procfs, cgroupfs). A regular file (a test's fixture tree) may be replaced
 * under its path, so it is read by path every time.
 *
 * Two kinds of file, told apart by how a failed read through a kept descriptor is handled:
 * - a process's own file (`/proc/<pid>/…`, {@link KeptFiles.readProcessFile}): the failure is
 *   thrown (ESRCH: the process is gone, even when its pid is reused meanwhile); the caller
 *   forgets the process with {@link KeptFiles.closeAll};
 * - a shared file (cgroupfs, `/proc/pressure`, {@link KeptFiles.read}): it is closed and the
 *   path opened afresh, since a path names a cgroup (a removed cgroup's descriptor throws ENODEV).
 */
export class KeptFiles {
  readonly #budget: number;
  readonly #files = new Map<string, KeptFile>();
  #scan = 0;

  /** At most `budget` descriptors are kept; past it files are opened and closed as usual. */
  constructor(budget: number) {
    this.#budget = budget;
  }

  /** The most descriptors kept. */
  get budget(): number {
    return this.#budget;
  }

  /** How many descriptors are kept. */
  get size(): number {
    return this.#files.size;
  }

  /** Whether `path` has a kept descriptor. */
  has(path: string): boolean {
    return this.#files.has(path);
  }

  /**
   * A process's file, through its kept descriptor when there is one. Throws what the read
   * throws, the descriptor left for {@link closeAll}: ESRCH from a kept one means the process
   * the descriptor was opened on is gone. A new descriptor is kept only while more than
   * `reserve` of the budget is free: room left for files that matter more.
   */
  readProcessFile(path: string, limit?: number, reserve = 0): string {
    const kept = this.#files.get(path);
    if (kept === undefined) return this.#open(path, limit, reserve);
    kept.usedIn = this.#scan;
    return readOpenKernelFile(kept.file, path, limit);
  }

  /** A shared file; a kept descriptor that fails is closed and the path read afresh. */
  read(path: string, limit?: number): string {
    const kept = this.#files.get(path);
    if (kept === undefined) return this.#open(path, limit, 0);
    kept.usedIn = this.#scan;
    try {
      return readOpenKernelFile(kept.file, path, limit);
    } catch {
      this.close(path);
      return this.#open(path, limit, 0);
    }
  }

  /** Closes the kept descriptor of `path`, if any. */
  close(path: string): void {
    const kept = this.#files.get(path);
    if (kept === undefined) return;
    this.#files.delete(path);
    kept.file.close();
  }

  /** Closes the kept descriptors of all of `paths`. */
  closeAll(paths: Iterable<string>): void {
    for (const path of paths) this.close(path);
  }

  /**
   * Ends a scan: closes the descriptors no scan has read through in the last
   * {@link IDLE_SCANS} (a cgroup no watched process is in any more).
   */
  endScan(): void {
    this.#scan++;
    if (this.#scan % IDLE_SCANS !== 0) return;
    for (const [path, kept] of this.#files) {
      if (this.#scan - kept.usedIn > IDLE_SCANS) this.close(path);
    }
  }

  /** Opens `path` and reads it, keeping the descriptor when the budget allows. */
  #open(path: string, limit: number | undefined, reserve: number): string {
    if (this.#files.size >= this.#budget - reserve) return readKernelFile(path, limit);
    const file = Deno.openSync(path);
    let keep = false;
    try {
      const text = readOpenKernelFile(file, path, limit, false);
      keep = file.statSync().size === 0;
      return text;
    } finally {
      if (keep) this.#files.set(path, { file, usedIn: this.#scan });
      else file.close();
    }
  }
}
