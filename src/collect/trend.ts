/**
 * Where memory is heading: growth rates, time to the limit and the recent change of usage,
 * computed from a process's recent memory history. Pure functions over arrays; the history
 * itself is kept by `TrendTracker` (src/collect/trend_tracker.ts).
 * @module
 */

/** The default `--trend-window`: the span the growth rates are fitted over. */
export const DEFAULT_TREND_WINDOW_MS = 30_000;
/** The span `memory_usage_delta_10s` looks back over. */
export const DELTA_SPAN_MS = 10_000;
/** Warm-up: a figure is measured once its span holds at least this many samples... */
export const MIN_TREND_SAMPLES = 3;
/** ...covering at least this long; fewer or shorter reads as "no trend". */
export const MIN_TREND_SPAN_MS = 1_000;
/** The shortest `--trend-window`: room for a 1 s span of samples, whatever the timer jitter. */
export const MIN_TREND_WINDOW_MS = 2 * MIN_TREND_SPAN_MS;
/**
 * `memory_seconds_to_limit` when memory is not growing, there is no limit or no trend yet:
 * large enough that `memory_seconds_to_limit < N` is false for any sensible N (31 years).
 */
export const NEVER_SECONDS = 1e9;

/** The names of the variables this module computes. */
export type TrendVariable =
  | "memory_growth_rate"
  | "memory_working_set_growth_rate"
  | "memory_seconds_to_limit"
  | "memory_usage_delta_10s";

/** The trend variables fitted over `--trend-window`; `memory_usage_delta_10s` spans 10 s. */
export const WINDOW_VARIABLES: readonly TrendVariable[] = [
  "memory_growth_rate",
  "memory_working_set_growth_rate",
  "memory_seconds_to_limit",
];

/** The trend variables of one process. */
export type TrendVariables = Record<TrendVariable, number>;

/** What the trend variables read before a trend is measured: flat, and the limit never reached. */
export const NO_TREND: Readonly<TrendVariables> = Object.freeze({
  memory_growth_rate: 0,
  memory_working_set_growth_rate: 0,
  memory_seconds_to_limit: NEVER_SECONDS,
  memory_usage_delta_10s: 0,
});

/**
 * A process's memory history, oldest first. The arrays may be longer than `length` (a
 * preallocated buffer); only the first `length` entries count.
 */
export interface MemoryHistory {
  /** How many samples the history holds. */
  readonly length: number;
  /** Sample times in milliseconds on a monotonic clock, ascending. */
  readonly times: ArrayLike<number>;
  /** `memory_current` at each time, bytes. */
  readonly current: ArrayLike<number>;
  /** `memory_working_set` at each time, bytes. */
  readonly workingSet: ArrayLike<number>;
}

/** The index of the first of `times[0..length)` at or after `since`; `length` when none is. */
export function firstIndexSince(times: ArrayLike<number>, length: number, since: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] < since) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The warm-up rule: whether samples `from..to` (exclusive) are enough to measure a trend on. */
export function isMeasurable(times: ArrayLike<number>, from: number, to: number): boolean {
  return to - from >= MIN_TREND_SAMPLES && times[to - 1] - times[from] >= MIN_TREND_SPAN_MS;
}

/**
 * The least-squares slope of `values` over `times` (milliseconds) for samples `from..to`
 * (exclusive), in units per second; 0 when it cannot be computed. Centred sums keep it exact
 * for byte counts in the terabytes and clocks running for months.
 */
export function leastSquaresSlope(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  from: number,
  to: number,
): number {
  const n = to - from;
  if (n < 2) return 0;
  let meanT = 0;
  let meanV = 0;
  for (let i = from; i < to; i++) {
    meanT += times[i];
    meanV += values[i];
  }
  meanT /= n;
  meanV /= n;
  let covariance = 0;
  let variance = 0;
  for (let i = from; i < to; i++) {
    const dt = times[i] - meanT;
    covariance += dt * (values[i] - meanV);
    variance += dt * dt;
  }
  const perMs = covariance / variance;
  return Number.isFinite(perMs) ? perMs * 1000 : 0;
}

/**
 * Seconds until `current` reaches `max` at `ratePerSecond`: 0 once at or over the limit, and
 * {@link NEVER_SECONDS} when there is no limit (`max` 0) or memory is not growing.
 */
export function secondsToLimit(current: number, max: number, ratePerSecond: number): number {
  if (!(max > 0) || !(ratePerSecond > 0)) return NEVER_SECONDS;
  if (current >= max) return 0;
  return Math.min((max - current) / ratePerSecond, NEVER_SECONDS);
}

/**
 * The trend variables of `history` against the limit `max` (bytes, 0 when unlimited): growth
 * rates fitted over the last `windowMs`, and the change over the last {@link DELTA_SPAN_MS} as
 * a percentage of `max` (over the whole history while it is shorter). Each figure reads as in
 * {@link NO_TREND} until its span passes the warm-up rule ({@link isMeasurable}).
 */
export function trendVariables(
  history: MemoryHistory,
  max: number,
  windowMs: number,
): TrendVariables {
  const { length, times, current, workingSet } = history;
  if (length === 0) return { ...NO_TREND };
  const newest = times[length - 1];
  const out: TrendVariables = { ...NO_TREND };
  const fitFrom = firstIndexSince(times, length, newest - windowMs);
  if (isMeasurable(times, fitFrom, length)) {
    out.memory_growth_rate = leastSquaresSlope(times, current, fitFrom, length);
    out.memory_working_set_growth_rate = leastSquaresSlope(times, workingSet, fitFrom, length);
    out.memory_seconds_to_limit = secondsToLimit(
      current[length - 1],
      max,
      out.memory_growth_rate,
    );
  }
  // A history kept without the working set (nothing looked at it) has no trend of it to fit.
  if (Number.isNaN(workingSet[length - 1])) out.memory_working_set_growth_rate = NaN;
  const deltaFrom = firstIndexSince(times, length, newest - DELTA_SPAN_MS);
  if (max > 0 && isMeasurable(times, deltaFrom, length)) {
    out.memory_usage_delta_10s = (current[length - 1] - current[deltaFrom]) / max * 100;
  }
  return out;
}
