/**
 * The flags of `oomhero` and `oomhero inspect`, with their defaults and help lines, and the strict
 * parser that turns argv into their values.
 * @module
 */
import { parseArgs } from "node:util";
import { formatDuration } from "../base/duration.ts";
import { LOG_FORMATS, LOG_LEVELS } from "../base/log.ts";
import { didYouMean } from "../base/suggest.ts";
import { UsageError } from "../base/usage_error.ts";
import { DEFAULT_TREND_WINDOW_MS } from "../collect/trend.ts";

/** One flag: its type, value placeholder, alias, whether it repeats, default and help line. */
export interface FlagSpec {
  type: "string" | "boolean";
  /** What goes in the value, for `--help`: `EXPR`, `DURATION`, ... */
  value?: string;
  /** A one-letter alias, e.g. `h` for `-h`. */
  short?: string;
  multiple?: boolean;
  default?: string;
  help: string;
}

const COMMON_FLAGS: Record<string, FlagSpec> = {
  "procfs": { type: "string", value: "DIR", default: "/proc", help: "where procfs is mounted" },
  "cgroupfs": {
    type: "string",
    value: "DIR",
    default: "/sys/fs/cgroup",
    help: "where cgroupfs is mounted",
  },
  "log-level": { type: "string", value: "LEVEL", default: "info", help: LOG_LEVELS.join("|") },
  "log-format": {
    type: "string",
    value: "FORMAT",
    default: "text",
    help: LOG_FORMATS.join("|"),
  },
  "help": { type: "boolean", short: "h", help: "print this help and exit" },
};

/** The monitor's flags: the original tool's contract plus our additions. */
export const MONITOR_FLAGS: Readonly<Record<string, FlagSpec>> = {
  "warning": {
    type: "string",
    value: "EXPR",
    help: "expression that sends the warning signal (required)",
  },
  "critical": {
    type: "string",
    value: "EXPR",
    help: "expression that sends the critical signal (required)",
  },
  "loop-interval": {
    type: "string",
    value: "DURATION",
    default: "100ms",
    help: "how often processes are scanned",
  },
  "cooldown-interval": {
    type: "string",
    value: "DURATION",
    default: "30s",
    help: "minimum time between repeated signals of one severity to one process",
  },
  "trend-window": {
    type: "string",
    value: "DURATION",
    default: formatDuration(DEFAULT_TREND_WINDOW_MS),
    help: "span of memory history the growth variables are fitted over",
  },
  "warning-signal": {
    type: "string",
    value: "SIGNAL",
    default: "SIGUSR1",
    help: "signal sent on warning",
  },
  "critical-signal": {
    type: "string",
    value: "SIGNAL",
    default: "SIGUSR2",
    help: "signal sent on critical",
  },
  "http-file-path": {
    type: "string",
    value: "FILE",
    help: "POST alerts to the webhook this YAML/JSON file describes, instead of signals",
  },
  "signal-too": { type: "boolean", help: "with --http-file-path, send the signals as well" },
  "signal-unhandled": {
    type: "boolean",
    help: "send signals even to processes that do not catch them (may kill them)",
  },
  "include": {
    type: "string",
    value: "REGEX",
    multiple: true,
    help: "watch only command lines matching this regex (repeatable)",
  },
  "exclude": {
    type: "string",
    value: "REGEX",
    multiple: true,
    help: "never watch command lines matching this regex (repeatable)",
  },
  "dry-run": { type: "boolean", help: "evaluate and log, but send no signal" },
  "metrics-address": {
    type: "string",
    value: "ADDR",
    default: ":9000",
    help: "host:port for /metrics, /healthz, /readyz; empty disables",
  },
  "cmdline-label": {
    type: "string",
    value: "MODE",
    default: "first-arg",
    help: "cmdline metric label: first-arg|basename|none",
  },
  ...COMMON_FLAGS,
  "version": { type: "boolean", help: "print the version and exit" },
};

/** The flags of `oomhero inspect`. */
export const INSPECT_FLAGS: Readonly<Record<string, FlagSpec>> = {
  "format": { type: "string", value: "FORMAT", default: "table", help: "table|json" },
  "warning-signal": {
    type: "string",
    value: "SIGNAL",
    default: "SIGUSR1",
    help: "the monitor's warning signal, to show its handling",
  },
  "critical-signal": {
    type: "string",
    value: "SIGNAL",
    default: "SIGUSR2",
    help: "the monitor's critical signal, to show its handling",
  },
  "pid": { type: "string", value: "PID", multiple: true, help: "only this pid (repeatable)" },
  "sample": {
    type: "string",
    value: "DURATION",
    default: "2s",
    help: "scan for this long to measure the growth variables; 0 for one scan",
  },
  "include": {
    type: "string",
    value: "REGEX",
    multiple: true,
    help: "only command lines matching this regex (repeatable)",
  },
  ...COMMON_FLAGS,
};

/** Flag values by name, defaults filled in. */
export type Values = Record<string, string | boolean | string[] | undefined>;

/** `unknown flag`, with the flags it may be a typo of (`--warnign`, `-warning`, `--Warning`). */
function unknownFlag(raw: string, specs: Readonly<Record<string, FlagSpec>>): UsageError {
  const name = raw.replace(/^-+/, "").split("=")[0];
  // A flag of the other command is no typo: say where it belongs.
  const [otherSpecs, here, there] = specs === MONITOR_FLAGS
    ? [INSPECT_FLAGS, "the monitor", "oomhero inspect"]
    : [MONITOR_FLAGS, "oomhero inspect", "the monitor"];
  if (Object.hasOwn(otherSpecs, name)) {
    return new UsageError(raw, `unknown flag for ${here}; it is a flag of ${there}`);
  }
  const hint = didYouMean(name, Object.keys(specs), (f) => `--${f}`);
  return new UsageError(raw, `unknown flag${hint === undefined ? "" : ` (${hint})`}; see --help`);
}

/**
 * Parses flags strictly: unknown flags, missing values, stray arguments and a single-valued flag
 * given twice are errors (the last-one-wins rule hides typos in long manifests).
 */
export function parseFlags(args: string[], specs: Readonly<Record<string, FlagSpec>>): Values {
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, s]) => [
      name,
      { type: s.type, multiple: s.multiple ?? false, ...(s.short ? { short: s.short } : {}) },
    ]),
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
    if (!spec) throw unknownFlag(token.rawName, specs);
    if (token.rawName !== `--${token.name}` && token.rawName !== `-${spec.short}`) {
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
