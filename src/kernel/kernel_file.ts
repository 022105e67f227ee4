/**
 * Reads the small files of procfs and cgroupfs with the fewest system calls: open, one read into
 * a shared buffer, close. `Deno.readTextFileSync` also stats the file, seeks and reads again to
 * find the end; a scan reads every watched process's five files ten times a second, and those
 * three calls are a third of the cost. One read is enough: procfs and cgroupfs hand a whole file
 * to a read that has room for it (seq_file, cmdline), as do regular files (the test fixtures).
 * @module
 */

/** The shared buffer: every kernel file oomhero reads fits, and a longer one is read whole. */
export const KERNEL_FILE_BUFFER_BYTES = 64 * 1024;
const buffer = new Uint8Array(KERNEL_FILE_BUFFER_BYTES);
const decoder = new TextDecoder();

/**
 * The text of `path`, or of its first `limit` bytes (at most {@link KERNEL_FILE_BUFFER_BYTES})
 * when one is given. Throws what `Deno.readTextFileSync` throws: `Deno.errors.NotFound` for a
 * missing file, and so on.
 */
export function readKernelFile(path: string, limit?: number): string {
  const file = Deno.openSync(path);
  try {
    return readOpenKernelFile(file, path, limit, false);
  } finally {
    file.close();
  }
}

/**
 * The text of a file kept open, read again from its start: `seekSync(0)` and one read, two
 * system calls where opening costs three. procfs and cgroupfs render the file afresh at offset
 * 0. A process's file of a process that is gone throws ESRCH ("No such process") even when its
 * pid is reused (the descriptor holds the old process), a removed cgroup's throws ENODEV.
 */
export function readOpenKernelFile(
  file: Deno.FsFile,
  path: string,
  limit?: number,
  rewind = true,
): string {
  if (rewind) file.seekSync(0, Deno.SeekMode.Start);
  const length = file.readSync(buffer.subarray(0, limit ?? KERNEL_FILE_BUFFER_BYTES)) ?? 0;
  // Longer than the buffer and wanted whole: rare enough to read it again the ordinary way.
  if (limit === undefined && length === KERNEL_FILE_BUFFER_BYTES) {
    return Deno.readTextFileSync(path);
  }
  return decoder.decode(buffer.subarray(0, length));
}
