import assert from "node:assert/strict";
import { KERNEL_FILE_BUFFER_BYTES, readKernelFile } from "../../../src/kernel/kernel_file.ts";

function withFile(text: string, fn: (path: string) => void): void {
  const path = Deno.makeTempFileSync({ prefix: "oomhero-kernel-file-" });
  try {
    Deno.writeTextFileSync(path, text);
    fn(path);
  } finally {
    Deno.removeSync(path);
  }
}

Deno.test("readKernelFile reads a small file whole", () => {
  withFile("some avg10=1.00 avg60=0.50 avg300=0.25 total=1000\n", (path) => {
    assert.equal(readKernelFile(path), Deno.readTextFileSync(path));
  });
});

Deno.test("readKernelFile reads procfs files as the kernel hands them over", () => {
  assert.equal(readKernelFile("/proc/self/cmdline"), Deno.readTextFileSync("/proc/self/cmdline"));
  assert.match(readKernelFile("/proc/self/stat"), new RegExp(`^${Deno.pid} \\(`));
});

Deno.test("readKernelFile stops at the limit", () => {
  withFile("a\0".repeat(50_000), (path) => {
    assert.equal(readKernelFile(path, 10), "a\0a\0a\0a\0a\0");
    assert.equal(readKernelFile(path, KERNEL_FILE_BUFFER_BYTES).length, KERNEL_FILE_BUFFER_BYTES);
  });
});

Deno.test("readKernelFile reads a file longer than its buffer whole", () => {
  const text = "x".repeat(200_000) + "\nend\n";
  withFile(text, (path) => assert.equal(readKernelFile(path), text));
});

Deno.test("readKernelFile decodes UTF-8", () => {
  withFile("µs ünïcödé\n", (path) => assert.equal(readKernelFile(path), "µs ünïcödé\n"));
});

Deno.test("readKernelFile throws NotFound for a missing file", () => {
  assert.throws(() => readKernelFile("/proc/self/no-such-file"), Deno.errors.NotFound);
});
