/**
 * KeptFiles against the real kernel (a child process, a memory cgroup of ours) and a regular file.
 * The cgroup test needs root and a writable v1 or v2 memory controller; skipped otherwise.
 */
import assert from "node:assert/strict";
import {
  detectLayout,
  layoutMounts,
  layoutVersion,
  MEMORY_FILES,
} from "../../src/kernel/cgroup.ts";
import { KeptFiles } from "../../src/kernel/kept_files.ts";

/** How many descriptors this process has open. */
function openFds(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

function sleeper(): Deno.ChildProcess {
  return new Deno.Command("sleep", { args: ["60"], stdout: "null", stderr: "null" }).spawn();
}

Deno.test("a process's file stays open, is read afresh each time, and fails once it is gone", async () => {
  const child = sleeper();
  const files = new KeptFiles(10);
  const path = `/proc/${child.pid}/oom_score_adj`;
  try {
    assert.equal(files.readProcessFile(path), "0\n");
    assert.ok(files.has(path));
    const fds = openFds();
    Deno.writeTextFileSync(path, "300");
    // Through the kept descriptor: no new one opened, the new value seen.
    assert.equal(files.readProcessFile(path), "300\n");
    assert.equal(openFds(), fds);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  // Reaped: the descriptor holds a process that no longer exists, whatever has its pid now.
  assert.throws(() => files.readProcessFile(path), /No such process/);
  assert.ok(files.has(path), "left for the caller to close");
  const fds = openFds();
  files.closeAll([path, "/proc/never-opened"]);
  assert.equal(openFds(), fds - 1);
  assert.equal(files.size, 0);
});

Deno.test("regular files are never kept: one replaced under its path is read anew", () => {
  const dir = Deno.makeTempDirSync({ prefix: "oomhero-kept-" });
  try {
    const files = new KeptFiles(10);
    const path = `${dir}/memory.current`;
    Deno.writeTextFileSync(path, "1\n");
    assert.equal(files.read(path), "1\n");
    Deno.writeTextFileSync(`${dir}/next`, "2\n");
    Deno.renameSync(`${dir}/next`, path);
    assert.equal(files.read(path), "2\n");
    assert.equal(files.size, 0);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("past the budget files are read and closed; idle shared files are closed after 64 scans", () => {
  const files = new KeptFiles(2);
  const paths = ["/proc/self/stat", "/proc/self/status", "/proc/self/cgroup"];
  for (const path of paths) assert.ok(files.read(path).length > 0);
  assert.equal(files.size, 2);
  assert.ok(!files.has(paths[2]));
  for (let scan = 0; scan < 200; scan++) {
    // Only the first is read: the second goes idle.
    files.read(paths[0]);
    files.endScan();
  }
  assert.ok(files.has(paths[0]));
  assert.ok(!files.has(paths[1]));
  files.closeAll(paths);
});

/** Where a memory cgroup of our own can be made (probed: made and removed), or why not. */
function memoryCgroup(): { dir: string; file: string } | string {
  if (Deno.uid() !== 0) return "not root";
  const layout = detectLayout("/sys/fs/cgroup");
  if (layout === undefined) return "no cgroupfs";
  const dir = `${
    layoutMounts(layout, "/sys/fs/cgroup").memory
  }/oomhero-kept-${crypto.randomUUID()}`;
  try {
    Deno.mkdirSync(dir);
    Deno.removeSync(dir);
  } catch (e) {
    return `cannot create a memory cgroup: ${(e as Error).message}`;
  }
  return { dir, file: `${dir}/${MEMORY_FILES[layoutVersion(layout)].current}` };
}

const cgroup = memoryCgroup();

Deno.test({
  name: "kernel: a removed cgroup's kept file is closed and its path opened afresh",
  ignore: typeof cgroup === "string",
  fn() {
    if (typeof cgroup === "string") return;
    const files = new KeptFiles(10);
    Deno.mkdirSync(cgroup.dir);
    try {
      assert.equal(files.read(cgroup.file), "0\n");
      assert.ok(files.has(cgroup.file));
    } finally {
      Deno.removeSync(cgroup.dir);
    }
    assert.throws(() => files.read(cgroup.file), Deno.errors.NotFound);
    assert.ok(!files.has(cgroup.file));
    // The same name again is a new cgroup, read by path.
    Deno.mkdirSync(cgroup.dir);
    try {
      assert.equal(files.read(cgroup.file), "0\n");
    } finally {
      files.closeAll([cgroup.file]);
      Deno.removeSync(cgroup.dir);
    }
  },
});
if (typeof cgroup === "string") console.log(`kept_files_test: cgroup test skipped: ${cgroup}`);

Deno.test("a process file read with a reserve is kept only while the reserve stays free", () => {
  const files = new KeptFiles(4);
  const paths = ["/proc/self/stat", "/proc/self/status", "/proc/self/cgroup", "/proc/self/io"];
  files.readProcessFile(paths[0], undefined, 2);
  files.readProcessFile(paths[1], undefined, 2);
  files.readProcessFile(paths[2], undefined, 2);
  assert.deepEqual(paths.map((p) => files.has(p)), [true, true, false, false]);
  // Without a reserve the rest of the budget is there.
  files.readProcessFile(paths[3]);
  assert.ok(files.has(paths[3]));
  files.closeAll(paths);
});
