/**
 * Kernel files kept open between scans, within a budget of descriptors: a read through a kept
 * descriptor is `seekSync(0)` and one read, two system calls instead of open, read and close.
 * @module
 */
import { readKernelFile, readOpenKernelFile } from "./kernel_file.ts";

/** One kept descriptor, whether the kernel holds a buffer for it, the scan that last read it. */
interface KeptFile {
  file: Deno.FsFile;
  buffered: boolean;
  usedIn: number;
}

/**
 * Most kernel files kept open, whatever the open-file limit. Each costs the kernel about 0.2 KiB
 * besides the descriptor, charged to oomhero's memory cgroup; one with a buffer a page more.
 */
export const KEPT_FILES_CAP = 8192;

/**
 * Most kept files with a buffer: a seq_file (every procfs file but {@link UNBUFFERED}, every
 * cgroupfs file) holds a page from its first read until it is closed: 2,048 are 8 MiB.
 */
export const KEPT_BUFFERS_CAP = 2048;

/**
 * The process files the kernel renders straight into the reader's buffer, holding none of its own
 * while open (fs/proc/base.c: `proc_pid_cmdline_ops`, `proc_oom_score_adj_operations`).
 */
const UNBUFFERED: ReadonlySet<string> = new Set(["cmdline", "oom_score_adj"]);

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
  readonly #bufferBudget: number;
  readonly #files = new Map<string, KeptFile>();
  #buffered = 0;
  #scan = 0;

  /**
   * At most `budget` descriptors are kept, `buffers` of them at most with a kernel buffer; past
   * either, files are opened and closed as usual.
   */
  constructor(budget: number, buffers: number = KEPT_BUFFERS_CAP) {
    this.#budget = budget;
    this.#bufferBudget = Math.min(budget, buffers);
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
   * the descriptor was opened on is gone. A new descriptor is kept only while less than `share`
   * of the budget is in use, and of the buffers' too for a buffered file: room left for files
   * that matter more.
   */
  readProcessFile(path: string, limit?: number, share = 1): string {
    const kept = this.#files.get(path);
    if (kept === undefined) return this.#open(path, limit, share);
    kept.usedIn = this.#scan;
    return readOpenKernelFile(kept.file, path, limit);
  }

  /** A shared file; a kept descriptor that fails is closed and the path read afresh. */
  read(path: string, limit?: number): string {
    const kept = this.#files.get(path);
    if (kept === undefined) return this.#open(path, limit, 1);
    kept.usedIn = this.#scan;
    try {
      return readOpenKernelFile(kept.file, path, limit);
    } catch {
      this.close(path);
      return this.#open(path, limit, 1);
    }
  }

  /** Closes the kept descriptor of `path`, if any. */
  close(path: string): void {
    const kept = this.#files.get(path);
    if (kept === undefined) return;
    this.#files.delete(path);
    if (kept.buffered) this.#buffered--;
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

  /** Opens `path` and reads it, keeping the descriptor when `share` of the budgets allows. */
  #open(path: string, limit: number | undefined, share: number): string {
    const buffered = !UNBUFFERED.has(path.slice(path.lastIndexOf("/") + 1));
    if (
      this.#files.size >= this.#budget * share ||
      buffered && this.#buffered >= this.#bufferBudget * share
    ) {
      return readKernelFile(path, limit);
    }
    const file = Deno.openSync(path);
    let keep = false;
    try {
      const text = readOpenKernelFile(file, path, limit, false);
      // Size 0 with text: rendered by the kernel at each read. (An empty file tells nothing: a
      // fixture's regular one, or a kernel thread's command line, read by path from then on.)
      keep = text !== "" && file.statSync().size === 0;
      return text;
    } finally {
      if (keep) {
        this.#files.set(path, { file, buffered, usedIn: this.#scan });
        if (buffered) this.#buffered++;
      } else file.close();
    }
  }
}
