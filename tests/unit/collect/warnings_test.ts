import assert from "node:assert/strict";
import { Logger } from "../../../src/base/log.ts";
import { ProcessWarnings } from "../../../src/collect/warnings.ts";
import { captureLog as capture } from "../../support/log_capture.ts";

Deno.test("ProcessWarnings logs each reason once per process", () => {
  const { log, lines } = capture();
  const warnings = new ProcessWarnings(log);
  warnings.warn(10, 500, "a: not found");
  warnings.warn(10, 500, "a: not found");
  warnings.warn(10, 500, "b: bad");
  warnings.warn(11, 600, "a: not found");
  assert.deepEqual(lines.map((l) => [l.level, l.pid, l.reason]), [
    ["warn", 10, "a: not found"],
    ["warn", 10, "b: bad"],
    ["warn", 11, "a: not found"],
  ]);
});

Deno.test("ProcessWarnings warns again for a new process that reuses a pid", () => {
  const { log, lines } = capture();
  const warnings = new ProcessWarnings(log);
  warnings.warn(10, 500, "a");
  warnings.warn(10, 501, "a");
  assert.equal(lines.length, 2);
});

Deno.test("ProcessWarnings.retain forgets exited processes and reused pids", () => {
  const { log, lines } = capture();
  const warnings = new ProcessWarnings(log);
  warnings.warn(10, 500, "a");
  warnings.warn(11, 600, "a");
  warnings.warn(12, undefined, "stat: garbled");
  warnings.retain(new Map<number, number | undefined>([[10, 500], [11, 601], [12, undefined]]));
  assert.equal(warnings.size, 2);
  warnings.warn(10, 500, "a");
  warnings.warn(12, undefined, "stat: garbled");
  assert.equal(lines.length, 3);
  warnings.retain(new Map());
  assert.equal(warnings.size, 0);
});

Deno.test("ProcessWarnings stays bounded", () => {
  const warnings = new ProcessWarnings(new Logger("error"));
  for (let pid = 1; pid <= 20_000; pid++) warnings.warn(pid, 1, "a");
  assert.equal(warnings.size, 10_000);
});
