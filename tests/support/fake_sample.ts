/**
 * Made-up samples, monitor settings and observers for tests that drive the monitor or the
 * metrics without a kernel.
 * @module
 */
import { compileExpression } from "../../src/evaluate/expression.ts";
import type { MonitorOptions, ScanObserver } from "../../src/scan/monitor.ts";
import type { ProcessSample } from "../../src/collect/sample.ts";
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

/** An observer that records each signal as `severity signal result` and each error as `error reason`. */
export function recordingObserver(counted: string[]): ScanObserver {
  return {
    observeScan: () => {},
    countSignal: (severity, signal, result) => counted.push(`${severity} ${signal} ${result}`),
    countError: (reason) => counted.push(`error ${reason}`),
  };
}
