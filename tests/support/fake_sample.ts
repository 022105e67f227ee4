/**
 * Made-up samples, monitor settings, observers and a whole fake-driven monitor for tests that
 * drive the monitor or the metrics without a kernel.
 * @module
 */
import { compileExpression } from "../../src/evaluate/expression.ts";
import { Logger } from "../../src/base/log.ts";
import {
  Monitor,
  type MonitorDeps,
  type MonitorOptions,
  type ScanObserver,
} from "../../src/scan/monitor.ts";
import type { ProcessSample } from "../../src/collect/sample.ts";
import type { SignalMasks } from "../../src/kernel/procfs.ts";
import { NO_TREND } from "../../src/collect/trend.ts";
import { VARIABLE_NAMES, type Variables } from "../../src/collect/variables.ts";

/** Every variable at 0 and the trend variables at "no trend", overridden by `values`. */
export function fakeVariables(values: Record<string, number> = {}): Variables {
  return { ...Object.fromEntries(VARIABLE_NAMES.map((n) => [n, 0])), ...NO_TREND, ...values };
}

/** A process whose variables are those of {@link fakeVariables}; its start time is 1000 + pid. */
export function fakeSample(
  pid: number,
  vars: Record<string, number>,
  cmdline = `app-${pid}`,
): ProcessSample {
  return {
    pid,
    startTime: 1000 + pid,
    cmdline,
    firstArg: cmdline.split(" ")[0],
    source: {
      version: 2,
      view: "host",
      path: "/",
      memoryDir: "/",
      limitDir: "",
      memoryMaxScope: "effective",
      pressureSource: "/proc/pressure",
      pressureNote: "",
    },
    variables: fakeVariables(vars),
  };
}

/** The monitor's settings with the defaults and the README's first example thresholds. */
export function monitorOptions(overrides: Partial<MonitorOptions> = {}): MonitorOptions {
  return {
    warning: compileExpression("memory_usage > 75", VARIABLE_NAMES),
    critical: compileExpression("memory_usage > 90", VARIABLE_NAMES),
    loopIntervalMs: 100,
    cooldownMs: 30_000,
    warningSignal: "SIGUSR1",
    criticalSignal: "SIGUSR2",
    include: [],
    exclude: [],
    dryRun: false,
    ...overrides,
  };
}

/** The masks of a process that catches every signal: the monitor sends it whatever it picks. */
export const CATCHES_ALL: SignalMasks = { blocked: 0n, ignored: 0n, caught: (1n << 64n) - 1n };

/**
 * An observer that records each signal as `severity signal result`, each error as
 * `error reason` and each withheld signal as `withheld severity signal reason`; into `alerts`, the
 * process of each as `pid severity outcome`.
 */
export function recordingObserver(counted: string[], alerts?: string[]): ScanObserver {
  return {
    observeScan: () => {},
    countSignal: (severity, signal, result) => counted.push(`${severity} ${signal} ${result}`),
    countError: (reason) => counted.push(`error ${reason}`),
    countWithheld: (severity, signal, reason) =>
      counted.push(`withheld ${severity} ${signal} ${reason}`),
    observeAlert: (sample, severity, outcome) =>
      alerts?.push(`${sample.pid} ${severity} ${outcome}`),
  };
}

/** A {@link Monitor} over fake samples, a fake kill and a clock the test moves, and what it did. */
export interface MonitorHarness {
  monitor: Monitor;
  /** What the next scan sees (before the include/exclude filter). */
  samples: ProcessSample[];
  /** Start times that win over the samples' own: a pid reused since the scan. */
  startTimes: Map<number, number>;
  /** Signals sent, as [pid, signal]. */
  sent: [number, Deno.Signal][];
  /** What the observer was told, as {@link recordingObserver} writes it. */
  counted: string[];
  /** The process of each send attempt or withholding, as {@link recordingObserver} writes it. */
  alerts: string[];
  /** Log lines, text format, every level. */
  logs: string[];
  clock: { now: number };
  /** Scans the source was asked for. */
  scans: number;
  /** When set, the fake kill throws it. */
  killError: { value?: Error };
  /** Per pid, its signal masks or the error reading them throws; {@link CATCHES_ALL} when unset. */
  masks: Map<number, SignalMasks | Error>;
  /** How often a status file was read. */
  statusReads: number;
}

/** A monitor with {@link monitorOptions}(`overrides`) as pid 4242, all fake; `deps` override. */
export function monitorHarness(
  overrides: Partial<MonitorOptions> = {},
  deps: Partial<MonitorDeps> = {},
): MonitorHarness {
  const h = {
    samples: [],
    startTimes: new Map(),
    sent: [],
    counted: [],
    alerts: [],
    logs: [],
    clock: { now: 0 },
    scans: 0,
    killError: {},
    masks: new Map(),
    statusReads: 0,
  } as unknown as MonitorHarness;
  h.monitor = new Monitor(monitorOptions(overrides), {
    source: {
      scan: (watched) => {
        h.scans++;
        return h.samples.filter((s) => watched(s.cmdline, s.pid));
      },
      readStartTime: (pid) =>
        h.startTimes.get(pid) ?? h.samples.find((s) => s.pid === pid)?.startTime,
      readSignalMasks: (pid) => {
        h.statusReads++;
        const masks = h.masks.get(pid) ?? CATCHES_ALL;
        if (masks instanceof Error) throw masks;
        return masks;
      },
    },
    log: new Logger("debug", "text", (line) => h.logs.push(line)),
    observer: recordingObserver(h.counted, h.alerts),
    kill: (pid, signal) => {
      if (h.killError.value) throw h.killError.value;
      h.sent.push([pid, signal]);
    },
    selfPid: 4242,
    now: () => h.clock.now,
    ...deps,
  });
  return h;
}
