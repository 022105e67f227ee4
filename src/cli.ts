/**
 * The command line: flags, defaults, validation and help. Turns argv into a typed command or a
 * {@link UsageError} naming the flag at fault.
 * @module
 */
import { parseArgs } from "node:util";
import { type CompiledExpression, compileExpression, ExpressionError } from "./expression.ts";
import { parseDuration } from "./duration.ts";
import { parseSignal } from "./signals.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./log.ts";
import { UsageError } from "./usage_error.ts";
import { VARIABLE_NAMES, VARIABLES } from "./variables.ts";
import { type ListenAddress, parseMetricsAddress } from "./server.ts";
import type { CmdlineLabel } from "./metrics.ts";

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
export interface MonitorConfig extends FsRoots, LogOptions {
  /** Expression that sends the warning signal. */
  warning: CompiledExpression;
  /** Expression that sends the critical signal; evaluated first. */
  critical: CompiledExpression;
  /** Time between the start of one scan and the next. */
  loopIntervalMs: number;
  /** Minimum time before the same severity is sent again to the same process. */
  cooldownMs: number;
  /** Signal sent when `warning` matches. */
  warningSignal: Deno.Signal;
  /** Signal sent when `critical` matches. */
  criticalSignal: Deno.Signal;
  /** Only processes whose command line matches one of these (all when empty). */
  include: RegExp[];
  /** Processes whose command line matches one of these are never watched. */
  exclude: RegExp[];
  /** Evaluate and log, but send nothing. */
  dryRun: boolean;
  /** Where to serve metrics; undefined disables the server. */
  metricsAddress: ListenAddress | undefined;
  /** How the `cmdline` metric label is filled. */
  cmdlineLabel: CmdlineLabel;
}

/** Options of `oomhero inspect`. */
export interface InspectConfig extends FsRoots, LogOptions {
  /** `table` for a terminal, `json` for tools. */
  format: "table" | "json";
  /** Only these pids (all when empty). */
  pids: number[];
  /** Only processes whose command line matches one of these (all when empty). */
  include: RegExp[];
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
  "warning-signal": { type: "string", default: "SIGUSR1", help: "signal sent on warning" },
  "critical-signal": { type: "string", default: "SIGUSR2", help: "signal sent on critical" },
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

function monitorCommand(args: string[]): Command {
  const v = parseFlags(args, MONITOR_FLAGS);
  if (v.help) return { kind: "help", text: helpText() };
  if (v.version) return { kind: "version" };
  return {
    kind: "monitor",
    config: {
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
    },
  };
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
${VARIABLES.map((v) => `  ${v.name.padEnd(30)} ${v.unit.padEnd(6)} ${v.description}`).join("\n")}
`;
}

/** The `inspect --help` text. */
export function inspectHelpText(): string {
  return `oomhero inspect: print every visible process with every variable and where it came from.

Usage:
  oomhero inspect [--format=table|json] [--pid=N]... [--include=REGEX]...

Flags:
${flagLines(INSPECT_FLAGS)}
`;
}
