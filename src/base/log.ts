/**
 * A small structured logger: one event per line on stderr, as text or JSON.
 * Written here rather than taken from npm because it is 60 lines and costs no heap at startup.
 * @module
 */

/** Log levels, least severe first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** One of `debug`, `info`, `warn`, `error`. */
export type LogLevel = typeof LOG_LEVELS[number];
/** Output formats. */
export const LOG_FORMATS = ["text", "json"] as const;
/** `text` (key=value) or `json` (one object per line). */
export type LogFormat = typeof LOG_FORMATS[number];

/** Structured fields attached to an event. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** Decimals a logged figure keeps, as upstream logs them: `memory_usage=60.68`. */
export const LOG_DECIMALS = 2;

/**
 * Figures as a log line shows them: rounded to {@link LOG_DECIMALS} decimals (byte counts and
 * scores are whole already), not `memory_usage=60.6781005859375`.
 */
export function logFigures(values: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(values)) {
    out[name] = Number(value.toFixed(LOG_DECIMALS));
  }
  return out;
}

/** Where log lines go; tests pass their own. */
export type LogSink = (line: string) => void;

const encoder = new TextEncoder();

/** Writes a line to stderr synchronously, so lines are never interleaved or lost on exit. */
export function stderrSink(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}

/** Formats a text value: bare when it is a simple token, JSON-quoted otherwise. */
function textValue(value: string | number | boolean): string {
  const s = String(value);
  return /^[\w.:/@%+-]+$/.test(s) ? s : JSON.stringify(s);
}

/** A leveled logger that writes one line per event. */
export class Logger {
  readonly #threshold: number;
  readonly #format: LogFormat;
  readonly #sink: LogSink;

  constructor(level: LogLevel = "info", format: LogFormat = "text", sink: LogSink = stderrSink) {
    this.#threshold = LOG_LEVELS.indexOf(level);
    this.#format = format;
    this.#sink = sink;
  }

  /** Whether events of this level are written; lets callers skip building costly fields. */
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= this.#threshold;
  }

  /** Writes one event. */
  log(level: LogLevel, msg: string, fields: LogFields = {}): void {
    if (!this.enabled(level)) return;
    const time = new Date().toISOString();
    const defined = Object.entries(fields).filter((e): e is [string, string | number | boolean] =>
      e[1] !== undefined
    );
    if (this.#format === "json") {
      this.#sink(JSON.stringify({ time, level, msg, ...Object.fromEntries(defined) }));
    } else {
      const rest = defined.map(([k, v]) => ` ${k}=${textValue(v)}`).join("");
      this.#sink(`${time} ${level.toUpperCase().padEnd(5)} ${msg}${rest}`);
    }
  }

  /** Logs at debug level. */
  debug(msg: string, fields?: LogFields): void {
    this.log("debug", msg, fields);
  }
  /** Logs at info level. */
  info(msg: string, fields?: LogFields): void {
    this.log("info", msg, fields);
  }
  /** Logs at warn level. */
  warn(msg: string, fields?: LogFields): void {
    this.log("warn", msg, fields);
  }
  /** Logs at error level. */
  error(msg: string, fields?: LogFields): void {
    this.log("error", msg, fields);
  }
}
