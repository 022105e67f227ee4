/**
 * The parser for pressure-stall information (PSI) files: `/proc/pressure/<resource>` and a
 * cgroup2 directory's `<resource>.pressure`.
 * @module
 */
import { clip, finiteNumber, quote } from "./kernel_text.ts";

/** Resources with pressure-stall information. */
export const PRESSURE_RESOURCES = ["memory", "io", "cpu"] as const;
/** PSI severities: some task stalled, or all non-idle tasks stalled. */
export const PRESSURE_SEVERITIES = ["some", "full"] as const;
/** PSI windows: three running averages (percent) and the total stall time (microseconds). */
export const PRESSURE_WINDOWS = ["avg10", "avg60", "avg300", "total"] as const;

/** One of `memory`, `io`, `cpu`. */
export type PressureResource = typeof PRESSURE_RESOURCES[number];
/** One of `some`, `full`. */
export type PressureSeverity = typeof PRESSURE_SEVERITIES[number];
/** One of `avg10`, `avg60`, `avg300`, `total`. */
export type PressureWindow = typeof PRESSURE_WINDOWS[number];

/** One line of a PSI file: three running averages (percent) and the total stall time (µs). */
export type PressureLine = Record<PressureWindow, number>;

/** A whole PSI file: the `some` and `full` lines. */
export type Pressure = Record<PressureSeverity, PressureLine>;

/** A PSI line of all zeros: what a missing line or file reads as. */
function zeroPressureLine(): PressureLine {
  return { avg10: 0, avg60: 0, avg300: 0, total: 0 };
}

/** A PSI file of all zeros. */
export function zeroPressure(): Pressure {
  return { some: zeroPressureLine(), full: zeroPressureLine() };
}

function parseLine(line: string): PressureLine {
  const values = new Map<string, string>();
  for (const token of line.split(" ").slice(1)) {
    if (token === "") continue;
    const eq = token.indexOf("=");
    if (eq < 0) throw new Error(`malformed token ${quote(token)}`);
    values.set(token.slice(0, eq), token.slice(eq + 1));
  }
  const out = zeroPressureLine();
  for (const window of PRESSURE_WINDOWS) {
    const value = values.get(window);
    const pattern = window === "total" ? /^\d+$/ : /^\d+(\.\d+)?$/;
    if (value === undefined || !pattern.test(value)) {
      throw new Error(`${window} is ${quote(value ?? "")} in ${clip(line)}`);
    }
    out[window] = finiteNumber(value);
  }
  return out;
}

function isSeverity(word: string): word is PressureSeverity {
  return (PRESSURE_SEVERITIES as readonly string[]).includes(word);
}

/**
 * Parses a PSI file. The `some` line is required; a missing `full` line (cpu before Linux 5.13)
 * reads as zeros. Unknown keys and unknown line kinds are ignored so newer kernels still parse.
 */
export function parsePressure(text: string): Pressure {
  const out = zeroPressure();
  let sawSome = false;
  for (const line of text.split("\n")) {
    const kind = line.split(" ", 1)[0];
    if (!isSeverity(kind)) continue;
    out[kind] = parseLine(line);
    if (kind === "some") sawSome = true;
  }
  if (!sawSome) throw new Error("no 'some' line");
  return out;
}
