/**
 * Durations as users write them on the command line, in the grammar of the Rust crate
 * `duration_str` (0.21) that the original tool parses its flags with, so its manifests carry over:
 *
 * - a number with a unit, `100ms`, `30s`, `1d`; a bare number is seconds (`30` is `30s`);
 * - spaces between a number and its unit, `1 m`;
 * - terms that add: `1m30s`, `1m 30s`, `1m+30s`, `1m30` (all 90 s);
 * - terms that multiply, in seconds: `1m*10` is 600 s, `1m*10ms` 600 ms (`+` and `*` do not mix);
 * - units in any case: `ns`, `us`/`µs`, `ms`, `s`, `m`, `h`, `d`, `w`, `mon` (30 d), `y` (365 d),
 *   and their longer spellings (`sec`, `min`, `hr`, `hours`, `days`, ...).
 *
 * Beyond the crate, fractions are accepted (`1.5s`, `.5s`). Zero, sub-millisecond results and
 * more than 24 days are rejected: oomhero's timers count milliseconds and wait at most 2^31 of
 * them.
 * @module
 */

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;
const NS_PER_DAY = 86_400n * NS_PER_S;

/** Every unit spelling `duration_str` knows, lower case, with its length in nanoseconds. */
const UNIT_NS: ReadonlyMap<string, bigint> = new Map(
  ([
    [["ns", "nsec", "nanosecond", "nanoseconds"], 1n],
    [["us", "usec", "usecond", "µs", "µsec", "µsecond", "microsecond", "microseconds"], 1_000n],
    [["ms", "msec", "millisecond", "milliseconds"], NS_PER_MS],
    [["s", "sec", "second", "seconds"], NS_PER_S],
    [["m", "min", "minute", "minutes"], 60n * NS_PER_S],
    [["h", "hr", "hour", "hours"], 3_600n * NS_PER_S],
    [["d", "day", "days"], NS_PER_DAY],
    [["w", "week", "weeks"], 7n * NS_PER_DAY],
    [["mon", "month", "months"], 30n * NS_PER_DAY],
    [["y", "year", "years"], 365n * NS_PER_DAY],
  ] as const).flatMap(([names, ns]) => names.map((name) => [name, ns] as const)),
);
const UNIT_LIST = "ns, us (µs), ms, s, m, h, d, w, mon, y";

/** 24 days: longer would overflow timers (2^31 ms), for no use a sidecar has. */
const MAX_MS = 24 * 86_400_000;
const EXAMPLES = "expected a duration such as 100ms, 1.5s, 30 (seconds), 1m30s or 1d";

// A number (digits, optional fraction), optional spaces, an optional unit (letters; µ is U+00B5,
// μ the Greek letter that looks the same); then, between terms, an optional + or *.
const TERM = /\s*(\d+(?:\.\d+)?|\.\d+)(\s*)([a-zA-Z\u00b5\u03bc]*)\s*/y;
const OPERATOR = /[+*]?/y;

/** `digits[.digits]` times `unitNs`, in whole nanoseconds (truncated, as the crate does). */
function termNs(number: string, unitNs: bigint): bigint {
  const [whole, fraction = ""] = number.split(".");
  const scale = 10n ** BigInt(fraction.length);
  return (BigInt(whole || "0") * scale + BigInt(fraction || "0")) * unitNs / scale;
}

/** Parses to nanoseconds; zero allowed. The messages leave naming the flag to the caller. */
function parseNs(text: string): bigint {
  if (text.trim() === "") throw new Error(`is empty; ${EXAMPLES}`);
  if (text.trim().startsWith("-")) {
    throw new Error(`"${text}" is negative; it must be greater than zero`);
  }
  const terms: bigint[] = [];
  let operator: "+" | "*" | undefined;
  let i = 0;
  while (i < text.length) {
    const at = i;
    OPERATOR.lastIndex = i;
    const op = OPERATOR.exec(text)![0];
    if (terms.length === 0 && op !== "") break;
    TERM.lastIndex = i + op.length;
    const m = TERM.exec(text);
    if (!m) break;
    if (terms.length > 0) {
      const kind = op === "*" ? "*" : "+";
      if (operator !== undefined && operator !== kind) {
        throw new Error(`"${text}" mixes + and * at column ${at + 1}; use one or the other`);
      }
      operator = kind;
    }
    const [whole, number, space, written] = m;
    const unit = written.toLowerCase().replace("\u03bc", "µ");
    const unitNs = unit === "" ? NS_PER_S : UNIT_NS.get(unit);
    if (unitNs === undefined) {
      const column = m.index + whole.indexOf(number) + number.length + space.length + 1;
      throw new Error(
        `"${text}" has an unknown unit "${written}" at column ${column}; units are ${UNIT_LIST}`,
      );
    }
    terms.push(termNs(number, unitNs));
    i = TERM.lastIndex;
  }
  if (i < text.length || terms.length === 0) {
    throw new Error(
      `"${text}" is not a duration (bad at column ${i + 1}, "${text.slice(i)}"); ${EXAMPLES}`,
    );
  }
  // Multiplication is of seconds, as in the crate: 1m*10ms is 60 × 0.01 s.
  return operator === "*"
    ? terms.reduce((product, ns) => product * ns / NS_PER_S)
    : terms.reduce((sum, ns) => sum + ns);
}

/** Options of {@link parseDuration}. */
export interface DurationOptions {
  /** Accept zero (`0`, `0s`), e.g. for "no sampling"; otherwise zero is an error. */
  zero?: boolean;
}

/**
 * Parses a duration into milliseconds (possibly fractional: `1500us` is 1.5).
 * @throws {Error} with a message saying what is wrong (the caller names the flag).
 */
export function parseDuration(text: string, options: DurationOptions = {}): number {
  const ns = parseNs(text);
  if (ns === 0n) {
    if (options.zero) return 0;
    throw new Error(`"${text}" is zero; it must be greater than zero`);
  }
  if (ns < NS_PER_MS) throw new Error(`"${text}" is shorter than 1ms`);
  if (ns > BigInt(MAX_MS) * NS_PER_MS) {
    throw new Error(`"${text}" is longer than the maximum of 24d, the longest a timer waits`);
  }
  return Number(ns) / Number(NS_PER_MS);
}

/** Formats milliseconds the way they are parsed, e.g. 1500 → `1.5s`, 90000 → `1m30s`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1_000;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s ? `${s}s` : ""}`;
}
