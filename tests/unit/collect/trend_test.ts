/**
 * The trend maths on synthetic series: slopes of linear, noisy, stepped and shrinking memory,
 * the warm-up rule, the "never" sentinel and the 10 s usage delta.
 */
import assert from "node:assert/strict";
import { compileExpression } from "../../../src/evaluate/expression.ts";
import {
  DELTA_SPAN_MS,
  firstIndexSince,
  isMeasurable,
  leastSquaresSlope,
  MIN_TREND_SPAN_MS,
  NEVER_SECONDS,
  NO_TREND,
  secondsToLimit,
  trendVariables,
  WINDOW_VARIABLES,
} from "../../../src/collect/trend.ts";
import { VARIABLE_NAMES, VARIABLES } from "../../../src/collect/variables.ts";
import { prng } from "../../support/prng.ts";

const MIB = 1024 * 1024;
const WINDOW_MS = 30_000;

/** A history sampled every `intervalMs` from 0 to `spanMs`, with values from `value(tMs)`. */
function series(spanMs: number, intervalMs: number, value: (tMs: number) => number) {
  const times: number[] = [];
  for (let t = 0; t <= spanMs; t += intervalMs) times.push(t);
  const current = times.map(value);
  return { length: times.length, times, current, workingSet: current };
}

/** The slope from the normal equations, written independently of the centred implementation. */
function referenceSlope(times: number[], values: number[]): number {
  const n = times.length;
  const ts = times.map((t) => t / 1000);
  const sumT = ts.reduce((a, b) => a + b, 0);
  const sumV = values.reduce((a, b) => a + b, 0);
  const sumTV = ts.reduce((a, t, i) => a + t * values[i], 0);
  const sumTT = ts.reduce((a, t) => a + t * t, 0);
  return (n * sumTV - sumT * sumV) / (n * sumTT - sumT * sumT);
}

Deno.test("trend: a linear series has its rate as slope, and the time left follows from it", () => {
  const rate = 20 * MIB; // bytes per second
  const start = 50 * MIB;
  const max = 1024 * MIB;
  const h = series(WINDOW_MS, 100, (t) => start + rate * t / 1000);
  const v = trendVariables(h, max, WINDOW_MS);
  assert.ok(Math.abs(v.memory_growth_rate - rate) < 1e-6 * rate, `${v.memory_growth_rate}`);
  assert.ok(Math.abs(v.memory_working_set_growth_rate - rate) < 1e-6 * rate);
  const current = h.current[h.length - 1];
  assert.ok(Math.abs(v.memory_seconds_to_limit - (max - current) / rate) < 1e-6);
  // Over the last 10 s it grew by rate × 10 s.
  assert.ok(Math.abs(v.memory_usage_delta_10s - rate * 10 / max * 100) < 1e-9);
});

Deno.test("trend: the slope is exact with clocks of months and byte counts of terabytes", () => {
  const t0 = 90 * 24 * 3_600_000; // performance.now() after 90 days
  const rate = 3 * MIB;
  const base = 2 * 1024 ** 4;
  const times = Array.from({ length: 301 }, (_, i) => t0 + i * 100);
  const values = times.map((t) => base + rate * (t - t0) / 1000);
  const slope = leastSquaresSlope(times, values, 0, times.length);
  assert.ok(Math.abs(slope - rate) < 1e-6 * rate, `${slope} vs ${rate}`);
});

Deno.test("trend: on a noisy series the slope matches least squares and stays near the rate", () => {
  const rate = 5 * MIB;
  const random = prng(42);
  // ±8 MiB of noise around a line: more than a second and a half of growth.
  const h = series(
    WINDOW_MS,
    100,
    (t) => 100 * MIB + rate * t / 1000 + 8 * MIB * (2 * random() - 1),
  );
  const slope = leastSquaresSlope(h.times, h.current, 0, h.length);
  const reference = referenceSlope(h.times, h.current);
  assert.ok(Math.abs(slope - reference) < 1e-6 * rate, `${slope} vs ${reference}`);
  assert.ok(Math.abs(slope - rate) < 0.1 * rate, `${slope} is not near ${rate}`);
});

Deno.test("trend: a staircase (6 MiB every 300 ms, sampled every 100 ms) grows at 20 MiB/s", () => {
  const h = series(5_000, 100, (t) => 40 * MIB + Math.floor(t / 300) * 6 * MIB);
  const v = trendVariables(h, 192 * MIB, 5_000);
  const rate = 6 * MIB / 0.3;
  assert.ok(Math.abs(v.memory_growth_rate - rate) < 0.05 * rate, `${v.memory_growth_rate}`);
  const reference = referenceSlope(h.times, h.current);
  assert.ok(Math.abs(v.memory_growth_rate - reference) < 1e-9 * rate);
});

Deno.test("trend: a single step up reads as growth, smaller than the step over the window", () => {
  const step = 64 * MIB;
  const h = series(WINDOW_MS, 1_000, (t) => 100 * MIB + (t >= WINDOW_MS / 2 ? step : 0));
  const v = trendVariables(h, 0, WINDOW_MS);
  const reference = referenceSlope(h.times, h.current);
  assert.ok(Math.abs(v.memory_growth_rate - reference) < 1e-9 * reference);
  assert.ok(v.memory_growth_rate > 0);
  assert.ok(v.memory_growth_rate < step / (WINDOW_MS / 1000) * 2);
  // No limit: never reached, and no usage to take a delta of.
  assert.equal(v.memory_seconds_to_limit, NEVER_SECONDS);
  assert.equal(v.memory_usage_delta_10s, 0);
});

Deno.test("trend: shrinking memory has a negative rate, never reaches the limit, and a negative delta", () => {
  const rate = -2 * MIB;
  const max = 256 * MIB;
  const h = series(WINDOW_MS, 100, (t) => 200 * MIB + rate * t / 1000);
  const v = trendVariables(h, max, WINDOW_MS);
  assert.ok(Math.abs(v.memory_growth_rate - rate) < 1e-6 * -rate);
  assert.equal(v.memory_seconds_to_limit, NEVER_SECONDS);
  assert.ok(Math.abs(v.memory_usage_delta_10s - rate * 10 / max * 100) < 1e-9);
});

Deno.test("trend: the fit covers only the window, the delta only the last 10 s", () => {
  // Growth for the first 40 s, flat for the last 20 s.
  const h = series(60_000, 100, (t) => Math.min(t, 40_000) * 1_000);
  const max = 1024 ** 3;
  const wide = trendVariables(h, max, 60_000);
  const narrow = trendVariables(h, max, 15_000);
  assert.ok(wide.memory_growth_rate > 0);
  assert.equal(narrow.memory_growth_rate, 0);
  assert.equal(wide.memory_usage_delta_10s, 0);
});

Deno.test("trend: the delta spans the whole history while it is shorter than 10 s", () => {
  const max = 100 * MIB;
  const rate = MIB; // 1 % of the limit per second
  const h = series(4_000, 100, (t) => 10 * MIB + rate * t / 1000);
  const v = trendVariables(h, max, WINDOW_MS);
  assert.ok(Math.abs(v.memory_usage_delta_10s - 4) < 1e-9, `${v.memory_usage_delta_10s}`);
  // Once longer, it is the change over exactly 10 s.
  const long = series(DELTA_SPAN_MS * 3, 100, (t) => 10 * MIB + rate * t / 1000);
  assert.ok(Math.abs(trendVariables(long, max, WINDOW_MS).memory_usage_delta_10s - 10) < 1e-9);
});

Deno.test("trend: warm-up needs 3 samples spanning 1 s; until then every figure reads no trend", () => {
  const grow = (t: number) => 10 * MIB + 50 * MIB * t / 1000;
  const cases: [string, number, number, boolean][] = [
    ["one sample", 0, 100, false],
    ["two samples 5 s apart", 5_000, 5_000, false],
    ["10 samples spanning 0.9 s", 900, 100, false],
    ["3 samples spanning 1 s", MIN_TREND_SPAN_MS, MIN_TREND_SPAN_MS / 2, true],
    ["11 samples spanning 1 s", MIN_TREND_SPAN_MS, 100, true],
  ];
  for (const [name, span, interval, measured] of cases) {
    const h = series(span, interval, grow);
    assert.equal(isMeasurable(h.times, 0, h.length), measured, name);
    const v = trendVariables(h, 192 * MIB, WINDOW_MS);
    for (const [key, value] of Object.entries(v)) {
      assert.ok(Number.isFinite(value), `${name} ${key}`);
    }
    if (measured) assert.ok(v.memory_growth_rate > 0, name);
    else assert.deepEqual(v, NO_TREND, name);
  }
  assert.deepEqual(trendVariables(series(0, 1, grow), 0, WINDOW_MS), NO_TREND);
  assert.deepEqual(
    trendVariables({ length: 0, times: [], current: [], workingSet: [] }, 1, WINDOW_MS),
    NO_TREND,
  );
});

Deno.test("trend: seconds to the limit, and the sentinel that keeps `< N` false", () => {
  const max = 100 * MIB;
  assert.equal(secondsToLimit(60 * MIB, max, 4 * MIB), 10);
  assert.equal(secondsToLimit(100 * MIB, max, 1), 0, "at the limit and growing");
  assert.equal(secondsToLimit(120 * MIB, max, 1), 0, "over the limit (cgroup v1 can overshoot)");
  assert.equal(secondsToLimit(60 * MIB, max, 0), NEVER_SECONDS, "flat");
  assert.equal(secondsToLimit(60 * MIB, max, -MIB), NEVER_SECONDS, "shrinking");
  assert.equal(secondsToLimit(60 * MIB, 0, MIB), NEVER_SECONDS, "no limit");
  assert.equal(secondsToLimit(0, max, 1e-9), NEVER_SECONDS, "so slow it is capped");
  for (const seconds of [NO_TREND.memory_seconds_to_limit, NEVER_SECONDS]) {
    const vars = { ...Object.fromEntries(VARIABLE_NAMES.map((n) => [n, 0])), ...NO_TREND };
    vars.memory_seconds_to_limit = seconds;
    for (const threshold of [30, 60, 3_600, 86_400 * 365]) {
      const expr = compileExpression(`memory_seconds_to_limit < ${threshold}`, VARIABLE_NAMES);
      assert.equal(expr.matches(vars), false, `${seconds} < ${threshold}`);
    }
  }
});

Deno.test("trend: firstIndexSince finds the first sample at or after a time", () => {
  const times = [0, 100, 200, 300, 999];
  assert.equal(firstIndexSince(times, times.length, -5), 0);
  assert.equal(firstIndexSince(times, times.length, 100), 1);
  assert.equal(firstIndexSince(times, times.length, 101), 2);
  assert.equal(firstIndexSince(times, times.length, 1_000), 5);
  // Only the first `length` entries count.
  assert.equal(firstIndexSince(times, 3, 250), 3);
});

Deno.test("trend: the variables are documented, with units, and have no-trend defaults", () => {
  const documented = new Map(VARIABLES.map((v) => [v.name, v]));
  for (const name of Object.keys(NO_TREND)) {
    const info = documented.get(name);
    assert.ok(info, `${name} is not in VARIABLES`);
    assert.ok(info.unit !== "" && info.description !== "", name);
  }
  const units = Object.keys(NO_TREND).map((name) => [name, documented.get(name)!.unit]);
  assert.deepEqual(units, [
    ["memory_growth_rate", "bytes/s"],
    ["memory_working_set_growth_rate", "bytes/s"],
    ["memory_seconds_to_limit", "seconds"],
    ["memory_usage_delta_10s", "%"],
  ]);
  assert.match(documented.get("memory_seconds_to_limit")!.description, /\b1e9\b/);
  assert.equal(NEVER_SECONDS, 1e9);
  for (const name of WINDOW_VARIABLES) assert.ok(name in NO_TREND, name);
});
