/**
 * The command line: validation of the flags' values into a typed command, or a
 * {@link UsageError} naming the flag at fault. The flags are in flags.ts, the help in help.ts.
 * @module
 */
import {
  type CompiledExpression,
  compileExpression,
  ExpressionError,
} from "../evaluate/expression.ts";
import { formatDuration, parseDuration } from "../base/duration.ts";
import { parseSignal } from "../act/signals.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../base/log.ts";
import { didYouMean } from "../base/suggest.ts";
import { UsageError } from "../base/usage_error.ts";
import { BYTE_VARIABLE_NAMES, VARIABLE_NAMES } from "../collect/variables.ts";
import { type ListenAddress, parseMetricsAddress } from "../report/listen_address.ts";
import type { CmdlineLabel } from "../report/metrics.ts";
import type { MonitorOptions } from "../scan/monitor.ts";
import {
  DELTA_SPAN_MS,
  MIN_TREND_SAMPLES,
  MIN_TREND_SPAN_MS,
  MIN_TREND_WINDOW_MS,
  WINDOW_VARIABLES,
} from "../collect/trend.ts";
import { INSPECT_FLAGS, MONITOR_FLAGS, parseFlags, type Values } from "./flags.ts";
import { helpText, inspectHelpText } from "./help.ts";

/** Where the kernel's files are; DaemonSets mount the host's trees elsewhere, tests use fixtures. */
export interface FsRoots {
  /** procfs mount, `/proc` by default. */
  procfs: string;
  /** cgroupfs mount, `/sys/fs/cgroup` by default. */
  cgroupfs: string;
}

/** Logging choices shared by every command. */
export interface LogOptions {
  /** Least severe level written. */
  logLevel: LogLevel;
  /** `text` or `json`. */
  logFormat: LogFormat;
}

/** Everything the monitor needs, validated. */
export interface MonitorConfig extends FsRoots, LogOptions, MonitorOptions {
  /** Where to serve metrics; undefined disables the server. */
  metricsAddress: ListenAddress | undefined;
  /** How the `cmdline` metric label is filled. */
  cmdlineLabel: CmdlineLabel;
  /** The webhook file (`--http-file-path`); undefined sends signals only. */
  webhookFile: string | undefined;
  /** With a webhook, send the signals as well. */
  signalToo: boolean;
  /** The span the growth variables are fitted over. */
  trendWindowMs: number;
}

/** Options of `oomhero inspect`. */
export interface InspectConfig extends FsRoots, LogOptions {
  /** `table` for a terminal, `json` for tools. */
  format: "table" | "json";
  /** Only these pids (all when empty). */
  pids: number[];
  /** Only processes whose command line matches one of these (all when empty). */
  include: RegExp[];
  /** How long to scan to measure the trend variables; 0 for a single scan. */
  sampleMs: number;
  /** The monitor's warning signal, whose handling is shown. */
  warningSignal: Deno.Signal;
  /** The monitor's critical signal, whose handling is shown. */
  criticalSignal: Deno.Signal;
}

/** What the command line asks for. */
export type Command =
  | { kind: "help"; text: string }
  | { kind: "version" }
  | { kind: "monitor"; config: MonitorConfig }
  | { kind: "inspect"; config: InspectConfig };

function withFlag<T>(flag: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(flag, (e as Error).message);
  }
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(flag, `"${value}" is not one of ${allowed.join(", ")}`);
}

function regexes(flag: string, values: string[] | undefined): RegExp[] {
  return (values ?? []).map((v) =>
    withFlag(flag, () => {
      if (v === "") throw new Error("is empty; give a regular expression");
      try {
        return new RegExp(v);
      } catch (e) {
        // The engine's message repeats "Invalid regular expression: /v/:"; keep what follows.
        const why = (e as Error).message.replace(
          /^Invalid regular expression: \/.*\/[a-z]*: /s,
          "",
        );
        throw new Error(
          `invalid regular expression "${v}": ${why[0].toLowerCase()}${why.slice(1)}`,
        );
      }
    })
  );
}

function expression(flag: string, text: string | undefined): CompiledExpression {
  if (text === undefined) {
    throw new UsageError(
      flag,
      'is required, e.g. --warning "memory_usage > 75" ' +
        '--critical "memory_usage > 90"',
    );
  }
  try {
    return compileExpression(text, VARIABLE_NAMES, BYTE_VARIABLE_NAMES);
  } catch (e) {
    if (e instanceof ExpressionError) {
      throw new UsageError(flag, `invalid expression: ${e.message}`);
    }
    throw e;
  }
}

/**
 * Rejects a `--trend-window` too short to measure any trend, or one (or a loop interval) that
 * would leave the trend variables the expressions use forever unmeasured: an error at startup,
 * not an expression that silently never matches.
 */
function checkTrendWindow(config: MonitorConfig): void {
  const { trendWindowMs: window, loopIntervalMs: interval } = config;
  if (window < MIN_TREND_WINDOW_MS) {
    throw new UsageError(
      "--trend-window",
      `${formatDuration(window)} is below the minimum of ${formatDuration(MIN_TREND_WINDOW_MS)}: ` +
        `a trend is fitted over samples spanning at least ${formatDuration(MIN_TREND_SPAN_MS)}, ` +
        "and the window leaves room for the timer's jitter",
    );
  }
  const used = new Set([...config.warning.variables, ...config.critical.variables]);
  const least = MIN_TREND_SAMPLES * interval;
  const windowed = WINDOW_VARIABLES.find((name) => used.has(name));
  if (windowed !== undefined && window < least) {
    throw new UsageError(
      "--trend-window",
      `${formatDuration(window)} holds fewer than ${MIN_TREND_SAMPLES} scans at ` +
        `--loop-interval ${formatDuration(interval)}, so ${windowed} would never be measured; ` +
        `make it at least ${formatDuration(least)}`,
    );
  }
  if (used.has("memory_usage_delta_10s") && DELTA_SPAN_MS < least) {
    throw new UsageError(
      "--loop-interval",
      `${formatDuration(interval)} leaves fewer than ${MIN_TREND_SAMPLES} scans in ` +
        `${formatDuration(DELTA_SPAN_MS)}, so memory_usage_delta_10s would never be measured; ` +
        `make it at most ${formatDuration(Math.floor(DELTA_SPAN_MS / MIN_TREND_SAMPLES))}`,
    );
  }
}

/** `inspect --sample`: 0 for a single scan, else at least the span a trend is measured over. */
function sampleDuration(text: string): number {
  const ms = withFlag("--sample", () => parseDuration(text, { zero: true }));
  if (ms > 0 && ms < MIN_TREND_SPAN_MS) {
    throw new UsageError(
      "--sample",
      `"${text}" is shorter than ${formatDuration(MIN_TREND_SPAN_MS)}, ` +
        "the least span a trend is measured over; give 0 for a single scan",
    );
  }
  return ms;
}

function fsRoots(v: Values): FsRoots & LogOptions {
  const path = (flag: string) => {
    const p = v[flag] as string;
    if (p.trim() === "") throw new UsageError(`--${flag}`, "is empty; give a directory");
    return p;
  };
  return {
    procfs: path("procfs"),
    cgroupfs: path("cgroupfs"),
    logLevel: oneOf("--log-level", v["log-level"] as string, LOG_LEVELS),
    logFormat: oneOf("--log-format", v["log-format"] as string, LOG_FORMATS),
  };
}

/**
 * `--http-file-path` and `--signal-too`. The webhook replaces signals, as upstream's does, so a
 * signal flag without `--signal-too` would silently do nothing: that is an error instead.
 */
function webhookFlags(
  v: Values,
  args: string[],
): Pick<MonitorConfig, "webhookFile" | "signalToo"> {
  const file = v["http-file-path"] as string | undefined;
  const signalToo = v["signal-too"] === true;
  if (file === undefined) {
    if (signalToo) throw new UsageError("--signal-too", "needs --http-file-path");
    return { webhookFile: undefined, signalToo };
  }
  if (file.trim() === "") {
    throw new UsageError("--http-file-path", "is empty; give a YAML or JSON file");
  }
  // parseFlags has rejected flags given as values, so a match here is the flag itself.
  const signalFlag = ["--warning-signal", "--critical-signal", "--signal-unhandled"].find((flag) =>
    args.some((arg) => arg.split("=")[0] === flag)
  );
  if (signalFlag && !signalToo) {
    throw new UsageError(
      signalFlag,
      "has no effect with --http-file-path, which replaces signals; add --signal-too for both",
    );
  }
  return { webhookFile: file, signalToo };
}

/** `--warning-signal` and `--critical-signal`, of the monitor and of `inspect`. */
function signalFlags(v: Values): Pick<MonitorConfig, "warningSignal" | "criticalSignal"> {
  return {
    warningSignal: withFlag("--warning-signal", () => parseSignal(v["warning-signal"] as string)),
    criticalSignal: withFlag(
      "--critical-signal",
      () => parseSignal(v["critical-signal"] as string),
    ),
  };
}

function monitorCommand(args: string[]): Command {
  const v = parseFlags(args, MONITOR_FLAGS);
  if (v.help) return { kind: "help", text: helpText() };
  if (v.version) return { kind: "version" };
  const config: MonitorConfig = {
    ...fsRoots(v),
    warning: expression("--warning", v.warning as string | undefined),
    critical: expression("--critical", v.critical as string | undefined),
    loopIntervalMs: withFlag(
      "--loop-interval",
      () => parseDuration(v["loop-interval"] as string),
    ),
    cooldownMs: withFlag(
      "--cooldown-interval",
      () => parseDuration(v["cooldown-interval"] as string),
    ),
    ...signalFlags(v),
    include: regexes("--include", v.include as string[] | undefined),
    exclude: regexes("--exclude", v.exclude as string[] | undefined),
    dryRun: v["dry-run"] === true,
    sendUnhandled: v["signal-unhandled"] === true,
    metricsAddress: parseMetricsAddress(v["metrics-address"] as string),
    cmdlineLabel: oneOf("--cmdline-label", v["cmdline-label"] as string, [
      "first-arg",
      "basename",
      "none",
    ]),
    ...webhookFlags(v, args),
    trendWindowMs: withFlag("--trend-window", () => parseDuration(v["trend-window"] as string)),
  };
  checkTrendWindow(config);
  return { kind: "monitor", config };
}

function inspectCommand(args: string[]): Command {
  const v = parseFlags(args, INSPECT_FLAGS);
  if (v.help) return { kind: "help", text: inspectHelpText() };
  const pids = ((v.pid as string[] | undefined) ?? []).map((p) => {
    if (!/^\d+$/.test(p.trim()) || Number(p) < 1) {
      throw new UsageError("--pid", `"${p}" is not a process id (a positive whole number)`);
    }
    return Number(p);
  });
  return {
    kind: "inspect",
    config: {
      ...fsRoots(v),
      format: oneOf("--format", v.format as string, ["table", "json"]),
      pids,
      include: regexes("--include", v.include as string[] | undefined),
      sampleMs: sampleDuration(v.sample as string),
      ...signalFlags(v),
    },
  };
}

/**
 * Parses the command line.
 * @throws {UsageError} for any bad input.
 */
export function parseCommandLine(args: string[]): Command {
  if (args[0] === "inspect") return inspectCommand(args.slice(1));
  const command = args[0] !== undefined && !args[0].startsWith("-") &&
    didYouMean(args[0], ["inspect"]);
  if (command) throw new UsageError(args[0], `unknown command (${command})`);
  return monitorCommand(args);
}
