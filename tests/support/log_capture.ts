/**
 * A logger that keeps what it writes, for tests that assert on oomhero's log lines.
 * @module
 */
import { Logger } from "../../src/base/log.ts";

/** A JSON logger at every level and the lines it wrote, parsed. */
export interface CapturedLog {
  log: Logger;
  lines: Record<string, unknown>[];
  /** The lines at level `warn`. */
  warnings(): Record<string, unknown>[];
}

/** Starts a capture: every line `log` writes lands in `lines` as an object. */
export function captureLog(): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  return {
    log: new Logger("debug", "json", (l) => lines.push(JSON.parse(l))),
    lines,
    warnings: () => lines.filter((l) => l.level === "warn"),
  };
}
