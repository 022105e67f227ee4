/**
 * Faults the real kernel produces while oomhero watches: a cgroup removed mid-scan, a process
 * moved to another cgroup, a process that exits between evaluation and `kill`, a pid reused by a
 * newcomer, and `kill` refused with EPERM to an oomhero that runs as another user. Tests that
 * need root, memory cgroups or setpriv are skipped with a printed reason elsewhere.
 */
import assert from "node:assert/strict";
import { MemoryCgroup } from "../../demo/memory_cgroup.ts";
import { Collector } from "../../src/collect/collector.ts";
import { compileExpression } from "../../src/evaluate/expression.ts";
import { Logger } from "../../src/base/log.ts";
import { Monitor } from "../../src/scan/monitor.ts";
import type { ProcessSample } from "../../src/collect/sample.ts";
import { sendSignal } from "../../src/act/signaller.ts";
import { VARIABLE_NAMES } from "../../src/collect/variables.ts";
import { asNobody, nobodyUnavailable } from "../support/as_nobody.ts";
import { copyFixture } from "../support/fixture_paths.ts";
import { metricValue, startOomhero } from "../support/live_oomhero.ts";
import { running, startNamed, stopNamed } from "../support/named_process.ts";
import { CATCHES_ALL, monitorOptions, recordingObserver } from "../support/fake_sample.ts";
import { captureLog as capture } from "../support/log_capture.ts";
import { memoryCgroupsUnavailable } from "../support/memory_cgroups.ts";
import { EVERY_FIGURE } from "../../src/collect/needs.ts";

const MIB = 1024 * 1024;
const PROCFS = "/proc";
const CGROUPFS = "/sys/fs/cgroup";

const NO_CGROUPS = memoryCgroupsUnavailable();
if (NO_CGROUPS !== undefined) console.log(`skipping kernel fault tests: ${NO_CGROUPS}`);

/** Runs `fn` with memory cgroups of the given limits, removed afterwards. */
async function withCgroups<T>(limits: number[], fn: (cgs: MemoryCgroup[]) => Promise<T>) {
  const cgs: MemoryCgroup[] = [];
  try {
    for (const limit of limits) {
      const cg = MemoryCgroup.create(`oomhero-fault-${crypto.randomUUID().slice(0, 8)}`, limit);
      if (typeof cg === "string") throw new Error(cg);
      cgs.push(cg);
    }
    return await fn(cgs);
  } finally {
    for (const cg of cgs) cg.remove();
  }
}

Deno.test("a host process whose cgroup is gone gets no figures, not the root cgroup's", () => {
  const copy = copyFixture("v2-host");
  try {
    // As on a host: /proc/<pid>/root/sys/fs/cgroup is our own cgroupfs, whose root has figures.
    Deno.mkdirSync(`${copy.procfs}/103/root/sys/fs`, { recursive: true });
    Deno.symlinkSync(copy.cgroupfs, `${copy.procfs}/103/root/sys/fs/cgroup`);
    Deno.writeTextFileSync(
      `${copy.procfs}/103/mountinfo`,
      "30 1 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw\n",
    );
    Deno.writeTextFileSync(`${copy.cgroupfs}/memory.current`, "999999999\n");
    Deno.removeSync(`${copy.cgroupfs}/system.slice/nostat.service`, { recursive: true });
    const captured = capture();
    const sample = new Collector({ ...copy, log: captured.log, selfPid: 105 }).collect(103);
    assert.ok(sample !== undefined);
    assert.equal(sample.source.memoryDir, "");
    assert.ok(Number.isNaN(sample.variables.memory_current));
    assert.deepEqual(captured.warnings().map((w) => w.reason), [
      "cgroup /system.slice/nostat.service: " +
      `${copy.procfs}/103/root/sys/fs/cgroup/system.slice/nostat.service not found ` +
      "(removed, or the process moved on)",
    ]);
  } finally {
    Deno.removeSync(copy.dir, { recursive: true });
  }
});

Deno.test("a process moved out of a cgroup removed mid-read is skipped once, without a warning", () => {
  const copy = copyFixture("v2-host");
  const cgroupFile = `${copy.procfs}/103/cgroup`;
  const staleFile = `${copy.dir}/stale-cgroup`;
  Deno.writeTextFileSync(staleFile, "0::/system.slice/removed.service\n");
  const real = Deno.openSync;
  let stale = true;
  // The kernel's order of events: we read the old path, then the process moves and the old
  // cgroup is removed before we read its files; the next read of the cgroup file is current.
  // Every read of a kernel file opens it, so the first open is the one to redirect.
  Deno.openSync = (path: string | URL, options?: Deno.OpenOptions) => {
    if (path === cgroupFile && stale) {
      stale = false;
      return real(staleFile, options);
    }
    return real(path, options);
  };
  try {
    const captured = capture();
    const collector = new Collector({ ...copy, log: captured.log, selfPid: 105 });
    assert.equal(collector.collect(103), undefined);
    assert.ok(!stale, "the stale cgroup file was read");
    assert.deepEqual(captured.warnings(), []);
    const next = collector.collect(103);
    assert.equal(next?.source.path, "/system.slice/nostat.service");
    assert.equal(next?.variables.memory_current, 52428800);
  } finally {
    Deno.openSync = real;
    Deno.removeSync(copy.dir, { recursive: true });
  }
});

Deno.test({
  name: "kernel: a move shows within one scan where scans check cgroup.procs, not each process",
  ignore: NO_CGROUPS !== undefined,
  fn: () =>
    withCgroups([200 * MIB, 100 * MIB], async ([from, to]) => {
      // Two in `from`: a cgroup.procs read serves both (one alone is checked by its own file).
      const child = await startNamed("sleep", from);
      const mate = await startNamed("sleep", from);
      const real = Deno.openSync;
      const procsOpened: string[] = [];
      Deno.openSync = (path: string | URL, options?: Deno.OpenOptions) => {
        if (String(path).endsWith("/cgroup.procs")) procsOpened.push(String(path));
        return real(path, options);
      };
      try {
        const captured = capture();
        const collector = new Collector({ procfs: PROCFS, cgroupfs: CGROUPFS, log: captured.log });
        // What `memory_usage > N` needs, with metrics: no pressure, so on v1 too a memory
        // cgroup's cgroup.procs tells whether its processes are still in it.
        const needs = { ...EVERY_FIGURE, pressure: false, oomScore: false, oomScoreAdj: false };
        const scan = () => collector.scan(undefined, needs).find((s) => s.pid === child.pid);
        for (let i = 0; i < 3; i++) assert.equal(scan()?.source.memoryDir, from.dir);
        assert.ok(procsOpened.includes(`${from.dir}/cgroup.procs`), "cgroup.procs was read");
        Deno.writeTextFileSync(`${to.dir}/cgroup.procs`, String(child.pid));
        const after = scan();
        assert.equal(after?.source.memoryDir, to.dir);
        assert.equal(after?.variables.memory_max, 100 * MIB);
        assert.equal(scan()?.source.memoryDir, to.dir);
        Deno.writeTextFileSync(`${from.dir}/cgroup.procs`, String(child.pid));
        assert.equal(scan()?.source.memoryDir, from.dir);
        assert.deepEqual(captured.warnings().filter((w) => w.pid === child.pid), []);
      } finally {
        Deno.openSync = real;
        await stopNamed(child);
        await stopNamed(mate);
      }
      // Gone: the next scan has it no more.
      assert.equal(
        new Collector({ procfs: PROCFS, cgroupfs: CGROUPFS, log: capture().log }).scan()
          .find((s) => s.pid === child.pid),
        undefined,
      );
    }),
});

Deno.test({
  name: "kernel: a process moved to another memory cgroup is read from the new one next scan",
  ignore: NO_CGROUPS !== undefined,
  fn: () =>
    withCgroups([200 * MIB, 100 * MIB], async ([from, to]) => {
      const child = await startNamed("sleep", from);
      try {
        const captured = capture();
        const collector = new Collector({ procfs: PROCFS, cgroupfs: CGROUPFS, log: captured.log });
        const before = collector.scan().find((s) => s.pid === child.pid);
        assert.equal(before?.source.memoryDir, from.dir);
        assert.equal(before?.variables.memory_max, 200 * MIB);

        Deno.writeTextFileSync(`${to.dir}/cgroup.procs`, String(child.pid));
        const currentFile = `${to.dir}/${
          to.version === 2 ? "memory.current" : "memory.usage_in_bytes"
        }`;
        const low = Number(Deno.readTextFileSync(currentFile));
        const after = collector.scan().find((s) => s.pid === child.pid);
        const high = Number(Deno.readTextFileSync(currentFile));
        assert.equal(after?.source.memoryDir, to.dir);
        assert.equal(after?.source.limitDir, to.dir);
        assert.equal(after?.variables.memory_max, 100 * MIB);
        const current = after?.variables.memory_current ?? -1;
        assert.ok(current >= Math.min(low, high) && current <= Math.max(low, high), `${current}`);
        assert.equal(after?.variables.memory_usage, current / (100 * MIB) * 100);
        assert.deepEqual(captured.warnings().filter((w) => w.pid === child.pid), []);
      } finally {
        await stopNamed(child);
      }
    }),
});

Deno.test({
  name:
    "kernel: cgroups removed while a process hops through them: no crash, warning or root figures",
  ignore: NO_CGROUPS !== undefined,
  fn: () =>
    withCgroups([256 * MIB], async ([home]) => {
      const child = await startNamed("sleep", home);
      // A concurrent shell: make a cgroup, move the child in and back out, remove it; repeat.
      const hopper = new Deno.Command("bash", {
        args: [
          "-c",
          `pid=$1; home=$2; base=$3; end=$((SECONDS + 3)); i=0
           while (( SECONDS < end )); do
             d="$base-$i"; mkdir "$d" && echo "$pid" > "$d/cgroup.procs" &&
               echo "$pid" > "$home/cgroup.procs" && rmdir "$d"; i=$((i + 1))
           done
           echo "$i"`,
          "hopper",
          String(child.pid),
          home.dir,
          `${home.dir}-hop`,
        ],
        stdout: "piped",
      }).spawn();
      try {
        const captured = capture();
        const collector = new Collector({ procfs: PROCFS, cgroupfs: CGROUPFS, log: captured.log });
        let reads = 0;
        let seen = 0;
        const hopping = hopper.output();
        let done = false;
        hopping.then(() => done = true);
        while (!done) {
          // Synchronous reads would starve the promise above; yield between bursts.
          for (let i = 0; i < 200; i++) {
            const sample = collector.collect(child.pid);
            reads++;
            if (sample === undefined) continue;
            seen++;
            const dir = sample.source.memoryDir;
            assert.ok(dir === home.dir || dir.startsWith(`${home.dir}-hop-`), `read from ${dir}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        const hops = Number(new TextDecoder().decode((await hopping).stdout));
        assert.ok(hops > 50, `only ${hops} cgroups made and removed`);
        assert.ok(seen > reads * 0.9, `seen in ${seen} of ${reads} reads`);
        assert.deepEqual(captured.warnings().filter((w) => w.pid === child.pid), []);
      } finally {
        await stopNamed(child);
        await hopper.status;
      }
    }),
});

/** A monitor that signals whatever `samples` holds, with the real kill and start-time check. */
function realMonitor(
  samples: ProcessSample[],
  readStartTime: (pid: number) => number | undefined,
  counted: string[],
  logs: string[],
): Monitor {
  return new Monitor(
    monitorOptions({
      warning: compileExpression("1", VARIABLE_NAMES),
      critical: compileExpression("0", VARIABLE_NAMES),
    }),
    {
      // Every signal caught: these tests are about the races around the kill, not handlers.
      source: { scan: () => samples, readStartTime, readSignalMasks: () => CATCHES_ALL },
      log: new Logger("debug", "text", (l) => logs.push(l)),
      observer: recordingObserver(counted),
    },
  );
}

Deno.test({
  name: "kernel: a process that exits between evaluation and kill is gone (ESRCH), no error",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const child = await startNamed("sleep");
    const collector = new Collector({
      procfs: PROCFS,
      cgroupfs: CGROUPFS,
      log: new Logger("error"),
    });
    const sample = collector.collect(child.pid);
    assert.ok(sample !== undefined);
    await stopNamed(child);
    // The start-time check passed just before the exit; the kernel then answers ESRCH.
    const outcome = sendSignal(sample, "SIGUSR1", {
      readStartTime: () => sample.startTime,
      readSignalMasks: () => CATCHES_ALL,
      sendUnhandled: false,
      kill: Deno.kill,
      selfPid: Deno.pid,
      ancestors: new Set(),
      dryRun: false,
    });
    assert.deepEqual(outcome, { result: "gone" });
    const counted: string[] = [];
    const logs: string[] = [];
    realMonitor([sample], () => sample.startTime, counted, logs).scanOnce();
    assert.deepEqual(counted, []);
    assert.deepEqual(logs.filter((l) => / (WARN|ERROR) /.test(l)), []);
  },
});

/** Makes the kernel hand out `pid` next, by setting ns_last_pid; false when not allowed. */
function nextPid(pid: number): boolean {
  try {
    Deno.writeTextFileSync("/proc/sys/kernel/ns_last_pid", String(pid - 1));
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "kernel: a reused pid is never signalled (start times differ)",
  ignore: Deno.build.os !== "linux" || Deno.uid() !== 0,
  fn: async () => {
    const collector = new Collector({
      procfs: PROCFS,
      cgroupfs: CGROUPFS,
      log: new Logger("error"),
    });
    const first = await startNamed("sleep");
    const old = collector.collect(first.pid);
    assert.ok(old !== undefined);
    await stopNamed(first);
    // Another process may fork in between and take the pid: try a few times.
    let reused: Deno.ChildProcess | undefined;
    for (let attempt = 0; attempt < 20 && reused === undefined; attempt++) {
      if (!nextPid(old.pid)) break;
      const child = new Deno.Command("sleep", { args: ["1000"], stdin: "null" }).spawn();
      if (child.pid === old.pid && collector.readStartTime(child.pid) !== old.startTime) {
        reused = child;
      } else {
        await stopNamed(child);
      }
    }
    if (reused === undefined) {
      console.log("pid reuse: the kernel did not hand out the same pid; skipped");
      return;
    }
    try {
      const counted: string[] = [];
      const logs: string[] = [];
      realMonitor([old], (pid) => collector.readStartTime(pid), counted, logs).scanOnce();
      assert.deepEqual(counted, [], "nothing sent, failed or counted");
      // SIGUSR1 would have ended sleep: it still runs, as the same process.
      assert.ok(await running(reused));
      assert.ok(collector.readStartTime(reused.pid) !== undefined);
      assert.ok(logs.some((l) => l.includes("process exited or pid reused")), logs.join("\n"));
    } finally {
      await stopNamed(reused);
    }
  },
});

const NOBODY_SKIP = nobodyUnavailable();
if (NOBODY_SKIP !== undefined) console.log(`skipping EPERM test: ${NOBODY_SKIP}`);

Deno.test({
  name: "kernel: oomhero as nobody against a root process: EPERM logged once, counted, retried",
  ignore: NOBODY_SKIP !== undefined,
  fn: async () => {
    const marker = `oomhero-eperm-${crypto.randomUUID().slice(0, 8)}`;
    const target = await startNamed(marker);
    const nobody = asNobody();
    const oomhero = await startOomhero([
      "--warning=oom_score >= 0",
      "--critical=oom_score < 0",
      `--include=^${marker}`,
      "--loop-interval=100ms",
      // Harmless by default, so sent to a sleep without a handler: the kernel's EPERM is the test.
      "--warning-signal=SIGWINCH",
    ], { prefix: nobody.prefix, env: nobody.env });
    try {
      // With the 30 s cooldown a success would be sent once; failures retry every second.
      const exposition = await oomhero.waitForMetrics(
        "3 EPERM failures",
        (text) =>
          metricValue(text, "oomhero_errors_total", { reason: "kill_EPERM" }) >= 3
            ? text
            : undefined,
      );
      assert.ok(
        metricValue(exposition, "oomhero_signals_total", {
          severity: "warning",
          signal: "SIGWINCH",
          result: "failed",
        }) >= 3,
      );
      assert.equal(metricValue(exposition, "oomhero_signals_total", { result: "sent" }), 0);
      const failures = oomhero.log.filter((l) => / WARN .*signal failed/.test(l));
      assert.equal(failures.length, 1, oomhero.describe());
      assert.match(failures[0], new RegExp(`pid=${target.pid} .*error=EPERM`));
      assert.match(
        failures[0],
        /cause="oomhero lacks CAP_KILL, which signalling a process of another user needs"/,
      );
      assert.equal((await oomhero.get("/healthz")).status, 200);
      assert.ok(await running(target), "the target was not signalled");
      assert.deepEqual(oomhero.log.filter((l) => / ERROR /.test(l)), []);
    } finally {
      const status = await oomhero.stop();
      nobody.cleanup();
      await stopNamed(target);
      assert.equal(status.code, 0);
    }
  },
});
