/**
 * The command line: flags, defaults, validation and help. Turns argv into a typed command or a
 * {@link UsageError} naming the flag at fault.
 * @module
 */
import { parseArgs } from "node:util";
import {
  type CompiledExpression,
  compileExpression,
  ExpressionError,
} from "../evaluate/expression.ts";
import { formatDuration, parseDuration } from "../base/duration.ts";
import { parseSignal } from "../act/signals.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../base/log.ts";
import { UsageError } from "../base/usage_error.ts";
import { VARIABLE_NAMES, VARIABLES } from "../collect/variables.ts";
import { type ListenAddress, parseMetricsAddress } from "../report/listen_address.ts";
import type { CmdlineLabel } from "../report/metrics.ts";
import type { MonitorOptions } from "../scan/monitor.ts";
import {
  DEFAULT_TREND_WINDOW_MS,
  DELTA_SPAN_MS,
  MIN_TREND_SAMPLES,
  MIN_TREND_SPAN_MS,
  MIN_TREND_WINDOW_MS,
  WINDOW_VARIABLES,
} from "../collect/trend.ts";

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
}

/** What the command line asks for. */
export type Command =
  | { kind: "help"; text: string }
  | { kind: "version" }
  | { kind: "monitor"; config: MonitorConfig }
  | { kind: "inspect"; config: InspectConfig };

interface FlagSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  default?: string;
  help: string;
}

const COMMON_FLAGS: Record<string, FlagSpec> = {
  "procfs": { type: "string", default: "/proc", help: "where procfs is mounted" },
  "cgroupfs": { type: "string", default: "/sys/fs/cgroup", help: "where cgroupfs is mounted" },
  "log-level": { type: "string", default: "info", help: LOG_LEVELS.join("|") },
  "log-format": { type: "string", default: "text", help: LOG_FORMATS.join("|") },
  "help": { type: "boolean", help: "print this help and exit" },
};

/** The monitor's flags: the original tool's contract plus our additions. */
export const MONITOR_FLAGS: Readonly<Record<string, FlagSpec>> = {
  "warning": { type: "string", help: "expression that sends the warning signal (required)" },
  "critical": { type: "string", help: "expression that sends the critical signal (required)" },
  "loop-interval": { type: "string", default: "100ms", help: "how often processes are scanned" },
  "cooldown-interval": {
    type: "string",
    default: "30s",
    help: "minimum time between repeated signals of one severity to one process",
  },
  "trend-window": {
    type: "string",
    default: formatDuration(DEFAULT_TREND_WINDOW_MS),
    help: "span of memory history the growth variables are fitted over",
  },
  "warning-signal": { type: "string", default: "SIGUSR1", help: "signal sent on warning" },
  "critical-signal": { type: "string", default: "SIGUSR2", help: "signal sent on critical" },
  "http-file-path": {
    type: "string",
    help: "POST alerts to the webhook this YAML/JSON file describes, instead of signals",
  },
  "signal-too": { type: "boolean", help: "with --http-file-path, send the signals as well" },
  "include": {
    type: "string",
    multiple: true,
    help: "watch only command lines matching this regex (repeatable)",
  },
  "exclude": {
    type: "string",
    multiple: true,
    help: "never watch command lines matching this regex (repeatable)",
  },
  "dry-run": { type: "boolean", help: "evaluate and log, but send no signal" },
  "metrics-address": {
    type: "string",
    default: ":9000",
    help: "host:port for /metrics, /healthz, /readyz; empty disables",
  },
  "cmdline-label": {
    type: "string",
    default: "first-arg",
    help: "cmdline metric label: first-arg|basename|none",
  },
  ...COMMON_FLAGS,
  "version": { type: "boolean", help: "print the version and exit" },
};

/** The flags of `oomhero inspect`. */
export const INSPECT_FLAGS: Readonly<Record<string, FlagSpec>> = {
  "format": { type: "string", default: "table", help: "table|json" },
  "pid": { type: "string", multiple: true, help: "only this pid (repeatable)" },
  "sample": {
    type: "string",
    default: "2s",
    help: "scan for this long to measure the growth variables; 0 for one scan",
  },
  "include": {
    type: "string",
    multiple: true,
    help: "only command lines matching this regex (repeatable)",
  },
  ...COMMON_FLAGS,
};

type Values = Record<string, string | boolean | string[] | undefined>;

/**
 * Parses flags strictly: unknown flags, missing values, stray arguments and a single-valued flag
 * given twice are errors (the last-one-wins rule hides typos in long manifests).
 */
function parseFlags(args: string[], specs: Readonly<Record<string, FlagSpec>>): Values {
  const options = Object.fromEntries(
    Object.entries(specs).map((
      [name, s],
    ) => [name, { type: s.type, multiple: s.multiple ?? false }]),
  );
  const { values, tokens } = parseArgs({
    args,
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind === "positional") {
      throw new UsageError(token.value, "unexpected argument (flags take the form --name=value)");
    }
    if (token.kind !== "option") continue;
    const spec = specs[token.name];
    if (!spec) throw new UsageError(token.rawName, "unknown flag; see --help");
    if (token.rawName !== `--${token.name}`) {
      throw new UsageError(token.rawName, `unknown flag; did you mean --${token.name}?`);
    }
    if (spec.type === "boolean" && token.value !== undefined) {
      throw new UsageError(token.rawName, "takes no value");
    }
    if (spec.type === "string") {
      const flagAsValue = !token.inlineValue && token.value?.startsWith("--") &&
        token.value.slice(2).split("=")[0] in specs;
      if (token.value === undefined || flagAsValue) {
        throw new UsageError(token.rawName, "needs a value");
      }
    }
    if (!spec.multiple && seen.has(token.name)) {
      throw new UsageError(token.rawName, "given more than once");
    }
    seen.add(token.name);
  }
  const out: Values = { ...values };
  for (const [name, spec] of Object.entries(specs)) out[name] ??= spec.default;
  return out;
}

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
        throw new Error(`invalid regular expression "${v}": ${(e as Error).message}`);
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
    return compileExpression(text, VARIABLE_NAMES);
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
      `${formatDuration(window)} is shorter than ${formatDuration(MIN_TREND_WINDOW_MS)}: ` +
        `a trend needs samples spanning ${formatDuration(MIN_TREND_SPAN_MS)}`,
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
  if (/^\s*0+(\.0*)?(ms|s|m|h)?\s*$/.test(text)) return 0;
  const ms = withFlag("--sample", () => parseDuration(text));
  if (ms < MIN_TREND_SPAN_MS) {
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
  const signalFlag = ["--warning-signal", "--critical-signal"].find((flag) =>
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
    warningSignal: withFlag("--warning-signal", () => parseSignal(v["warning-signal"] as string)),
    criticalSignal: withFlag(
      "--critical-signal",
      () => parseSignal(v["critical-signal"] as string),
    ),
    include: regexes("--include", v.include as string[] | undefined),
    exclude: regexes("--exclude", v.exclude as string[] | undefined),
    dryRun: v["dry-run"] === true,
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
    },
  };
}

/**
 * Parses the command line.
 * @throws {UsageError} for any bad input.
 */
export function parseCommandLine(args: string[]): Command {
  if (args[0] === "inspect") return inspectCommand(args.slice(1));
  return monitorCommand(args);
}

function flagLines(specs: Readonly<Record<string, FlagSpec>>): string {
  return Object.entries(specs).map(([name, s]) => {
    const left = `  --${name}${s.type === "string" ? "=VALUE" : ""}`;
    const def = s.default !== undefined ? ` (default ${s.default === "" ? '""' : s.default})` : "";
    return `${left.padEnd(30)} ${s.help}${def}`;
  }).join("\n");
}

/** The monitor's `--help` text. */
export function helpText(): string {
  return `oomhero: signals processes before the OOM killer does.

Usage:
  oomhero --warning=EXPR --critical=EXPR [flags]
  oomhero inspect [flags]      print every visible process with every variable

Flags:
${flagLines(MONITOR_FLAGS)}

Expressions use && || ! > < >= <= == != + - * / % ^, parentheses, numbers, sizes (512Mi, 2G)
and min max abs floor ceil round. A process matches when the expression is true or >= 1.
Variables:
${VARIABLES.map((v) => `  ${v.name.padEnd(30)} ${v.unit.padEnd(7)} ${v.description}`).join("\n")}
`;
}

/** The `inspect --help` text. */
export function inspectHelpText(): string {
  return `oomhero inspect: print every visible process with every variable and where it came from.

Usage:
  oomhero inspect [--format=table|json] [--pid=N]... [--include=REGEX]... [--sample=DURATION]

Flags:
${flagLines(INSPECT_FLAGS)}
`;
}
