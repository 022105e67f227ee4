import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "../../../src/base/duration.ts";

const S = 1_000;
const MIN = 60 * S;

// From duration_str 0.21's documentation and its own tests (src/lib.rs, src/parser.rs), with the
// values it gives, turned into milliseconds; the cases it takes but we bound (zero, under 1 ms,
// over 24 days) are in the rejection table below.
const DURATION_STR_CASES: [string, number][] = [
  ["1", 1 * S],
  ["01", 1 * S],
  ["     1    ", 1 * S],
  ["1hr", 3_600 * S],
  ["1m31", 91 * S],
  ["1m31s", 91 * S],
  ["1m+31", 91 * S],
  ["1m*60", 3_600 * S],
  ["1m*60*20", 72_000 * S],
  ["1m+60+24", 144 * S],
  ["1m+60+24 ", 144 * S],
  ["      1m      +  60 +             24 ", 144 * S],
  ["1d", 86_400 * S],
  ["   1d   ", 86_400 * S],
  ["3m+31", 211 * S],
  ["3m + 31", 211 * S],
  ["3m + 13s + 29ms", 193_029],
  ["3m + 1s + 29ms +17µs", 181_029.017],
  ["3m 1s 29ms 17µs", 181_029.017],
  ["3m1s29ms17us", 181_029.017],
  ["1m*10", 600 * S],
  ["1m*10ms", 600],
  ["1m * 1m", 3_600 * S],
  ["42000µs", 42],
  ["3m  31", 211 * S],
  ["3m31s0ns", 211 * S],
  ["  3m 31s 0ns ", 211 * S],
  ["1d2h3min4s", 93_784 * S],
  ["1 d", 86_400 * S],
  ["3 m+31", 211 * S],
  ["3 m + 13 s + 29 ms", 193_029],
  ["1 m*10 ms", 600],
  ["3 m31 s0 ns", 211 * S],
  ["1 d2 h3 min 4s", 93_784 * S],
  ["1m+30", 90 * S],
  ["1m+30s", 90 * S],
  // Unit spellings, in any case (the crate lower-cases ASCII): M is minutes, not months.
  ["2M", 2 * MIN],
  ["1MS", 1],
  ["1H", 3_600 * S],
  ["2 hours", 7_200 * S],
  ["1 Day", 86_400 * S],
  ["90 sec", 90 * S],
  ["5 minutes", 5 * MIN],
  ["250 msec", 250],
  ["2500usec", 2.5],
  ["3000000 nanoseconds", 3],
  ["1 second", S],
  ["1w", 7 * 86_400 * S],
  ["2 weeks", 14 * 86_400 * S],
];

Deno.test("parseDuration gives duration_str's values for duration_str's examples", () => {
  for (const [text, ms] of DURATION_STR_CASES) assert.equal(parseDuration(text), ms, text);
});

Deno.test("parseDuration also takes fractions and the Greek mu", () => {
  const cases: [string, number][] = [
    ["1.5s", 1_500],
    [".5s", 500],
    ["1.5", 1_500],
    ["0.25m", 15 * S],
    ["1h30m", 90 * MIN],
    [" 10ms ", 10],
    ["1500\u03bcs", 1.5],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

Deno.test("parseDuration rejects what is not a positive duration, saying where", () => {
  const cases: [string, RegExp][] = [
    ["", /is empty/],
    ["   ", /is empty/],
    ["0", /is zero/],
    ["0s", /is zero/],
    ["0ms", /is zero/],
    ["-1s", /is negative/],
    ["fast", /not a duration \(bad at column 1, "fast"\)/],
    ["5x", /unknown unit "x" at column 2; units are ns, us \(µs\), ms/],
    ["1 mins", /unknown unit "mins" at column 3/],
    ["3ms-2ms", /not a duration \(bad at column 4, "-2ms"\)/],
    ["0m+3-5", /not a duration \(bad at column 5, "-5"\)/],
    ["1m+", /bad at column 3/],
    ["+1m", /bad at column 1/],
    ["1m+2*3", /mixes \+ and \* at column 5/],
    ["1m*2 3", /mixes \+ and \*/],
    ["NaNs", /not a duration/],
    ["1e3s", /unknown unit "e"/],
    ["100ns", /shorter than 1ms/],
    ["0.1ms", /shorter than 1ms/],
    ["25d", /longer than the maximum of 24d/],
    ["1mon", /longer than the maximum/],
    ["1y", /longer than the maximum/],
    ["10000000000000000y+60", /longer than the maximum/],
  ];
  for (const [text, message] of cases) assert.throws(() => parseDuration(text), message, text);
});

Deno.test("parseDuration takes zero only when asked to", () => {
  for (const text of ["0", "0s", " 0 ms ", "0m0s"]) {
    assert.equal(parseDuration(text, { zero: true }), 0, text);
  }
  assert.throws(() => parseDuration("x", { zero: true }), /not a duration/);
});

Deno.test("formatDuration round-trips through parseDuration", () => {
  for (const ms of [1, 100, 1000, 1500, 30_000, 90_000, 5_400_000, 86_400_000, 93_784_000]) {
    assert.equal(parseDuration(formatDuration(ms)), ms);
  }
});
