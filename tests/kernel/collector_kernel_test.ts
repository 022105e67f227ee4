/**
 * The collector against the real kernel: a child process in memory cgroups this test creates,
 * and the live /proc. Needs root and a writable cgroupfs; skipped with a printed reason otherwise.
 */
import assert from "node:assert/strict";
import {
  detectLayout,
  joinCgroupPath,
  layoutMounts,
  layoutVersion,
  MEMORY_FILES,
  parseInactiveFile,
  parseMemoryBytes,
  parseMemoryLimit,
} from "../../src/kernel/cgroup.ts";
import { Collector } from "../../src/collect/collector.ts";
import { inspect } from "../../src/scan/inspect.ts";
import { Logger } from "../../src/base/log.ts";
import {
  parsePressure,
  type Pressure,
  PRESSURE_RESOURCES,
  PRESSURE_SEVERITIES,
  PRESSURE_WINDOWS,
} from "../../src/kernel/pressure.ts";
import {
  parseCmdline,
  parseOomScore,
  parseProcCgroup,
  parseStatStartTime,
} from "../../src/kernel/procfs.ts";
import { pressureVariable, type Variables } from "../../src/collect/variables.ts";
import { runOomhero } from "../support/oomhero_process.ts";
import { waitForExec } from "../support/named_process.ts";

const PROCFS = "/proc";
const CGROUPFS = "/sys/fs/cgroup";
const LIMIT = 200 * 1024 * 1024;
const ALLOCATED = 40 * 1024 * 1024;
/** How far a figure may move between our read and the collector's: the child is idle. */
const DRIFT = 2 * 1024 * 1024;
const READY_TIMEOUT_MS = 20_000;
const OOM_SCORE_ADJ = 500;

/** Why these tests cannot run here, or undefined when they can. */
function unavailable(): string | undefined {
  if (Deno.build.os !== "linux") return "not Linux";
  if (Deno.uid() !== 0) return "not root";
  const layout = detectLayout(CGROUPFS);
  if (layout === undefined) return `no cgroupfs at ${CGROUPFS}`;
  const probe = `${layoutMounts(layout, CGROUPFS).memory}/oomhero-probe-${crypto.randomUUID()}`;
  try {
    Deno.mkdirSync(probe);
    Deno.removeSync(probe);
  } catch (e) {
    return `cannot create a memory cgroup: ${(e as Error).message}`;
  }
  try {
    new Deno.Command("python3", { args: ["-c", ""] }).outputSync();
  } catch {
    return "no python3 to allocate memory with";
  }
  return undefined;
}

const SKIP = unavailable();
if (SKIP !== undefined) console.log(`skipping kernel tests: ${SKIP}`);

/** The memory cgroup (and, hybrid, the cgroup2 twin) of one test. */
interface TestCgroup {
  /** The path as /proc/<pid>/cgroup shows it. */
  path: string;
  memoryDir: string;
  /** The directory of the child's *.pressure files, undefined on pure v1. */
  pressureDir: string | undefined;
}

function createCgroup(): TestCgroup {
  const layout = detectLayout(CGROUPFS)!;
  const mounts = layoutMounts(layout, CGROUPFS);
  const name = `oomhero-test-${crypto.randomUUID().slice(0, 8)}`;
  const cgroup: TestCgroup = {
    path: `/${name}`,
    memoryDir: `${mounts.memory}/${name}`,
    pressureDir: mounts.unified === undefined ? undefined : `${mounts.unified}/${name}`,
  };
  Deno.mkdirSync(cgroup.memoryDir);
  if (cgroup.pressureDir !== undefined && cgroup.pressureDir !== cgroup.memoryDir) {
    Deno.mkdirSync(cgroup.pressureDir);
  }
  Deno.writeTextFileSync(
    `${cgroup.memoryDir}/${MEMORY_FILES[layoutVersion(layout)].limit}`,
    `${LIMIT}\n`,
  );
  return cgroup;
}

/** Removes the cgroups once the kernel has let go of the exited child. */
async function removeCgroup(cgroup: TestCgroup): Promise<void> {
  for (const dir of new Set([cgroup.memoryDir, cgroup.pressureDir])) {
    if (dir === undefined) continue;
    // rmdir fails with EBUSY until the kernel has finished tearing the child down.
    for (let attempt = 0;; attempt++) {
      try {
        Deno.removeSync(dir);
        break;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) break;
        if (attempt === 50) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
}

/** A python3 that joins `cgroup` before it starts, touches 40 MiB, prints "ready" and waits. */
interface Child {
  process: Deno.ChildProcess;
  pid: number;
}

async function startChild(cgroup: TestCgroup): Promise<Child> {
  const script = [
    "import sys",
    `b = bytearray(${ALLOCATED})`,
    // calloc'd pages are charged only when written.
    "for i in range(0, len(b), 4096): b[i] = 1",
    "print('ready', flush=True)",
    "sys.stdin.read()",
  ].join("\n");
  // Joining before exec charges all of the child's memory to the test cgroup from the start.
  const join = [cgroup.memoryDir, cgroup.pressureDir]
    .filter((d, i, all): d is string => d !== undefined && all.indexOf(d) === i)
    .map((d) => `echo $$ > ${d}/cgroup.procs`).join("; ");
  const process = new Deno.Command("sh", {
    args: [
      "-c",
      `${join}; echo ${OOM_SCORE_ADJ} > /proc/self/oom_score_adj; exec python3 -c "$0"`,
      script,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const child = { process, pid: process.pid };
  const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`child did not print "ready" in ${READY_TIMEOUT_MS}ms`)),
      READY_TIMEOUT_MS,
    );
  });
  try {
    let out = "";
    while (!out.includes("ready\n")) {
      const { value, done } = await Promise.race([reader.read(), timeout]);
      if (done) throw new Error(`child exited before it was ready: ${out}`);
      out += value;
    }
  } catch (e) {
    await stopChild(child);
    throw e;
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  return child;
}

async function stopChild(child: Child): Promise<void> {
  try {
    child.process.kill("SIGKILL");
  } catch {
    // Already gone.
  }
  await child.process.status;
  await child.process.stdin.close().catch(() => {});
  await child.process.stdout.cancel().catch(() => {});
}

/** Runs `body` with a child in fresh cgroups; cleans both up whatever happens. */
async function withChild(
  body: (child: Child, cgroup: TestCgroup) => void | Promise<void>,
): Promise<void> {
  const cgroup = createCgroup();
  try {
    const child = await startChild(cgroup);
    try {
      await body(child, cgroup);
    } finally {
      await stopChild(child);
    }
  } finally {
    await removeCgroup(cgroup);
  }
}

/** What the kernel says, read by the test itself. */
interface KernelView {
  current: number;
  inactive: number;
  limit: number;
  oomScore: number;
  oomScoreAdj: number;
  pressure: Record<string, number>;
}

function readKernel(pid: number, cgroup: TestCgroup): KernelView {
  const version = layoutVersion(detectLayout(CGROUPFS)!);
  const files = MEMORY_FILES[version];
  const read = (path: string) => Deno.readTextFileSync(path);
  const pressure: Record<string, number> = {};
  for (const resource of PRESSURE_RESOURCES) {
    const parsed: Pressure = parsePressure(
      cgroup.pressureDir === undefined
        ? read(`${PROCFS}/pressure/${resource}`)
        : read(`${cgroup.pressureDir}/${resource}.pressure`),
    );
    for (const severity of PRESSURE_SEVERITIES) {
      for (const window of PRESSURE_WINDOWS) {
        pressure[pressureVariable(resource, severity, window)] = parsed[severity][window];
      }
    }
  }
  return {
    current: parseMemoryBytes(read(`${cgroup.memoryDir}/${files.current}`)),
    inactive: parseInactiveFile(read(`${cgroup.memoryDir}/memory.stat`), version),
    limit: parseMemoryLimit(read(`${cgroup.memoryDir}/${files.limit}`)),
    oomScore: parseOomScore(read(`${PROCFS}/${pid}/oom_score`)),
    oomScoreAdj: parseOomScore(read(`${PROCFS}/${pid}/oom_score_adj`)),
    pressure,
  };
}

function assertBetween(value: number, a: number, b: number, slack: number, what: string) {
  const low = Math.min(a, b) - slack;
  const high = Math.max(a, b) + slack;
  assert.ok(value >= low && value <= high, `${what}: ${value} not in [${low}, ${high}]`);
}

/** Asserts the collector's variables agree with the kernel read just before and just after. */
function assertAgrees(vars: Variables, before: KernelView, after: KernelView) {
  assert.equal(vars.memory_max, LIMIT);
  assert.equal(after.limit, LIMIT);
  assert.ok(vars.memory_current >= ALLOCATED, `memory_current ${vars.memory_current}`);
  assertBetween(vars.memory_current, before.current, after.current, DRIFT, "memory_current");
  assert.equal(vars.memory_usage, vars.memory_current / LIMIT * 100);
  assertBetween(
    vars.memory_working_set,
    before.current - before.inactive,
    after.current - after.inactive,
    DRIFT,
    "memory_working_set",
  );
  assert.equal(vars.memory_working_set_usage, vars.memory_working_set / LIMIT * 100);
  assertBetween(vars.oom_score, before.oomScore, after.oomScore, 0, "oom_score");
  assert.equal(vars.oom_score_adj, OOM_SCORE_ADJ);
  assert.equal(after.oomScoreAdj, OOM_SCORE_ADJ);
  // Totals only grow and averages move at most once in the few ms between the reads.
  for (const [name, value] of Object.entries(after.pressure)) {
    assertBetween(vars[name], before.pressure[name], value, 0, name);
  }
}

Deno.test({
  name: "kernel: a process in a limited memory cgroup, through Collector and inspect()",
  ignore: SKIP !== undefined,
  fn: () =>
    withChild(async (child, cgroup) => {
      const before = readKernel(child.pid, cgroup);
      const log = new Logger("warn");
      const collector = new Collector({ procfs: PROCFS, cgroupfs: CGROUPFS, log });
      const sample = collector.collect(child.pid);
      const json = JSON.parse(
        await inspect({
          procfs: PROCFS,
          cgroupfs: CGROUPFS,
          format: "json",
          pids: [child.pid],
          include: [],
          sampleMs: 0,
        }, log),
      );
      const after = readKernel(child.pid, cgroup);

      assert.ok(sample !== undefined);
      assert.deepEqual(sample.source, {
        version: layoutVersion(collector.layout),
        view: "host",
        path: cgroup.path,
        memoryDir: cgroup.memoryDir,
        limitDir: cgroup.memoryDir,
        memoryMaxScope: "effective",
        pressureSource: cgroup.pressureDir ?? `${PROCFS}/pressure`,
        pressureNote: cgroup.pressureDir === undefined
          ? "cgroup v1 keeps no pressure figures per cgroup"
          : "",
      });
      assert.match(sample.firstArg, /python3$/);
      assert.match(sample.cmdline, /python3 -c import sys\n/);
      assert.equal(
        sample.startTime,
        parseStatStartTime(Deno.readTextFileSync(`${PROCFS}/${child.pid}/stat`)),
      );
      assertAgrees(sample.variables, before, after);

      assert.equal(json.length, 1);
      assert.equal(json[0].pid, child.pid);
      assert.equal(json[0].cgroup, cgroup.path);
      assert.equal(json[0].start_time, sample.startTime);
      assertAgrees(json[0], before, after);
    }),
});

Deno.test({
  name: "kernel: the real CLI, `oomhero inspect --format json --pid N`",
  ignore: SKIP !== undefined,
  fn: () =>
    withChild(async (child, cgroup) => {
      const before = readKernel(child.pid, cgroup);
      // One scan (no --sample), so the figures fall between the test's own two reads.
      const out = await runOomhero([
        "inspect",
        "--format",
        "json",
        "--sample",
        "0",
        "--pid",
        String(child.pid),
      ]);
      const after = readKernel(child.pid, cgroup);
      assert.equal(out.code, 0, out.stderr);
      const json = JSON.parse(out.stdout);
      assert.equal(json.length, 1);
      assert.equal(json[0].pid, child.pid);
      assert.equal(json[0].cgroup, cgroup.path);
      assertAgrees(json[0], before, after);
    }),
});

Deno.test({
  name: "kernel: host view of the live /proc finds a spawned sleep as /proc says it is",
  ignore: Deno.build.os !== "linux" || detectLayout(CGROUPFS) === undefined,
  fn: async () => {
    const sleep = new Deno.Command("sleep", { args: ["1000"], stdin: "null", stdout: "null" })
      .spawn();
    try {
      await waitForExec(sleep.pid, "sleep");
      const log = new Logger("warn");
      const samples = new Collector({ procfs: PROCFS, cgroupfs: CGROUPFS, log }).scan();
      const sample = samples.find((s) => s.pid === sleep.pid);
      assert.ok(sample !== undefined, `pid ${sleep.pid} not in the scan`);
      assert.equal(samples.find((s) => s.pid === Deno.pid), undefined, "oomhero scans itself");
      // Deno passes the program's resolved path as argv[0].
      assert.match(sample.cmdline, /^(\/usr)?(\/bin\/)?sleep 1000$/);
      assert.match(sample.firstArg, /sleep$/);
      assert.deepEqual(
        { cmdline: sample.cmdline, firstArg: sample.firstArg },
        parseCmdline(Deno.readTextFileSync(`${PROCFS}/${sleep.pid}/cmdline`)),
      );
      assert.equal(
        sample.startTime,
        parseStatStartTime(Deno.readTextFileSync(`${PROCFS}/${sleep.pid}/stat`)),
      );
      const cgroups = parseProcCgroup(Deno.readTextFileSync(`${PROCFS}/${sleep.pid}/cgroup`));
      const version = sample.source.version;
      assert.equal(sample.source.path, version === 2 ? cgroups.unified : cgroups.memory);
      assert.equal(sample.source.view, "host");
      const mount = layoutMounts(detectLayout(CGROUPFS)!, CGROUPFS).memory;
      assert.equal(sample.source.memoryDir, joinCgroupPath(mount, sample.source.path));
    } finally {
      sleep.kill("SIGKILL");
      await sleep.status;
    }
  },
});

Deno.test({
  name: "kernel: a known process is read through kept files, closed when it exits",
  ignore: Deno.build.os !== "linux" || detectLayout(CGROUPFS) === undefined,
  fn: async () => {
    const sleep = new Deno.Command("sleep", { args: ["1001"], stdin: "null", stdout: "null" })
      .spawn();
    /** Our descriptors of the child's files: what the collector keeps of it. */
    const fds = () =>
      [...Deno.readDirSync("/proc/self/fd")].filter((e) => {
        try {
          return Deno.readLinkSync(`/proc/self/fd/${e.name}`).startsWith(`/proc/${sleep.pid}/`);
        } catch {
          return false;
        }
      }).length;
    const collector = new Collector({
      procfs: PROCFS,
      cgroupfs: CGROUPFS,
      log: new Logger("warn"),
    });
    const watched = (cmdline: string) => cmdline.endsWith("sleep 1001");
    let exited = false;
    try {
      await waitForExec(sleep.pid, "sleep");
      const first = collector.scan(watched);
      assert.deepEqual(first.map((s) => s.pid), [sleep.pid]);
      const kept = collector.keptFiles;
      assert.ok(kept >= 3, `${kept} files kept: its cgroup, oom_score and oom_score_adj at least`);
      const open = fds();
      assert.ok(open >= 3, `${open} of its files open`);
      for (let i = 0; i < 5; i++) {
        const again = collector.scan(watched);
        assert.deepEqual(again.map((s) => [s.pid, s.startTime]), [[sleep.pid, first[0].startTime]]);
        assert.equal(again[0].variables.oom_score_adj, first[0].variables.oom_score_adj);
      }
      assert.equal(fds(), open, "no descriptor of it opened or leaked by scans of it");
      sleep.kill("SIGKILL");
      await sleep.status;
      exited = true;
      assert.deepEqual(collector.scan(watched), []);
      assert.ok(collector.keptFiles <= kept - 3, "the exited process's files are closed");
      assert.equal(fds(), 0);
    } finally {
      if (!exited) {
        sleep.kill("SIGKILL");
        await sleep.status;
      }
    }
  },
});

Deno.test({
  name: "kernel: a process started or exited between two scans shows in the second",
  ignore: Deno.build.os !== "linux" || detectLayout(CGROUPFS) === undefined,
  fn: async () => {
    const collector = new Collector({
      procfs: PROCFS,
      cgroupfs: CGROUPFS,
      log: new Logger("warn"),
    });
    const watched = (cmdline: string) => cmdline.endsWith("sleep 1002");
    const start = async () => {
      const child = new Deno.Command("sleep", { args: ["1002"], stdin: "null", stdout: "null" })
        .spawn();
      await waitForExec(child.pid, "sleep");
      return child;
    };
    const stop = async (child: Deno.ChildProcess) => {
      child.kill("SIGKILL");
      await child.status;
    };
    const first = await start();
    let second: Deno.ChildProcess | undefined;
    try {
      assert.deepEqual(collector.scan(watched).map((s) => s.pid), [first.pid]);
      // Scans with nothing new in between reuse the listing: still the same.
      assert.deepEqual(collector.scan(watched).map((s) => s.pid), [first.pid]);
      second = await start();
      assert.deepEqual(collector.scan(watched).map((s) => s.pid), [first.pid, second.pid]);
      await stop(first);
      assert.deepEqual(collector.scan(watched).map((s) => s.pid), [second.pid]);
      assert.deepEqual(collector.scan(watched).map((s) => s.pid), [second.pid]);
    } finally {
      await stop(first).catch(() => {});
      if (second !== undefined) await stop(second);
    }
  },
});
