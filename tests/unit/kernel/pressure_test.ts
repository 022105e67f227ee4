import assert from "node:assert/strict";
import { parsePressure, zeroPressure } from "../../../src/kernel/pressure.ts";

Deno.test("parsePressure reads both lines", () => {
  const text = "some avg10=1.50 avg60=0.75 avg300=0.25 total=123456\n" +
    "full avg10=0.50 avg60=0.25 avg300=0.10 total=65432\n";
  assert.deepEqual(parsePressure(text), {
    some: { avg10: 1.5, avg60: 0.75, avg300: 0.25, total: 123456 },
    full: { avg10: 0.5, avg60: 0.25, avg300: 0.1, total: 65432 },
  });
});

Deno.test("parsePressure reads a missing full line as zeros", () => {
  assert.deepEqual(parsePressure("some avg10=3.25 avg60=2.50 avg300=1.75 total=333333\n"), {
    some: { avg10: 3.25, avg60: 2.5, avg300: 1.75, total: 333333 },
    full: { avg10: 0, avg60: 0, avg300: 0, total: 0 },
  });
});

Deno.test("parsePressure ignores unknown keys and unknown lines", () => {
  const text = "some avg10=2.00 avg60=1.00 avg300=0.50 total=222222 future=7\n" +
    "full avg10=1.00 avg60=0.50 avg300=0.25 total=111111\n" +
    "most avg10=9.00\n";
  assert.deepEqual(parsePressure(text), {
    some: { avg10: 2, avg60: 1, avg300: 0.5, total: 222222 },
    full: { avg10: 1, avg60: 0.5, avg300: 0.25, total: 111111 },
  });
});

Deno.test("parsePressure rejects malformed files", () => {
  const cases: [string, RegExp][] = [
    ["", /no 'some' line/],
    ["full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", /no 'some' line/],
    ["some\n", /avg10 is ""/],
    ["some avg10=x avg60=0.00 avg300=0.00 total=0\n", /avg10 is "x"/],
    ["some avg10=0.00 avg60=0.00 avg300=0.00\n", /total is ""/],
    ["some avg10=0.00 avg60=0.00 avg300=0.00 total=1.5\n", /total is "1.5"/],
    ["some avg10=0.00 avg60 avg300=0.00 total=0\n", /malformed token "avg60"/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parsePressure(text), message, JSON.stringify(text));
  }
});

Deno.test("zeroPressure returns a fresh object each time", () => {
  const a = zeroPressure();
  a.some.total = 5;
  assert.equal(zeroPressure().some.total, 0);
});
