/**
 * What the trend history costs: memory per watched process with a full window, and the time of
 * one tracker update against the expression evaluation every scan already does, both for 1,000
 * processes at the defaults (30 s window, 100 ms loop interval).
 * Run with `./scripts/deno bench --allow-all --v8-flags=--expose-gc bench/trend_bench.ts`
 * (without --expose-gc the memory figure includes uncollected garbage).
 */
import { compileExpression } from "../src/evaluate/expression.ts";
import { TrendTracker } from "../src/collect/trend_tracker.ts";
import { VARIABLE_NAMES } from "../src/collect/variables.ts";
import { fakeSample } from "../tests/support/fake_sample.ts";

const PROCESSES = 1_000;
const WINDOW_MS = 30_000;
const INTERVAL_MS = 100;
const MIB = 1024 * 1024;

const samples = Array.from(
  { length: PROCESSES },
  (_, i) => fakeSample(10_000 + i, { memory_max: 1024 * MIB }),
);
/** Sets each process's memory to a steady leak at `tMs` and returns the scan. */
function scanAt(tMs: number) {
  for (const [i, s] of samples.entries()) {
    s.variables.memory_current = (100 + i % 500) * MIB + tMs * 1_000;
    s.variables.memory_working_set = s.variables.memory_current / 2;
  }
  return samples;
}

const gc = (globalThis as { gc?: () => void }).gc;
function memoryInUse(): number {
  gc?.();
  const { heapUsed, external } = Deno.memoryUsage();
  return heapUsed + external;
}

/** Fills a tracker's window for every process and reports the bytes it holds per process. */
function measureMemory(): TrendTracker {
  scanAt(0);
  const before = memoryInUse();
  const tracker = new TrendTracker({ windowMs: WINDOW_MS, intervalMs: INTERVAL_MS });
  for (let t = 0; t <= WINDOW_MS + 10 * INTERVAL_MS; t += INTERVAL_MS) {
    tracker.update(scanAt(t), t);
  }
  const perProcess = (memoryInUse() - before) / PROCESSES;
  console.log(
    `trend history: ${Math.round(perProcess)} bytes per watched process ` +
      `(${PROCESSES} processes, ${tracker.capacity} samples of 24 bytes each = ` +
      `${tracker.capacity * 24} bytes of figures${
        gc ? "" : "; run with --expose-gc for a clean figure"
      })`,
  );
  return tracker;
}

const tracker = measureMemory();
let now = WINDOW_MS * 2;
const warning = compileExpression("memory_seconds_to_limit < 60", VARIABLE_NAMES);
const critical = compileExpression("memory_usage > 90", VARIABLE_NAMES);

Deno.bench({
  name: "evaluate warning and critical for 1,000 processes",
  group: "per scan",
  baseline: true,
  fn: () => {
    for (const s of samples) critical.matches(s.variables) || warning.matches(s.variables);
  },
});

Deno.bench({
  name: "trend update for 1,000 processes, full 30 s window",
  group: "per scan",
  fn: () => {
    now += INTERVAL_MS;
    tracker.update(scanAt(now), now);
  },
});
