/**
 * Durations as users write them on the command line: `100ms`, `1.5s`, `30s`, `1m`, `1h30m`.
 * @module
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)/y;
/** Longer than this would overflow timers (2^31 ms) for no use a sidecar has. */
const MAX_MS = 24 * 3_600_000;
const EXAMPLES = "expected a duration such as 100ms, 1.5s, 30s, 1m or 1h30m";

/**
 * Parses a duration into milliseconds.
 * @throws {Error} with a message saying what is wrong (the caller names the flag).
 */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === "") throw new Error(`is empty; ${EXAMPLES}`);
  if (s.startsWith("-")) throw new Error(`"${text}" is negative; it must be greater than zero`);
  if (/^\d+(\.\d+)?$/.test(s)) throw new Error(`"${text}" has no unit; ${EXAMPLES}`);
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const start = PART.lastIndex;
    const m = PART.exec(s);
    if (!m) {
      throw new Error(`"${text}" is not a duration (bad at "${s.slice(start)}"); ${EXAMPLES}`);
    }
    ms += Number(m[1]) * UNIT_MS[m[2]];
  }
  if (ms <= 0) throw new Error(`"${text}" is zero; it must be greater than zero`);
  if (ms < 1) throw new Error(`"${text}" is shorter than 1ms`);
  if (ms > MAX_MS) throw new Error(`"${text}" is longer than the maximum of 24h`);
  return ms;
}

/** Formats milliseconds the way they are parsed, e.g. 1500 → `1.5s`, 90000 → `1m30s`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1_000;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s ? `${s}s` : ""}`;
}
