import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "../../../src/base/duration.ts";

Deno.test("parseDuration reads every unit and compound forms", () => {
  const cases: [string, number][] = [
    ["100ms", 100],
    ["1.5s", 1500],
    ["30s", 30_000],
    ["1m", 60_000],
    ["1h30m", 5_400_000],
    ["1m30s", 90_000],
    [".5s", 500],
    ["2h", 7_200_000],
    [" 10ms ", 10],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

Deno.test("parseDuration rejects what is not a positive duration", () => {
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["0s", /zero/],
    ["0ms", /zero/],
    ["-1s", /negative/],
    ["100", /no unit/],
    ["1.5", /no unit/],
    ["fast", /not a duration/],
    ["1d", /not a duration/],
    ["1s2", /not a duration/],
    ["1 s", /not a duration/],
    ["NaNs", /not a duration/],
    ["0.1ms", /shorter than 1ms/],
    ["25h", /maximum of 24h/],
  ];
  for (const [text, message] of cases) assert.throws(() => parseDuration(text), message, text);
});

Deno.test("formatDuration round-trips through parseDuration", () => {
  for (const ms of [1, 100, 1000, 1500, 30_000, 90_000, 5_400_000]) {
    assert.equal(parseDuration(formatDuration(ms)), ms);
  }
});
