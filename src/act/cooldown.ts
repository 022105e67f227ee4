/**
 * When a signal may be sent again: the cooldown table, keyed by process identity (pid and start
 * time, so a reused pid starts afresh) and severity.
 * @module
 */
import type { Severity } from "../evaluate/evaluate.ts";

/** After a failed send, try again this soon rather than after the full cooldown. */
export const RETRY_AFTER_FAILURE_MS = 1_000;

/** Per process and severity, the earliest time the next send is allowed. */
export class CooldownTable {
  readonly #cooldownMs: number;
  readonly #next = new Map<string, number>();

  constructor(cooldownMs: number) {
    this.#cooldownMs = cooldownMs;
  }

  /** Whether `severity` may be sent to the process now. */
  allows(key: string, severity: Severity, now: number): boolean {
    return (this.#next.get(`${key}/${severity}`) ?? -Infinity) <= now;
  }

  /** Records a send: successful ones wait the cooldown, failed ones retry soon. */
  record(key: string, severity: Severity, now: number, ok: boolean): void {
    this.#next.set(`${key}/${severity}`, now + (ok ? this.#cooldownMs : RETRY_AFTER_FAILURE_MS));
  }

  /** Forgets processes not in `live`, so the table is bounded by the processes watched. */
  retain(live: ReadonlySet<string>): void {
    for (const k of this.#next.keys()) {
      if (!live.has(k.slice(0, k.lastIndexOf("/")))) this.#next.delete(k);
    }
  }

  /** Number of entries, for tests and debug logs. */
  get size(): number {
    return this.#next.size;
  }
}
