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
import { type MemoryCgroup, withMemoryCgroup } from "../../demo/memory_cgroup.ts";
import { waitFor } from "../support/live_oomhero.ts";

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
    // Empty, it reports size 0 as a kernel file does: still not kept.
    Deno.writeTextFileSync(`${dir}/cmdline`, "");
    assert.equal(files.readProcessFile(`${dir}/cmdline`), "");
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

Deno.test("a process file read with a share is kept only while less of the budget is in use", () => {
  const files = new KeptFiles(4);
  const paths = ["/proc/self/stat", "/proc/self/status", "/proc/self/cgroup", "/proc/self/io"];
  files.readProcessFile(paths[0], undefined, 1 / 2);
  files.readProcessFile(paths[1], undefined, 1 / 2);
  files.readProcessFile(paths[2], undefined, 1 / 2);
  assert.deepEqual(paths.map((p) => files.has(p)), [true, true, false, false]);
  // With the whole budget the rest of it is there.
  files.readProcessFile(paths[3]);
  assert.ok(files.has(paths[3]));
  files.closeAll(paths);
});

Deno.test("files without a kernel buffer are kept past the buffers' cap, within the budget", () => {
  const files = new KeptFiles(5, 2);
  const buffered = ["/proc/self/stat", "/proc/self/status", "/proc/self/io"];
  const unbuffered = ["/proc/self/cmdline", "/proc/self/oom_score_adj"];
  for (const path of [...buffered, ...unbuffered]) files.readProcessFile(path);
  assert.deepEqual(buffered.map((p) => files.has(p)), [true, true, false]);
  assert.deepEqual(unbuffered.map((p) => files.has(p)), [true, true]);
  // A buffer given back is room for another buffered file; the budget is then full.
  files.close(buffered[0]);
  files.readProcessFile(buffered[2]);
  files.readProcessFile("/proc/self/limits");
  assert.ok(files.has(buffered[2]));
  assert.ok(!files.has("/proc/self/limits"));
  assert.equal(files.size, 4);
  files.closeAll([...buffered, ...unbuffered]);
});

Deno.test("kernel: a kept command line descriptor reads an exec's new command line", async () => {
  const child = new Deno.Command("sh", {
    args: ["-c", "read line; exec sleep 60"],
    stdin: "piped",
    stdout: "null",
  }).spawn();
  const files = new KeptFiles(10);
  const path = `/proc/${child.pid}/cmdline`;
  try {
    assert.match(files.readProcessFile(path), /sh\0-c\0read line; exec sleep 60\0$/);
    assert.ok(files.has(path));
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("go\n"));
    await writer.close();
    // Through the same descriptor: the kernel reads the process's memory as it is now.
    let seen = "";
    await waitFor("the exec", () => {
      seen = files.readProcessFile(path);
      return seen.startsWith("sleep") ? true : undefined;
    }, { everyMs: 10, describe: () => JSON.stringify(seen) });
    assert.equal(seen, "sleep\x0060\0");
  } finally {
    files.closeAll([path]);
    child.kill("SIGKILL");
    await child.status;
  }
});

/** Kernel memory charged to a cgroup: v1's kmem counter, or v2's memory.stat `kernel`. */
function kernelMemoryFile(cgroup: MemoryCgroup): { path: string; key?: string } | string {
  if (cgroup.version === 1) {
    const path = `${cgroup.dir}/memory.kmem.usage_in_bytes`;
    try {
      Deno.statSync(path);
      return { path };
    } catch {
      return "cgroup v1 without kernel memory accounting";
    }
  }
  return /^kernel \d+$/m.test(Deno.readTextFileSync(`${cgroup.dir}/memory.stat`))
    ? { path: `${cgroup.dir}/memory.stat`, key: "kernel" }
    : "cgroup v2 whose memory.stat has no kernel line";
}

/** Per kind of file, what keeping `count` descriptors of it open costs the kernel. */
const KERNEL_MEMORY_PROBE = `
const [pid, path, key, count] = Deno.args;
const kernel = () => {
  const text = Deno.readTextFileSync(path);
  return Number(key ? new RegExp("^" + key + " (\\\\d+)$", "m").exec(text)[1] : text);
};
const buffer = new Uint8Array(4096);
const out = {};
for (const kind of ["cmdline", "oom_score_adj", "oom_score", "cgroup", "stat"]) {
  const file = "/proc/" + pid + "/" + kind;
  const warm = Deno.openSync(file);
  warm.readSync(buffer);
  warm.close();
  const before = kernel();
  const kept = Array.from({ length: Number(count) }, () => {
    const f = Deno.openSync(file);
    f.readSync(buffer);
    return f;
  });
  out[kind] = (kernel() - before) / kept.length;
  for (const f of kept) f.close();
}
console.log(JSON.stringify(out));
`;

Deno.test({
  name: "kernel: a kept cmdline or oom_score_adj holds no kernel page; oom_score, cgroup, stat one",
  ignore: typeof cgroup === "string",
  async fn() {
    const target = sleeper();
    try {
      await withMemoryCgroup("oomhero-kept", 1 << 30, async (memory) => {
        const kernel = kernelMemoryFile(memory);
        if (typeof kernel === "string") {
          console.log(`kept_files_test: kernel memory test skipped: ${kernel}`);
          return;
        }
        // Charged to the cgroup the opening process is in: a child started inside it.
        const argv = memory.wrap([
          Deno.execPath(),
          "eval",
          KERNEL_MEMORY_PROBE,
          String(target.pid),
          kernel.path,
          kernel.key ?? "",
          "1000",
        ]);
        const probe = await new Deno.Command(argv[0], { args: argv.slice(1), stderr: "inherit" })
          .output();
        assert.equal(probe.code, 0);
        const perFile: Record<string, number> = JSON.parse(
          new TextDecoder().decode(probe.stdout),
        );
        // The charge is counted in batches of 64 pages a CPU: 1,000 files put it past that noise.
        for (const kind of ["cmdline", "oom_score_adj"]) {
          assert.ok(perFile[kind] < 1024, `${kind}: ${JSON.stringify(perFile)}`);
        }
        for (const kind of ["oom_score", "cgroup", "stat"]) {
          assert.ok(perFile[kind] >= 3072, `${kind}: ${JSON.stringify(perFile)}`);
        }
      });
    } finally {
      target.kill("SIGKILL");
      await target.status;
    }
  },
});
