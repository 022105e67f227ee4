/**
 * The memory history of every watched process, kept between scans so the trend variables
 * (src/collect/trend.ts) can be computed: a bounded buffer per process, dropped when the process
 * exits.
 * @module
 */
import type { ProcessSample } from "./sample.ts";
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
  /** The update that last saw the process: one that did not has lost it. */
  seenIn = 0;
  readonly startTime: number;
  readonly times: Float64Array;
  readonly current: Float64Array;
  readonly workingSet: Float64Array;

  constructor(capacity: number, startTime: number) {
    this.startTime = startTime;
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

/** Whether the memory figures a trend is computed from could not be read. */
function unreadable(vars: ProcessSample["variables"]): boolean {
  return Number.isNaN(vars.memory_current) || Number.isNaN(vars.memory_max);
}

/** A figure from outside as the maths needs it: finite (a NaN would poison every sum). */
function finite(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) ? value : 0;
}

/**
 * Keeps each watched process's recent memory_current and working set, by pid and start time (a
 * reused pid starts afresh), and writes the trend variables into samples.
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
  /** By pid: a scan has one sample a pid, and a history of another start time is replaced. */
  readonly #histories = new Map<number, History>();
  #updates = 0;

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
   * Records each sample's memory figures at `nowMs` (a monotonic clock, milliseconds), and
   * forgets processes not in `samples`. With `trends`, also writes the trend variables into each
   * sample's `variables`; without, they are left out, for {@link TrendTracker.fill} to compute
   * when something looks at them.
   */
  update(samples: readonly ProcessSample[], nowMs: number, trends = true): void {
    const round = ++this.#updates;
    for (const sample of samples) {
      let history = this.#histories.get(sample.pid);
      if (history === undefined || history.startTime !== sample.startTime) {
        history = new History(this.capacity, sample.startTime);
        this.#histories.set(sample.pid, history);
      }
      history.seenIn = round;
      const vars = sample.variables;
      // An unreadable figure is no point on the curve: the trends are unreadable this scan.
      if (unreadable(vars)) {
        if (trends) Object.assign(vars, UNREADABLE_TREND);
        continue;
      }
      history.push(
        nowMs,
        finite(vars.memory_current),
        // Not read when nothing looks at it: NaN, and its trend is none.
        vars.memory_working_set ?? NaN,
        this.#horizonMs,
        this.#minSpacingMs,
      );
      if (trends) this.#write(history, vars);
    }
    // Every sample's pid is in the map: more entries means some processes are gone.
    if (this.#histories.size === samples.length) return;
    for (const [pid, history] of this.#histories) {
      if (history.seenIn !== round) this.#histories.delete(pid);
    }
  }

  /**
   * Writes the trend variables of the histories recorded so far into `samples` (read afresh,
   * e.g. for a scrape), recording nothing: "no trend" for a process without a history.
   */
  fill(samples: readonly ProcessSample[]): void {
    for (const sample of samples) {
      const vars = sample.variables;
      const history = this.#histories.get(sample.pid);
      if (unreadable(vars)) Object.assign(vars, UNREADABLE_TREND);
      else if (history?.startTime === sample.startTime) this.#write(history, vars);
      else Object.assign(vars, NO_TREND);
    }
  }

  #write(history: History, vars: ProcessSample["variables"]): void {
    Object.assign(vars, trendVariables(history, finite(vars.memory_max), this.#windowMs));
  }

  /** How many processes have a history. */
  get size(): number {
    return this.#histories.size;
  }

  /** How many samples the history of a process holds; 0 when it has none. */
  samplesHeld(pid: number, startTime: number): number {
    const history = this.#histories.get(pid);
    return history?.startTime === startTime ? history.length : 0;
  }
}
