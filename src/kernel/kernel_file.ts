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
  let length: number;
  try {
    length = file.readSync(buffer.subarray(0, limit ?? KERNEL_FILE_BUFFER_BYTES)) ?? 0;
  } finally {
    file.close();
  }
  // Longer than the buffer and wanted whole: rare enough to read it again the ordinary way.
  if (limit === undefined && length === KERNEL_FILE_BUFFER_BYTES) {
    return Deno.readTextFileSync(path);
  }
  return decoder.decode(buffer.subarray(0, length));
}
