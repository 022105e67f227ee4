import assert from "node:assert/strict";
import { compileExpression } from "../../../src/evaluate/expression.ts";
import { Logger } from "../../../src/base/log.ts";
import { Monitor, type MonitorDeps, type MonitorOptions } from "../../../src/scan/monitor.ts";
import { VARIABLE_NAMES } from "../../../src/collect/variables.ts";
import type { SignalMasks } from "../../../src/kernel/procfs.ts";
import {
  CATCHES_ALL,
  fakeSample as sample,
  type MonitorHarness,
  monitorHarness,
  monitorOptions,
  recordingObserver,
} from "../../support/fake_sample.ts";
import { EVERY_FIGURE } from "../../../src/collect/needs.ts";
import type { ProcessSample } from "../../../src/collect/sample.ts";

/** The shared harness; oomhero's ancestors here are the process 4000 started at 5000. */
function harness(
  overrides: Partial<MonitorOptions> = {},
  deps: Partial<MonitorDeps> = {},
): MonitorHarness {
  return monitorHarness(overrides, { ancestors: new Set(["4000:5000"]), ...deps });
}

Deno.test("monitor sends only the critical signal to a process matching both", () => {
  const h = harness();
  h.samples = [sample(10, { memory_usage: 95 }), sample(11, { memory_usage: 80 })];
  h.monitor.scanOnce();
  assert.deepEqual(h.sent, [[10, "SIGUSR2"], [11, "SIGUSR1"]]);
  assert.deepEqual(h.counted, ["critical SIGUSR2 sent", "warning SIGUSR1 sent"]);
});

Deno.test("monitor logs each signal with the values its expression references", () => {
  const h = harness();
  h.samples = [sample(10, { memory_usage: 95 }, "java -jar app.jar")];
  h.monitor.scanOnce();
  const line = h.logs.find((l) => l.includes("signal sent"));
  assert.ok(line);
  // At warn, as upstream logs a sent signal.
  assert.match(line, / WARN {2}signal sent pid=10 cmdline="java -jar app.jar" severity=critical /);
  assert.match(line, /signal=SIGUSR2 memory_usage=95$/);
});

Deno.test("monitor logs figures rounded to 2 decimals", () => {
  const h = harness({
    warning: compileExpression(
      "memory_usage > 50 || memory_pressure_full_avg10 > 90 || memory_current > 1e9",
      VARIABLE_NAMES,
    ),
  });
  h.samples = [
    sample(10, {
      memory_usage: 60.6781005859375,
      memory_pressure_full_avg10: 0.004,
      memory_current: 123456789,
    }),
  ];
  h.monitor.scanOnce();
  const line = h.logs.find((l) => l.includes("signal sent")) ?? "";
  for (
    const field of [
      "memory_usage=60.68",
      "memory_pressure_full_avg10=0",
      "memory_current=123456789",
    ]
  ) {
    assert.ok(` ${line} `.includes(` ${field} `), `${field} in ${line}`);
  }
});

Deno.test("monitor logs a bounded command line: a 2 KB one does not leak whole", () => {
  const h = harness();
  const secret = "hunter2-do-not-leak";
  const cmdline = `/usr/bin/python3 worker.py --env ${
    JSON.stringify({ PAD: "x".repeat(2000), DB_PASSWORD: secret })
  }`;
  h.samples = [sample(10, { memory_usage: 95 }, cmdline)];
  h.monitor.scanOnce();
  const line = h.logs.find((l) => l.includes("signal sent")) ?? "";
  assert.ok(!line.includes(secret), line);
  assert.match(
    line,
    /cmdline="\/usr\/bin\/python3 worker.py --env \{\\"PAD\\":\\"x+…\(\+\d+ chars\)"/,
  );
  assert.ok(line.length < 400, String(line.length));
});

Deno.test("monitor holds a repeated severity for the cooldown, then sends again", () => {
  const h = harness();
  h.samples = [sample(10, { memory_usage: 80 })];
  h.monitor.scanOnce();
  h.clock.now = 29_999;
  h.monitor.scanOnce();
  assert.equal(h.sent.length, 1);
  h.clock.now = 30_000;
  h.monitor.scanOnce();
  assert.deepEqual(h.sent, [[10, "SIGUSR1"], [10, "SIGUSR1"]]);
});

Deno.test("monitor sends a change of severity at once, inside the cooldown", () => {
  const h = harness();
  h.samples = [sample(10, { memory_usage: 80 })];
  h.monitor.scanOnce();
  h.clock.now = 100;
  h.samples = [sample(10, { memory_usage: 95 })];
  h.monitor.scanOnce();
  assert.deepEqual(h.sent, [[10, "SIGUSR1"], [10, "SIGUSR2"]]);
});

Deno.test("monitor retries a failed send after 1s, and warns once per reason", () => {
  const h = harness();
  h.killError.value = new Deno.errors.PermissionDenied("EPERM: Operation not permitted");
  h.samples = [sample(10, { memory_usage: 80 })];
  h.monitor.scanOnce();
  h.clock.now = 999;
  h.monitor.scanOnce();
  h.clock.now = 1000;
  h.monitor.scanOnce();
  assert.deepEqual(h.counted, [
    "warning SIGUSR1 failed",
    "error kill_EPERM",
    "warning SIGUSR1 failed",
    "error kill_EPERM",
  ]);
  assert.equal(h.logs.filter((l) => / WARN .*signal failed.*error=EPERM/.test(l)).length, 1);
  h.killError.value = undefined;
  h.clock.now = 2000;
  h.monitor.scanOnce();
  assert.deepEqual(h.sent, [[10, "SIGUSR1"]]);
});

Deno.test("monitor does not signal a pid that was reused since the scan", () => {
  const h = harness();
  h.samples = [sample(10, { memory_usage: 95 })];
  h.startTimes.set(10, 99_999);
  h.monitor.scanOnce();
  assert.deepEqual(h.sent, []);
  assert.deepEqual(h.counted, []);
});

Deno.test("monitor never signals pid 1, itself or its ancestors", () => {
  const h = harness();
  const parent = sample(4000, { memory_usage: 95 });
  parent.startTime = 5000;
  const parentPidReused = sample(4000, { memory_usage: 95 });
  parentPidReused.startTime = 5001;
  h.samples = [sample(1, { memory_usage: 95 }), sample(4242, { memory_usage: 95 }), parent];
  h.monitor.scanOnce();
  assert.deepEqual(h.sent, []);
  // Ancestors are known by pid and start time: a newcomer on a parent's old pid is fair game.
  h.samples = [parentPidReused];
  h.monitor.scanOnce();
  assert.deepEqual(h.sent, [[4000, "SIGUSR2"]]);
});

Deno.test("monitor watches only included, not excluded command lines", () => {
  const h = harness({ include: [/java/, /node/], exclude: [/sidecar/] });
  h.samples = [
    sample(10, { memory_usage: 95 }, "java -jar app.jar"),
    sample(11, { memory_usage: 95 }, "node server.js"),
    sample(12, { memory_usage: 95 }, "python worker.py"),
    sample(13, { memory_usage: 95 }, "java -jar sidecar.jar"),
  ];
  h.monitor.scanOnce();
  assert.deepEqual(h.sent.map(([pid]) => pid), [10, 11]);
});

Deno.test("monitor in dry-run sends nothing but counts and logs what it would send", () => {
  const h = harness({ dryRun: true });
  h.samples = [sample(10, { memory_usage: 95 })];
  h.monitor.scanOnce();
  assert.deepEqual(h.sent, []);
  assert.deepEqual(h.counted, ["critical SIGUSR2 dry_run"]);
  assert.ok(
    h.logs.some((l) => / WARN {2}would send signal \(dry run\)/.test(l)),
    h.logs.join("\n"),
  );
});

Deno.test("monitor forgets exited processes, so a new process with the same pid starts afresh", () => {
  const h = harness();
  h.samples = [sample(10, { memory_usage: 80 })];
  h.monitor.scanOnce();
  h.samples = [];
  h.clock.now = 100;
  h.monitor.scanOnce();
  const reborn = sample(10, { memory_usage: 80 });
  reborn.startTime += 1;
  h.samples = [reborn];
  h.clock.now = 200;
  h.monitor.scanOnce();
  assert.deepEqual(h.sent, [[10, "SIGUSR1"], [10, "SIGUSR1"]]);
});

/** A dry-run monitor that never matches, scanning every 1 ms a source whose scan is `scan`. */
function loopingMonitor(scan: () => ProcessSample[]): Monitor {
  return new Monitor(
    monitorOptions({
      warning: compileExpression("0", VARIABLE_NAMES),
      critical: compileExpression("0", VARIABLE_NAMES),
      loopIntervalMs: 1,
      cooldownMs: 1000,
      dryRun: true,
    }),
    {
      source: { scan, readStartTime: () => undefined, readSignalMasks: () => CATCHES_ALL },
      log: new Logger("error", "text", () => {}),
    },
  );
}

Deno.test("monitor.run stops promptly when aborted and never overlaps scans", async () => {
  let active = 0;
  let scans = 0;
  const stop = new AbortController();
  const monitor = loopingMonitor(() => {
    assert.equal(active++, 0);
    if (++scans === 5) stop.abort();
    active--;
    return [];
  });
  await monitor.run(stop.signal);
  assert.equal(scans, 5);
  assert.ok(monitor.lastScanEnd() !== undefined);
});

Deno.test("monitor.run rejects with what a scan throws, and scans no more", async () => {
  let scans = 0;
  const monitor = loopingMonitor(() => {
    if (++scans === 3) throw new Error("procfs went away");
    return [];
  });
  await assert.rejects(monitor.run(new AbortController().signal), /procfs went away/);
  // A timer left running would have fired with these ten ticks of one at the same interval (Deno's
  // test sanitizer does not report a leaked interval).
  await new Promise<void>((resolve) => {
    let ticks = 0;
    const reference = setInterval(() => {
      if (++ticks < 10) return;
      clearInterval(reference);
      resolve();
    }, 1);
  });
  assert.equal(scans, 3);
});

/** A process that neither catches nor ignores nor blocks anything. */
const HANDLES_NOTHING: SignalMasks = { blocked: 0n, ignored: 0n, caught: 0n };
const USR1 = 1n << 9n;

Deno.test("monitor withholds a signal the process does not handle, warns once, retries after 1s", () => {
  const h = harness();
  h.masks.set(10, HANDLES_NOTHING);
  h.samples = [sample(10, { memory_usage: 80 }, "python app.py")];
  h.monitor.scanOnce();
  h.clock.now = 999;
  h.monitor.scanOnce();
  h.clock.now = 1000;
  h.monitor.scanOnce();
  assert.deepEqual(h.sent, []);
  assert.deepEqual(h.counted, [
    "withheld warning SIGUSR1 not_handled",
    "withheld warning SIGUSR1 not_handled",
  ]);
  const notices = h.logs.filter((l) => l.includes("does not handle SIGUSR1; not sent"));
  assert.equal(notices.length, 2);
  assert.match(notices[0], / WARN .*pid=10 cmdline="python app.py" severity=warning/);
  assert.match(notices[0], /reason=not_handled why=.*--signal-unhandled/);
  assert.match(notices[1], / DEBUG /);
  // No sticky verdict: once it catches the signal, the next try sends it, then the cooldown holds.
  h.masks.set(10, { ...HANDLES_NOTHING, caught: USR1 });
  h.clock.now = 2000;
  h.monitor.scanOnce();
  h.clock.now = 3000;
  h.monitor.scanOnce();
  assert.deepEqual(h.sent, [[10, "SIGUSR1"]]);
  // The metrics are told the process of each, so alerts can name its pid.
  assert.deepEqual(h.alerts, ["10 warning withheld", "10 warning withheld", "10 warning sent"]);
});

Deno.test("monitor says why a signal is withheld: ignored, blocked, unreadable", () => {
  const h = harness();
  h.masks.set(10, { ...HANDLES_NOTHING, ignored: USR1 });
  h.masks.set(11, { ...HANDLES_NOTHING, blocked: USR1 });
  h.masks.set(12, new Error("/proc/12/status: permission denied"));
  h.samples = [10, 11, 12].map((pid) => sample(pid, { memory_usage: 80 }));
  h.monitor.scanOnce();
  assert.deepEqual(h.sent, []);
  assert.deepEqual(h.counted, [
    "withheld warning SIGUSR1 ignored",
    "withheld warning SIGUSR1 blocked",
    "withheld warning SIGUSR1 unreadable",
  ]);
  const warned = h.logs.filter((l) => / WARN /.test(l));
  assert.match(warned[0], /ignores SIGUSR1; not sent pid=10 .*reason=ignored/);
  assert.match(warned[1], /blocks SIGUSR1 without a handler; not sent pid=11 .*signalfd/);
  assert.match(
    warned[2],
    /cannot tell whether it handles SIGUSR1; not sent pid=12 .*error="\/proc\/12\/status: permission denied"/,
  );
});

Deno.test("monitor sends SIGTERM and other deliberate or harmless signals without a handler", () => {
  const h = harness({ criticalSignal: "SIGTERM", warningSignal: "SIGWINCH" });
  h.masks.set(10, HANDLES_NOTHING);
  h.masks.set(11, HANDLES_NOTHING);
  h.samples = [sample(10, { memory_usage: 95 }), sample(11, { memory_usage: 80 })];
  h.monitor.scanOnce();
  assert.deepEqual(h.sent, [[10, "SIGTERM"], [11, "SIGWINCH"]]);
  assert.equal(h.statusReads, 0, "no status read for a signal sent regardless");
});

Deno.test("monitor with --signal-unhandled sends without reading status", () => {
  const h = harness({ sendUnhandled: true });
  h.masks.set(10, HANDLES_NOTHING);
  h.samples = [sample(10, { memory_usage: 80 })];
  h.monitor.scanOnce();
  assert.deepEqual(h.sent, [[10, "SIGUSR1"]]);
  assert.equal(h.statusReads, 0);
});

Deno.test("monitor reads status only when a signal is about to be sent", () => {
  const h = harness();
  h.samples = [sample(10, { memory_usage: 10 }), sample(11, { memory_usage: 10 })];
  for (let i = 0; i < 5; i++) h.monitor.scanOnce();
  assert.equal(h.statusReads, 0);
  h.samples[0] = sample(10, { memory_usage: 80 });
  h.monitor.scanOnce();
  assert.equal(h.statusReads, 1);
});

Deno.test("monitor in dry-run reports a withheld signal as withheld", () => {
  const h = harness({ dryRun: true });
  h.masks.set(10, HANDLES_NOTHING);
  h.samples = [sample(10, { memory_usage: 80 })];
  h.monitor.scanOnce();
  assert.deepEqual(h.counted, ["withheld warning SIGUSR1 not_handled"]);
  assert.ok(!h.logs.some((l) => l.includes("would send")));
});

Deno.test("monitor: a process that exits before its status is read is gone, not unreadable", () => {
  const h = harness();
  h.samples = [sample(10, { memory_usage: 80 })];
  // The first start-time check sees it; the one after the failed read does not.
  let checks = 0;
  const monitor = new Monitor(monitorOptions(), {
    source: {
      scan: () => h.samples,
      readStartTime: () => checks++ === 0 ? 1010 : undefined,
      readSignalMasks: () => {
        throw new Error("/proc/10/status: not found");
      },
    },
    log: new Logger("debug", "text", (line) => h.logs.push(line)),
    observer: recordingObserver(h.counted),
    kill: (pid, signal) => void h.sent.push([pid, signal]),
  });
  monitor.scanOnce();
  assert.deepEqual(h.sent, []);
  assert.deepEqual(h.counted, []);
  assert.equal(checks, 2);
});

Deno.test("monitor: nothing but pid 1 and its ancestors for 30s is said once and on readiness", () => {
  const h = harness();
  const parent = sample(4000, { memory_usage: 0 });
  parent.startTime = 5000;
  h.samples = [sample(1, { memory_usage: 0 }, "/pause"), parent];
  h.monitor.scanOnce();
  h.clock.now = 29_999;
  h.monitor.scanOnce();
  assert.equal(h.monitor.notReadyReason(), undefined);
  h.clock.now = 30_000;
  h.monitor.scanOnce();
  h.clock.now = 30_100;
  h.monitor.scanOnce();
  assert.equal(
    h.monitor.notReadyReason(),
    "nothing to watch: no process but pid 1 and oomhero's own in the 30s since start; " +
      "the pod likely lacks shareProcessNamespace: true",
  );
  assert.equal(h.logs.filter((l) => / WARN +nothing to watch /.test(l)).length, 1);
  // The application shows up late: ready, and never again reported once it exits.
  h.samples = [sample(10, { memory_usage: 0 })];
  h.clock.now = 40_000;
  h.monitor.scanOnce();
  assert.equal(h.monitor.notReadyReason(), undefined);
  assert.ok(h.logs.some((l) => / INFO +found a process to watch ready=true/.test(l)));
  h.samples = [];
  h.clock.now = 100_000;
  h.monitor.scanOnce();
  assert.equal(h.monitor.notReadyReason(), undefined);
});

Deno.test("monitor: an --include that matches nothing is logged, not unready; the delay is injectable", () => {
  const h = harness({ include: [/^java /] }, { nothingToWatchAfterMs: 500 });
  h.samples = [sample(10, { memory_usage: 0 }, "python app.py")];
  h.monitor.scanOnce();
  h.clock.now = 499;
  h.monitor.scanOnce();
  assert.ok(!h.logs.some((l) => l.includes("nothing to watch")));
  h.clock.now = 500;
  h.monitor.scanOnce();
  h.clock.now = 600;
  h.monitor.scanOnce();
  // A DaemonSet on a node without the workloads it names is not misconfigured: ready.
  assert.equal(h.monitor.notReadyReason(), undefined);
  const warned = h.logs.filter((l) => / WARN +nothing to watch /.test(l));
  assert.equal(warned.length, 1);
  assert.match(
    warned[0],
    /why="--include and --exclude left no process to watch in the 500ms since start"/,
  );
});

Deno.test("monitor: a process seen early means nothing to report later", () => {
  const h = harness();
  h.samples = [sample(10, { memory_usage: 0 })];
  h.monitor.scanOnce();
  h.samples = [];
  h.clock.now = 60_000;
  h.monitor.scanOnce();
  assert.equal(h.monitor.notReadyReason(), undefined);
  assert.ok(!h.logs.some((l) => l.includes("nothing to watch")));
});

Deno.test("scans read what the expressions and the observer need; a refresh reads everything", () => {
  const asked: unknown[] = [];
  const observed: number[][] = [];
  const samples = [sample(10, { memory_usage: 10 }), sample(11, { memory_usage: 20 })];
  const monitor = (overrides: Partial<MonitorOptions>, observer: boolean, webhook = false) =>
    new Monitor(monitorOptions(overrides), {
      source: {
        scan: (watched, needs) => {
          asked.push(needs);
          return samples.filter((s) => watched(s.cmdline, s.pid));
        },
        readStartTime: () => undefined,
        readSignalMasks: () => CATCHES_ALL,
      },
      log: new Logger("error", "text", () => {}),
      observer: observer
        ? {
          ...recordingObserver([]),
          scanNeeds: {
            oomScore: false,
            oomScoreAdj: false,
            memory: true,
            workingSet: false,
            pressure: false,
            trends: false,
            limitSource: false,
          },
          observeFigures: (got) => observed.push(got.map((s) => s.pid)),
        }
        : undefined,
      webhook: webhook ? {} as never : undefined,
    });
  const none = {
    oomScore: false,
    oomScoreAdj: false,
    memory: false,
    workingSet: false,
    pressure: false,
    trends: false,
    limitSource: false,
  };
  const m = monitor({
    warning: compileExpression("oom_score > 900", VARIABLE_NAMES),
    critical: compileExpression("io_pressure_some_avg10 > 50", VARIABLE_NAMES),
  }, false);
  assert.deepEqual(m.needs, { ...none, oomScore: true, pressure: true });
  m.scanOnce();
  assert.deepEqual(asked, [m.needs]);
  // The observer's own needs join the expressions'.
  const observing = monitor(
    { warning: compileExpression("oom_score_adj > 0", VARIABLE_NAMES) },
    true,
  );
  assert.deepEqual(observing.needs, { ...none, oomScoreAdj: true, memory: true });
  observing.refresh();
  assert.deepEqual(asked.at(-1), EVERY_FIGURE);
  assert.deepEqual(observed, [[10, 11]]);
  // Every file read by the scans: they fit the trends too, and a refresh is moot.
  const everyFile = monitor({
    warning: compileExpression("oom_score > 900 && oom_score_adj > 0", VARIABLE_NAMES),
    critical: compileExpression(
      "memory_working_set_usage > 90 && io_pressure_some_avg10 > 50",
      VARIABLE_NAMES,
    ),
  }, true);
  assert.deepEqual(everyFile.needs, { ...EVERY_FIGURE, trends: true });
  everyFile.refresh();
  assert.equal(observed.length, 1);
  // A webhook body carries every variable: every scan reads everything, and a refresh is moot.
  const hooked = monitor({}, true, true);
  assert.deepEqual(hooked.needs, EVERY_FIGURE);
  hooked.refresh();
  assert.equal(observed.length, 1);
});

Deno.test("a scrape's read that fails leaves the scans' figures, logged, not thrown", () => {
  const logs: string[] = [];
  let observed = 0;
  const monitor = new Monitor(monitorOptions(), {
    source: {
      scan: () => {
        throw new Error("procfs went away");
      },
      readStartTime: () => undefined,
      readSignalMasks: () => CATCHES_ALL,
    },
    log: new Logger("debug", "text", (line) => logs.push(line)),
    observer: {
      ...recordingObserver([]),
      scanNeeds: { ...EVERY_FIGURE, oomScore: false },
      observeFigures: () => observed++,
    },
  });
  monitor.refresh();
  assert.equal(observed, 0);
  assert.ok(logs.some((l) => l.includes("procfs went away")), logs.join("\n"));
});
