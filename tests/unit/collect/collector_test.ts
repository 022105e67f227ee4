import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import { Collector } from "../../../src/collect/collector.ts";
import { Logger } from "../../../src/base/log.ts";
import type { ProcessSample } from "../../../src/collect/sample.ts";
import { NO_TREND } from "../../../src/collect/trend.ts";
import { UsageError } from "../../../src/base/usage_error.ts";
import {
  pressureVariable,
  VARIABLE_NAMES,
  type Variables,
} from "../../../src/collect/variables.ts";
import {
  ALL_NEEDS,
  EVERY_FIGURE,
  type Needs,
  NO_NEEDS,
  variablesOf,
} from "../../../src/collect/needs.ts";
import {
  PRESSURE_RESOURCES,
  PRESSURE_SEVERITIES,
  PRESSURE_WINDOWS,
} from "../../../src/kernel/pressure.ts";
import { copyFixture, fixture, type FixtureLayout } from "../../support/fixture_paths.ts";
import { type CapturedLog, captureLog as capture } from "../../support/log_capture.ts";

/** avg10, avg60, avg300, total. */
type Line = [number, number, number, number];
/** `some` and `full` of memory, io and cpu. */
type Psi = Record<"memory" | "io" | "cpu", [Line, Line]>;

const ZERO: Line = [0, 0, 0, 0];
/** A PSI line whose file could not be read: unreadable, never 0. */
const UNREAD: Line = [NaN, NaN, NaN, NaN];
const NO_PSI: Psi = { memory: [ZERO, ZERO], io: [ZERO, ZERO], cpu: [ZERO, ZERO] };
/** tests/fixtures/<layout>/proc/pressure/*: the same in every layout. */
const SYSTEM_PSI: Psi = {
  memory: [[0.1, 0.2, 0.3, 1000], [0.01, 0.02, 0.03, 500]],
  io: [[0.4, 0.5, 0.6, 2000], [0.04, 0.05, 0.06, 1500]],
  cpu: [[0.7, 0.8, 0.9, 3000], ZERO],
};

interface MemoryFigures {
  memory_current: number;
  memory_max: number;
  memory_usage: number;
  memory_working_set: number;
  memory_working_set_usage: number;
  oom_score: number;
  oom_score_adj: number;
}

/**
 * Every variable a scan reads, spelled out, so a test asserts all of them: all but the trends,
 * which the monitor's tracker fits to the scans' history.
 */
function variables(memory: MemoryFigures, psi: Psi): Variables {
  const out: Variables = { ...memory };
  for (const resource of PRESSURE_RESOURCES) {
    PRESSURE_SEVERITIES.forEach((severity, s) => {
      PRESSURE_WINDOWS.forEach((window, w) => {
        out[pressureVariable(resource, severity, window)] = psi[resource][s][w];
      });
    });
  }
  assert.deepEqual(
    Object.keys(out).sort(),
    VARIABLE_NAMES.filter((name) => !Object.hasOwn(NO_TREND, name)).sort(),
  );
  return out;
}

function warnings(c: CapturedLog): [unknown, unknown][] {
  return c.lines.filter((l) => l.level === "warn" && l.pid !== undefined).map((l) => [
    l.pid,
    l.reason,
  ]);
}

function collector(layout: FixtureLayout, log: Logger, selfPid = 999): Collector {
  return new Collector({ ...fixture(layout), log, selfPid });
}

function byPid(samples: ProcessSample[]): Map<number, ProcessSample> {
  return new Map(samples.map((s) => [s.pid, s]));
}

Deno.test("v2 host view: every process with its cgroup's figures", () => {
  const { procfs, cgroupfs } = fixture("v2-host");
  const captured = capture();
  const samples = collector("v2-host", captured.log, 105).scan();
  // 2 is a kernel thread, 104 vanished (no stat), 105 is oomhero itself.
  assert.deepEqual(samples.map((s) => s.pid), [1, 100, 101, 102, 103, 106]);
  const s = byPid(samples);

  const pod = `${cgroupfs}/kubepods.slice/kubepods-pod1.slice`;
  const app = `${pod}/cri-containerd-aaa.scope`;
  const appPsi: Psi = {
    memory: [[1.5, 0.75, 0.25, 123456], [0.5, 0.25, 0.1, 65432]],
    io: [[2, 1, 0.5, 222222], [1, 0.5, 0.25, 111111]],
    cpu: [[3.25, 2.5, 1.75, 333333], ZERO],
  };
  // The container says max; its pod holds the limit.
  const appMemory = {
    memory_current: 134217728,
    memory_max: 536870912,
    memory_usage: 25,
    memory_working_set: 100663296,
    memory_working_set_usage: 18.75,
  };
  assert.deepEqual(s.get(100), {
    pid: 100,
    startTime: 5000,
    cmdline: "java -Xmx256m -jar app.jar",
    firstArg: "java",
    source: {
      version: 2,
      view: "host",
      path: "/kubepods.slice/kubepods-pod1.slice/cri-containerd-aaa.scope",
      memoryDir: app,
      limitDir: pod,
      memoryMaxScope: "effective",
      pressureSource: app,
      pressureNote: "",
    },
    variables: variables({ ...appMemory, oom_score: 680, oom_score_adj: 500 }, appPsi),
  });
  assert.equal(s.get(101)?.startTime, 5100);
  assert.equal(s.get(101)?.cmdline, "/bin/sh -c sleep 1000");
  assert.deepEqual(s.get(101)?.source, s.get(100)?.source);
  assert.deepEqual(
    s.get(101)?.variables,
    variables({ ...appMemory, oom_score: 650, oom_score_adj: 500 }, appPsi),
  );

  // No limit anywhere up the tree; pid 1 is kept (the signaller refuses it, inspect shows it).
  assert.deepEqual(s.get(1)?.source, {
    version: 2,
    view: "host",
    path: "/init.scope",
    memoryDir: `${cgroupfs}/init.scope`,
    limitDir: "",
    memoryMaxScope: "effective",
    pressureSource: `${cgroupfs}/init.scope`,
    pressureNote: "",
  });
  assert.deepEqual(
    s.get(1)?.variables,
    variables({
      memory_current: 8388608,
      memory_max: 0,
      memory_usage: 0,
      memory_working_set: 7340032,
      memory_working_set_usage: 0,
      oom_score: 0,
      oom_score_adj: 0,
    }, NO_PSI),
  );

  // Malformed memory.stat: the working set is all of usage. No pressure files: system-wide.
  const broken = `${cgroupfs}/system.slice/broken.service`;
  assert.deepEqual(s.get(102)?.source, {
    version: 2,
    view: "host",
    path: "/system.slice/broken.service",
    memoryDir: broken,
    limitDir: broken,
    memoryMaxScope: "effective",
    pressureSource: `${procfs}/pressure`,
    pressureNote: `no *.pressure files in ${broken} (per-cgroup PSI is off)`,
  });
  assert.deepEqual(
    s.get(102)?.variables,
    variables({
      memory_current: 104857600,
      memory_max: 209715200,
      memory_usage: 50,
      memory_working_set: 104857600,
      memory_working_set_usage: 50,
      oom_score: 10,
      oom_score_adj: 0,
    }, SYSTEM_PSI),
  );

  // Missing memory.stat; only memory.pressure present: io and cpu are unreadable.
  const nostat = `${cgroupfs}/system.slice/nostat.service`;
  assert.equal(s.get(103)?.source.pressureSource, nostat);
  assert.deepEqual(
    s.get(103)?.variables,
    variables({
      memory_current: 52428800,
      memory_max: 104857600,
      memory_usage: 50,
      memory_working_set: 52428800,
      memory_working_set_usage: 50,
      oom_score: 20,
      oom_score_adj: -100,
    }, {
      memory: [[4, 3, 2, 444], [1, 0.75, 0.5, 44]],
      io: [UNREAD, UNREAD],
      cpu: [UNREAD, UNREAD],
    }),
  );

  // Malformed oom_score and memory.pressure, missing cpu.pressure: unreadable (NaN), not 0; the
  // rest is still read.
  assert.deepEqual(
    s.get(106)?.variables,
    variables({
      memory_current: 10485760,
      memory_max: 20971520,
      memory_usage: 50,
      memory_working_set: 10485760,
      memory_working_set_usage: 50,
      oom_score: NaN,
      oom_score_adj: 0,
    }, { memory: [UNREAD, UNREAD], io: [[0.25, 0, 0, 5], [0, 0, 0, 1]], cpu: [UNREAD, UNREAD] }),
  );

  assert.deepEqual(warnings(captured), [
    [102, `${broken}/memory.stat: inactive_file is "lots"`],
    [103, `${nostat}/memory.stat: not found`],
    [103, `${nostat}/io.pressure: not found`],
    [103, `${nostat}/cpu.pressure: not found`],
    [106, `${procfs}/106/oom_score: not an integer: "abc"`],
    [
      106,
      `${cgroupfs}/system.slice/badpsi.service/memory.pressure: avg10 is "x" in ` +
      "some avg10=x avg60=0.00 avg300=0.00 total=0",
    ],
    [106, `${cgroupfs}/system.slice/badpsi.service/cpu.pressure: not found`],
  ]);
  assert.ok(captured.lines.every((l) => l.level !== "error"));
  // System-wide pressure (pid 102) is said once, with why.
  assert.deepEqual(captured.lines.filter((l) => l.level === "info").map((l) => l.why), [
    `no *.pressure files in ${broken} (per-cgroup PSI is off)`,
  ]);
});

Deno.test("warnings are given once per process and reason, not once per scan", () => {
  const captured = capture();
  const c = collector("v2-host", captured.log, 105);
  c.scan();
  const first = warnings(captured).length;
  c.scan();
  c.scan();
  assert.equal(first, 7);
  assert.equal(warnings(captured).length, first);
});

Deno.test("a scan reads and warns about only the processes it is told to watch", () => {
  const captured = capture();
  const c = collector("v2-host", captured.log, 105);
  const everything = byPid(c.scan());
  const asked: string[] = [];
  const watched = c.scan((cmdline) => {
    asked.push(cmdline);
    return cmdline.startsWith("java ");
  });
  assert.deepEqual(watched, [everything.get(100)]);
  // Asked once per process with a command line: not for the kernel thread, the vanished one or
  // oomhero itself.
  assert.equal(asked.length, 6);
  const fresh = capture();
  collector("v2-host", fresh.log, 105).scan((cmdline) => cmdline.startsWith("java "));
  // Unwatched, 102, 103 and 106 have broken files that would warn (see the host view test).
  assert.deepEqual(warnings(fresh), []);
});

Deno.test("warnings of an exited process are forgotten; its pid warns again when reused", () => {
  const copy = copyFixture("v2-host");
  try {
    const captured = capture();
    const c = new Collector({ ...copy, log: captured.log, selfPid: 105 });
    c.scan();
    const stat = Deno.readTextFileSync(`${copy.procfs}/103/stat`);
    Deno.removeSync(`${copy.procfs}/103`, { recursive: true });
    c.scan();
    cpSync(`${fixture("v2-host").procfs}/103`, `${copy.procfs}/103`, { recursive: true });
    Deno.writeTextFileSync(`${copy.procfs}/103/stat`, stat);
    c.scan();
    // Three problems (memory.stat, io.pressure, cpu.pressure), warned again for the newcomer.
    assert.equal(warnings(captured).filter(([pid]) => pid === 103).length, 6);
  } finally {
    Deno.removeSync(copy.dir, { recursive: true });
  }
});

Deno.test("v2 container view: a sidecar reads other containers through /proc/<pid>/root", () => {
  const { procfs, cgroupfs } = fixture("v2-container");
  const captured = capture();
  const s = byPid(collector("v2-container", captured.log, 31).scan());
  assert.deepEqual([...s.keys()], [1, 20, 30]);

  const app = `${procfs}/20/root/sys/fs/cgroup`;
  assert.deepEqual(s.get(20), {
    pid: 20,
    startTime: 9000,
    cmdline: "node server.js",
    firstArg: "node",
    source: {
      version: 2,
      view: "container",
      path: "/../cri-containerd-app.scope",
      memoryDir: app,
      limitDir: app,
      memoryMaxScope: "own",
      pressureSource: app,
      pressureNote: "",
    },
    variables: variables({
      memory_current: 314572800,
      memory_max: 1073741824,
      memory_usage: 29.296875,
      memory_working_set: 262144000,
      memory_working_set_usage: 24.4140625,
      oom_score: 900,
      oom_score_adj: 900,
    }, {
      memory: [[5, 4, 3, 555], [2, 1.5, 1, 55]],
      io: [[0, 0, 0, 66], [0, 0, 0, 6]],
      cpu: [[7, 6, 5, 777], [0, 0, 0, 7]],
    }),
  });

  // The pause container has no PSI files and no limit.
  const pause = `${procfs}/1/root/sys/fs/cgroup`;
  assert.deepEqual(s.get(1)?.source, {
    version: 2,
    view: "container",
    path: "/../cri-containerd-pause.scope",
    memoryDir: pause,
    limitDir: "",
    memoryMaxScope: "own",
    pressureSource: `${procfs}/pressure`,
    pressureNote: `no *.pressure files in ${pause} (per-cgroup PSI is off)`,
  });
  assert.deepEqual(
    s.get(1)?.variables,
    variables({
      memory_current: 1048576,
      memory_max: 0,
      memory_usage: 0,
      memory_working_set: 1048576,
      memory_working_set_usage: 0,
      oom_score: 2,
      oom_score_adj: -998,
    }, SYSTEM_PSI),
  );

  // Our own container's processes are at the root of our mount: the host view.
  assert.deepEqual(s.get(30)?.source, {
    version: 2,
    view: "host",
    path: "/",
    memoryDir: cgroupfs,
    limitDir: cgroupfs,
    memoryMaxScope: "own",
    pressureSource: cgroupfs,
    pressureNote: "",
  });
  assert.deepEqual(
    s.get(30)?.variables,
    variables({
      memory_current: 20971520,
      memory_max: 67108864,
      memory_usage: 31.25,
      memory_working_set: 20971520,
      memory_working_set_usage: 31.25,
      oom_score: 10,
      oom_score_adj: 0,
    }, NO_PSI),
  );
  // v2 in a private cgroup namespace hides the pod's cgroup: said once, with what to do.
  const warned = captured.lines.filter((l) => l.level === "warn");
  assert.deepEqual(warned.map((l) => l.msg), [
    "memory limits set above a container's own cgroup cannot be seen",
  ]);
  assert.match(String(warned[0].fix), /host view \(a DaemonSet .*--cgroupfs/);
});

Deno.test("v1 container view: memory from the container's v1 mount, pressure system-wide", () => {
  const { procfs } = fixture("v1-container");
  const captured = capture();
  const s = byPid(collector("v1-container", captured.log).scan());
  assert.deepEqual([...s.keys()], [40, 50]);

  const app = `${procfs}/50/root/sys/fs/cgroup/memory`;
  assert.deepEqual(s.get(50), {
    pid: 50,
    startTime: 200,
    cmdline: "ruby app.rb -p 8080",
    firstArg: "ruby",
    source: {
      version: 1,
      view: "container",
      path: "/kubepods/burstable/pod-1/app",
      memoryDir: app,
      limitDir: app,
      memoryMaxScope: "effective",
      pressureSource: `${procfs}/pressure`,
      pressureNote: "cgroup v1 keeps no pressure figures per cgroup",
    },
    // total_inactive_file (20 MiB) wins over inactive_file (1 MiB).
    variables: variables({
      memory_current: 157286400,
      memory_max: 268435456,
      memory_usage: 58.59375,
      memory_working_set: 136314880,
      memory_working_set_usage: 50.78125,
      oom_score: 580,
      oom_score_adj: 300,
    }, SYSTEM_PSI),
  });

  // limit_in_bytes 9223372036854771712: no limit.
  assert.equal(s.get(40)?.source.limitDir, "");
  assert.deepEqual(
    s.get(40)?.variables,
    variables({
      memory_current: 33554432,
      memory_max: 0,
      memory_usage: 0,
      memory_working_set: 25165824,
      memory_working_set_usage: 0,
      oom_score: 1,
      oom_score_adj: 0,
    }, SYSTEM_PSI),
  );
  assert.deepEqual(warnings(captured), []);
});

Deno.test("hybrid host view: memory from v1, pressure from the unified tree", () => {
  const { procfs, cgroupfs } = fixture("hybrid-host");
  const captured = capture();
  const s = byPid(collector("hybrid-host", captured.log).scan());
  assert.deepEqual([...s.keys()], [1, 60]);

  assert.deepEqual(s.get(60), {
    pid: 60,
    startTime: 300,
    cmdline: "python3 worker.py",
    firstArg: "python3",
    source: {
      version: 1,
      view: "host",
      path: "/user.slice/app",
      memoryDir: `${cgroupfs}/memory/user.slice/app`,
      limitDir: `${cgroupfs}/memory/user.slice`,
      memoryMaxScope: "effective",
      pressureSource: `${cgroupfs}/unified/user.slice/app.scope`,
      pressureNote: "",
    },
    variables: variables({
      memory_current: 268435456,
      memory_max: 1073741824,
      memory_usage: 25,
      memory_working_set: 201326592,
      memory_working_set_usage: 18.75,
      oom_score: 700,
      oom_score_adj: 200,
    }, {
      memory: [[8, 7, 6, 888], [4, 3.5, 3, 88]],
      io: [[0.5, 0.25, 0, 99], [0.25, 0, 0, 9]],
      cpu: [[9, 8, 7, 1111], [1, 0.5, 0.25, 111]],
    }),
  });

  // At the v1 root, with a unified path we cannot see: system-wide pressure.
  assert.deepEqual(s.get(1)?.source, {
    version: 1,
    view: "host",
    path: "/",
    memoryDir: `${cgroupfs}/memory`,
    limitDir: "",
    memoryMaxScope: "effective",
    pressureSource: `${procfs}/pressure`,
    pressureNote: `no *.pressure files in ${cgroupfs}/unified/init.scope (per-cgroup PSI is off)`,
  });
  assert.deepEqual(
    s.get(1)?.variables,
    variables({
      memory_current: 2147483648,
      memory_max: 0,
      memory_usage: 0,
      memory_working_set: 1610612736,
      memory_working_set_usage: 0,
      oom_score: 0,
      oom_score_adj: 0,
    }, SYSTEM_PSI),
  );
  assert.deepEqual(warnings(captured), []);
});

Deno.test("collect reads one process; kernel threads and vanished ones are undefined", () => {
  const captured = capture();
  const c = collector("v2-host", captured.log, 105);
  const scanned = byPid(c.scan());
  assert.deepEqual(c.collect(100), scanned.get(100));
  assert.equal(c.collect(2), undefined);
  assert.equal(c.collect(104), undefined);
  assert.equal(c.collect(4242), undefined);
  // Our own pid is only left out of scans.
  assert.equal(c.collect(105)?.cmdline, "oomhero --warning memory_usage > 75");
});

Deno.test("readStartTime reads field 22 now, undefined when the process is gone", () => {
  const c = collector("v2-host", new Logger("error"));
  assert.equal(c.readStartTime(100), 5000);
  assert.equal(c.readStartTime(1), 1);
  assert.equal(c.readStartTime(104), undefined);
  assert.equal(c.readStartTime(4242), undefined);
});

Deno.test("readSignalMasks reads status now; an unreadable one throws naming the file", () => {
  const c = collector("v2-host", new Logger("error"));
  assert.equal(c.readSignalMasks(100).caught, (1n << 1n) | (1n << 9n));
  assert.equal(c.readSignalMasks(101).ignored, 6n);
  assert.throws(() => c.readSignalMasks(4242), /proc\/4242\/status: not found/);
});

Deno.test("a huge command line is read only up to 64 KiB", () => {
  const copy = copyFixture("v2-host");
  try {
    Deno.writeTextFileSync(`${copy.procfs}/101/cmdline`, "x".repeat(10 * 1024 * 1024) + "\0");
    const c = new Collector({ ...copy, log: new Logger("error"), selfPid: 105 });
    const sample = c.collect(101);
    assert.equal(sample?.cmdline.length, 64 * 1024);
    assert.equal(sample?.firstArg.length, 64 * 1024);
  } finally {
    Deno.removeSync(copy.dir, { recursive: true });
  }
});

Deno.test("a cgroup that is nowhere to be found is unreadable with its cause, never 0", () => {
  const copy = copyFixture("v2-host");
  try {
    Deno.removeSync(`${copy.cgroupfs}/system.slice/nostat.service`, { recursive: true });
    // A host process: its mountinfo has the whole cgroup2 tree at /sys/fs/cgroup.
    Deno.writeTextFileSync(
      `${copy.procfs}/103/mountinfo`,
      "30 1 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw\n",
    );
    const captured = capture();
    const sample = new Collector({ ...copy, log: captured.log, selfPid: 105 }).collect(103);
    assert.deepEqual(sample?.source, {
      version: 2,
      view: "host",
      path: "/system.slice/nostat.service",
      memoryDir: "",
      limitDir: "",
      memoryMaxScope: "own",
      pressureSource: "",
      pressureNote: "",
    });
    const why = "cgroup /system.slice/nostat.service: " +
      `${copy.procfs}/103/root/sys/fs/cgroup/system.slice/nostat.service not found ` +
      "(removed, or the process moved on)";
    assert.deepEqual(sample?.unreadable, [why]);
    for (const name of VARIABLE_NAMES) {
      // Only the process's own files are still read.
      if (name === "oom_score" || name === "oom_score_adj") continue;
      if (Object.hasOwn(NO_TREND, name)) continue;
      assert.ok(Number.isNaN(sample?.variables[name]), `${name} is ${sample?.variables[name]}`);
    }
    assert.equal(sample?.variables.oom_score, 20);
    // Memory and pressure fail for the same reason: one warning.
    assert.deepEqual(warnings(captured), [[103, why]]);
  } finally {
    Deno.removeSync(copy.dir, { recursive: true });
  }
});

Deno.test("a wrong procfs or cgroupfs is a usage error naming the flag", () => {
  const { procfs, cgroupfs } = fixture("v2-host");
  const log = new Logger("error");
  assert.throws(
    () => new Collector({ procfs: "/nope", cgroupfs, log }),
    (e: unknown) =>
      e instanceof UsageError && e.input === "--procfs" &&
      e.problem === "/nope does not exist",
  );
  assert.throws(
    () => new Collector({ procfs, cgroupfs: procfs, log }),
    (e: unknown) =>
      e instanceof UsageError && e.input === "--cgroupfs" &&
      e.problem.startsWith(`${procfs} is not a cgroupfs mount (no cgroup.controllers`),
  );
});

Deno.test("ancestors lists a process's parent chain from the live procfs, by pid and start time", async () => {
  // sh stays as the parent of sleep because it has more to run after it.
  const child = new Deno.Command("sh", { args: ["-c", "sleep 30; true"], stdin: "null" }).spawn();
  try {
    const log = new Logger("error", "text", () => {});
    let sleepPid: number | undefined;
    for (let i = 0; i < 200 && sleepPid === undefined; i++) {
      const kids = Deno.readTextFileSync(`/proc/${child.pid}/task/${child.pid}/children`).trim();
      if (kids) sleepPid = Number(kids.split(" ")[0]);
      else await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(sleepPid, "sleep started");
    const probe = new Collector({ procfs: "/proc", cgroupfs: "/sys/fs/cgroup", log });
    const chain = new Collector({
      procfs: "/proc",
      cgroupfs: "/sys/fs/cgroup",
      log,
      selfPid: sleepPid,
    })
      .ancestors();
    assert.deepEqual(chain.slice(0, 2), [
      { pid: child.pid, startTime: probe.readStartTime(child.pid) },
      { pid: Deno.pid, startTime: probe.readStartTime(Deno.pid) },
    ]);
    assert.ok(chain.every((a) => a.pid > 1));
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
});

/** The problems of a sample, each with its file's name only, e.g. `memory.stat: not found`. */
function unreadableFiles(sample: ProcessSample): string[] | undefined {
  return sample.unreadable?.map((p) => p.replace(/^.*\//, ""));
}

Deno.test("a scan reads only the files its needs name: the others are NaN, never read or warned", () => {
  const copy = copyFixture("v2-host");
  try {
    const app = `${copy.cgroupfs}/kubepods.slice/kubepods-pod1.slice/cri-containerd-aaa.scope`;
    // Files only some needs read, made unreadable: a scan that reads them warns.
    Deno.removeSync(`${copy.procfs}/100/oom_score`);
    Deno.removeSync(`${copy.procfs}/100/oom_score_adj`);
    Deno.removeSync(`${app}/memory.pressure`);
    const captured = capture();
    const c = new Collector({ ...copy, log: captured.log, selfPid: 105 });
    const memoryOnly = {
      oomScore: false,
      oomScoreAdj: false,
      memory: true,
      workingSet: false,
      pressure: false,
      trends: false,
      limitSource: false,
    };
    const s = byPid(c.scan(undefined, memoryOnly)).get(100)!;
    assert.equal(s.unreadable, undefined);
    assert.deepEqual(warnings(captured).filter(([pid]) => pid === 100), []);
    assert.equal(s.variables.memory_usage, 25);
    // Figures not read are not set: nothing this scan looks at them.
    for (const name of ["oom_score", "oom_score_adj", "memory_pressure_some_avg10"]) {
      assert.equal(s.variables[name], undefined, name);
    }
    assert.deepEqual(Object.keys(s.variables).sort(), variablesOf(memoryOnly).sort());
    const adjOnly = {
      oomScore: false,
      oomScoreAdj: true,
      memory: false,
      workingSet: false,
      pressure: false,
      trends: false,
      limitSource: false,
    };
    const adj = byPid(c.scan(undefined, adjOnly)).get(101)!;
    assert.equal(adj.variables.oom_score_adj, 500);
    assert.deepEqual(Object.keys(adj.variables), ["oom_score_adj"]);
    assert.equal(adj.source.path, "/kubepods.slice/kubepods-pod1.slice/cri-containerd-aaa.scope");
    // Every file: the same process now warns of each one.
    const full = byPid(c.scan()).get(100)!;
    assert.deepEqual(unreadableFiles(full), [
      "oom_score: not found",
      "oom_score_adj: not found",
      "memory.pressure: not found",
    ]);
  } finally {
    Deno.removeSync(copy.dir, { recursive: true });
  }
});

/** What a scan reads when nothing uses the working set. */
const MEMORY_ONLY: Readonly<Needs> = { ...NO_NEEDS, memory: true };

/** Pid 60's cgroup's memory.stat in `copy`. */
const appMemoryStat = (copy: { cgroupfs: string }) =>
  `${copy.cgroupfs}/memory/user.slice/app/memory.stat`;

/** Pid 60's sample from `copy`, read with `needs`. */
function pid60(copy: { procfs: string; cgroupfs: string }, needs: Readonly<Needs>): ProcessSample {
  return byPid(new Collector({ ...copy, log: capture().log, selfPid: 999 }).scan(undefined, needs))
    .get(60)!;
}

Deno.test("v1, a whole tree: without the working set, the limit comes from the walk, no memory.stat", () => {
  const copy = copyFixture("hybrid-host");
  try {
    // Only the hierarchy's root has cgroup.sane_behavior: a walk up from there sees every limit.
    Deno.writeTextFileSync(`${copy.cgroupfs}/memory/cgroup.sane_behavior`, "0\n");
    const full = pid60(copy, ALL_NEEDS);
    Deno.removeSync(appMemoryStat(copy));
    const s = pid60(copy, MEMORY_ONLY);
    assert.equal(s.unreadable, undefined);
    // The walk finds the limit memory.stat states (user.slice's 1 GiB, above app's none).
    assert.equal(s.variables.memory_max, full.variables.memory_max);
    assert.equal(s.variables.memory_usage, full.variables.memory_usage);
    assert.equal(s.variables.memory_max, 1073741824);
    assert.equal(s.source.memoryMaxScope, "effective");
    assert.deepEqual(Object.keys(s.variables).sort(), variablesOf(MEMORY_ONLY).sort());
    // Asked for, the working set reads memory.stat, and says so when it cannot.
    const ws = pid60(copy, { ...MEMORY_ONLY, workingSet: true });
    assert.deepEqual(unreadableFiles(ws), ["memory.stat: not found"]);
  } finally {
    Deno.removeSync(copy.dir, { recursive: true });
  }
});

Deno.test("v1, not the whole tree: memory.stat is read for the limit, even without the working set", () => {
  const copy = copyFixture("hybrid-host");
  try {
    // No cgroup.sane_behavior: the mount may be a container's own cgroup, limits above unseen.
    Deno.removeSync(appMemoryStat(copy));
    const s = pid60(copy, MEMORY_ONLY);
    assert.deepEqual(unreadableFiles(s), ["memory.stat: not found"]);
    // The walk then stands in, as far as it sees.
    assert.equal(s.variables.memory_max, 1073741824);
    assert.equal(s.source.memoryMaxScope, "own");
  } finally {
    Deno.removeSync(copy.dir, { recursive: true });
  }
});

Deno.test("v2: memory.stat is read only for the working set", () => {
  const copy = copyFixture("v2-host");
  try {
    const app = `${copy.cgroupfs}/kubepods.slice/kubepods-pod1.slice/cri-containerd-aaa.scope`;
    const c = new Collector({ ...copy, log: capture().log, selfPid: 105 });
    const full = byPid(c.scan()).get(100)!;
    Deno.removeSync(`${app}/memory.stat`);
    const s = byPid(c.scan(undefined, MEMORY_ONLY)).get(100)!;
    assert.equal(s.unreadable, undefined);
    assert.equal(s.variables.memory_usage, full.variables.memory_usage);
    assert.equal(s.variables.memory_working_set, undefined);
    const ws = byPid(c.scan(undefined, { ...MEMORY_ONLY, workingSet: true })).get(100)!;
    assert.deepEqual(unreadableFiles(ws), ["memory.stat: not found"]);
  } finally {
    Deno.removeSync(copy.dir, { recursive: true });
  }
});

Deno.test("a known process is identified by its stat each scan where files are not kept: pid reuse", () => {
  const copy = copyFixture("v2-host");
  try {
    const c = new Collector({ ...copy, log: capture().log, selfPid: 105 });
    assert.equal(byPid(c.scan()).get(100)?.startTime, 5000);
    // The fixture's files are regular files, never kept open.
    assert.equal(c.keptFiles, 0);
    // Pid 100 exits and a new process gets its pid before the next scan.
    const stat = Deno.readTextFileSync(`${copy.procfs}/100/stat`);
    Deno.writeTextFileSync(`${copy.procfs}/100/stat`, stat.replace(" 5000 ", " 7000 "));
    Deno.writeTextFileSync(`${copy.procfs}/100/cmdline`, "python3\0app.py\0");
    const reused = byPid(c.scan()).get(100)!;
    assert.equal(reused.startTime, 7000);
    assert.equal(reused.cmdline, "python3 app.py");
  } finally {
    Deno.removeSync(copy.dir, { recursive: true });
  }
});

Deno.test("v1: without limitSource the limit walk is skipped, every figure the same", () => {
  const all = byPid(collector("hybrid-host", capture().log, 999).scan());
  const figures = byPid(
    collector("hybrid-host", capture().log, 999).scan(undefined, EVERY_FIGURE),
  );
  assert.deepEqual([...figures.keys()], [...all.keys()]);
  let walked = 0;
  for (const [pid, s] of all) {
    const f = figures.get(pid)!;
    assert.deepEqual(f.variables, s.variables, `pid ${pid}`);
    if (s.source.limitDir !== "") walked++;
    assert.deepEqual(f.source, { ...s.source, limitDir: "" }, `pid ${pid}`);
  }
  assert.ok(walked > 0, "some process has a limit set somewhere");
});
