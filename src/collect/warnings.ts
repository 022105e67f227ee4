/**
 * Once-per-process warnings: a process with an unreadable file is read every scan, and one
 * warning per problem is enough.
 * @module
 */
import type { LogFields, Logger } from "../base/log.ts";

/** Caps the memory of a host with very many failing processes; the oldest are forgotten first. */
const MAX_PROCESSES = 10_000;
/** Caps reasons per process, in case a reason embeds a changing value. */
const MAX_REASONS = 16;

/** Logs each distinct (process, reason) warning once, and forgets processes that exit. */
export class ProcessWarnings {
  readonly #log: Logger;
  /** `pid:startTime` → reasons already logged; a Map keeps insertion order for eviction. */
  readonly #given = new Map<string, Set<string>>();

  /** Warnings go to `log`. */
  constructor(log: Logger) {
    this.#log = log;
  }

  /**
   * Logs `reason` for the process unless it was logged before. `startTime` tells a reused pid
   * from the process that had it; undefined when the stat file itself is the problem.
   */
  warn(pid: number, startTime: number | undefined, reason: string, fields: LogFields = {}): void {
    const key = `${pid}:${startTime ?? ""}`;
    let reasons = this.#given.get(key);
    if (reasons === undefined) {
      if (this.#given.size >= MAX_PROCESSES) {
        this.#given.delete(this.#given.keys().next().value!);
      }
      reasons = new Set();
      this.#given.set(key, reasons);
    }
    if (reasons.has(reason) || reasons.size >= MAX_REASONS) return;
    reasons.add(reason);
    this.#log.warn("cannot read process", { pid, reason, ...fields });
  }

  /** Forgets every process whose pid is not in `live` (pid → start time, as just scanned). */
  retain(live: ReadonlyMap<number, number | undefined>): void {
    for (const key of this.#given.keys()) {
      const [pid, startTime] = key.split(":");
      if (!live.has(Number(pid)) || `${live.get(Number(pid)) ?? ""}` !== startTime) {
        this.#given.delete(key);
      }
    }
  }

  /** How many processes have warnings remembered. */
  get size(): number {
    return this.#given.size;
  }
}
