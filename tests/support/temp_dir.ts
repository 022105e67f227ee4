/**
 * A temporary directory for one test file, removed when the file's tests end, failed or not, so
 * that no run leaves files behind in the system's temporary directory.
 * @module
 */

/** Creates a directory named `<prefix><random>` under the temporary directory, removed on unload. */
export function testTempDir(prefix: string): string {
  const dir = Deno.makeTempDirSync({ prefix });
  // "unload" runs once the file's tests are over, whatever their outcome.
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  return dir;
}
