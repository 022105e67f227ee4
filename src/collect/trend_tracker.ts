/**
 * The memory history of every watched process, kept between scans so the trend variables
 * (src/collect/trend.ts) can be computed: a bounded buffer per process, dropped when the process exits.
 * @module
 */
import { processKey, type ProcessSample } from "./sample.ts";
import {
  DELTA_SPAN_MS,
  firstIndexSince,
  type MemoryHistory,
  NO_TREND,
  trendVariables,
} from "./trend.ts";

/** The trend variables of a scan whose memory figures could not be read. */
const UNREADABLE_TREND = Object.freeze(
  Object.fromEntries(Object.keys(NO_TREND).map((name) => [name, NaN])),
);

/** The most samples one process's history holds, whatever the window and loop interval. */
export const MAX_HISTORY_SAMPLES = 600;

/**
 * The least time between two kept samples (the newest aside), whatever the loop interval: a
 * least-squares slope over 30 s is as exact from 121 points as from 301 (tests/trend_test.ts),
 * and each process's history is 2.9 KB instead of 7.2 KB at a 100 ms interval.
 */
export const HISTORY_SPACING_MS = 250;

/** Settings of a {@link TrendTracker}. */
export interface TrendTrackerOptions {
  /** The span the growth rates are fitted over (`--trend-window`), milliseconds. */
  windowMs: number;
  /** The expected time between updates (`--loop-interval`), milliseconds; sizes the buffers. */
  intervalMs: number;
}

/** One process's history: times, memory_current and working set in one preallocated buffer. */
class History implements MemoryHistory {
  length = 0;
  readonly times: Float64Array;
  readonly current: Float64Array;
  readonly workingSet: Float64Array;

  constructor(capacity: number) {
    const buffer = new ArrayBuffer(capacity * 3 * Float64Array.BYTES_PER_ELEMENT);
    this.times = new Float64Array(buffer, 0, capacity);
    this.current = new Float64Array(buffer, capacity * Float64Array.BYTES_PER_ELEMENT, capacity);
    this.workingSet = new Float64Array(
      buffer,
      2 * capacity * Float64Array.BYTES_PER_ELEMENT,
      capacity,
    );
  }

  /**
   * Appends a sample, drops those older than `horizonMs`, and keeps every sample but the newest
   * at least `minSpacingMs` apart: a newest sample closer than that to the one before is
   * replaced, so a tiny loop interval thins the history instead of shortening its span.
   */
  push(
    t: number,
    current: number,
    workingSet: number,
    horizonMs: number,
    minSpacingMs: number,
  ): void {
    const capacity = this.times.length;
    let n = this.length;
    if (n >= 2 && this.times[n - 1] - this.times[n - 2] < minSpacingMs) n--;
    // The spacing already bounds the count to the capacity; the second term holds it should the
    // clock ever step back.
    const drop = Math.max(firstIndexSince(this.times, n, t - horizonMs), n - capacity + 1);
    if (drop > 0) {
      for (const column of [this.times, this.current, this.workingSet]) {
        column.copyWithin(0, drop, n);
      }
      n -= drop;
    }
    this.times[n] = t;
    this.current[n] = current;
    this.workingSet[n] = workingSet;
    this.length = n + 1;
  }
}

/** A figure from outside as the maths needs it: finite (a NaN would poison every sum). */
function finite(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) ? value : 0;
}

/**
 * Keeps each watched process's recent memory_current and working set, keyed by pid and start
 * time (a reused pid starts afresh), and writes the trend variables into each sample.
 * Memory: at most {@link TrendTracker.capacity} samples of 24 bytes per watched process.
 */
export class TrendTracker {
  /**
   * The most samples one process's history holds: ceil(horizon / spacing) + 1, at most 600, the
   * spacing being the loop interval or {@link HISTORY_SPACING_MS} when that is longer.
   */
  readonly capacity: number;
  readonly #windowMs: number;
  /** How far back the history reaches: the window, or the delta's 10 s when that is longer. */
  readonly #horizonMs: number;
  readonly #minSpacingMs: number;
  readonly #histories = new Map<string, History>();

  constructor(options: TrendTrackerOptions) {
    this.#windowMs = options.windowMs;
    this.#horizonMs = Math.max(options.windowMs, DELTA_SPAN_MS);
    this.capacity = Math.min(
      Math.ceil(this.#horizonMs / Math.max(options.intervalMs, HISTORY_SPACING_MS)) + 1,
      MAX_HISTORY_SAMPLES,
    );
    this.#minSpacingMs = this.#horizonMs / (this.capacity - 1);
  }

  /**
   * Records each sample's memory figures at `nowMs` (a monotonic clock, milliseconds), writes
   * the trend variables into its `variables`, and forgets processes not in `samples`.
   */
  update(samples: readonly ProcessSample[], nowMs: number): void {
    const live = new Set<string>();
    for (const sample of samples) {
      const key = processKey(sample.pid, sample.startTime);
      live.add(key);
      let history = this.#histories.get(key);
      if (history === undefined) {
        history = new History(this.capacity);
        this.#histories.set(key, history);
      }
      const vars = sample.variables;
      // An unreadable figure is no point on the curve: the trends are unreadable this scan.
      if (Number.isNaN(vars.memory_current) || Number.isNaN(vars.memory_max)) {
        Object.assign(vars, UNREADABLE_TREND);
        continue;
      }
      history.push(
        nowMs,
        finite(vars.memory_current),
        finite(vars.memory_working_set),
        this.#horizonMs,
        this.#minSpacingMs,
      );
      Object.assign(vars, trendVariables(history, finite(vars.memory_max), this.#windowMs));
    }
    for (const key of this.#histories.keys()) {
      if (!live.has(key)) this.#histories.delete(key);
    }
  }

  /** How many processes have a history. */
  get size(): number {
    return this.#histories.size;
  }

  /** How many samples the history of a process holds; 0 when it has none. */
  samplesHeld(pid: number, startTime: number): number {
    return this.#histories.get(processKey(pid, startTime))?.length ?? 0;
  }
}
