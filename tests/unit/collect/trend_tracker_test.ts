/**
 * The TrendTracker: per-process history between scans, its bounds, and its place in the monitor
 * between filtering and evaluation.
 */
import assert from "node:assert/strict";
import { compileExpression } from "../../../src/evaluate/expression.ts";
import { Logger } from "../../../src/base/log.ts";
import { Metrics } from "../../../src/report/metrics.ts";
import { Monitor } from "../../../src/scan/monitor.ts";
import type { ProcessSample } from "../../../src/collect/sample.ts";
import { MIN_TREND_SPAN_MS, NEVER_SECONDS, NO_TREND } from "../../../src/collect/trend.ts";
import {
  HISTORY_SPACING_MS,
  MAX_HISTORY_SAMPLES,
  TrendTracker,
} from "../../../src/collect/trend_tracker.ts";
import { VARIABLE_NAMES } from "../../../src/collect/variables.ts";
import { CATCHES_ALL, fakeSample, monitorOptions } from "../../support/fake_sample.ts";

const MIB = 1024 * 1024;

/** A process with the given memory figures and start time. */
function sample(
  pid: number,
  startTime: number,
  memory: { current: number; max: number; workingSet?: number },
): ProcessSample {
  const s = fakeSample(pid, {
    memory_current: memory.current,
    memory_max: memory.max,
    memory_working_set: memory.workingSet ?? memory.current,
    memory_usage: memory.max > 0 ? memory.current / memory.max * 100 : 0,
  });
  s.startTime = startTime;
  return s;
}

/** The trend variables of a sample. */
function trends(s: ProcessSample): Record<string, number> {
  return Object.fromEntries(Object.keys(NO_TREND).map((name) => [name, s.variables[name]]));
}

Deno.test("tracker: a history without the working set has no working-set trend, the rest fitted", () => {
  const tracker = new TrendTracker({ windowMs: 5_000, intervalMs: 100 });
  const rate = 10 * MIB;
  let last: ProcessSample | undefined;
  for (let t = 0; t <= 3_000; t += 100) {
    last = sample(10, 1_000, { current: 100 * MIB + rate * t / 1000, max: 1024 * MIB });
    // Read without memory.stat: no working set in the sample.
    delete last.variables.memory_working_set;
    tracker.update([last], 5_000_000 + t);
  }
  assert.ok(Math.abs(last!.variables.memory_growth_rate - rate) < 1e-6 * rate);
  assert.ok(Number.isNaN(last!.variables.memory_working_set_growth_rate));
  // Nor from the history at a scrape: never a made-up flat 0.
  const scraped = sample(10, 1_000, { current: 130 * MIB, max: 1024 * MIB });
  tracker.fill([scraped]);
  assert.ok(Number.isNaN(scraped.variables.memory_working_set_growth_rate));
});

Deno.test("tracker: no trend until 3 samples span 1 s, then the measured growth", () => {
  const tracker = new TrendTracker({ windowMs: 5_000, intervalMs: 100 });
  const max = 1024 * MIB;
  const rate = 10 * MIB;
  const wsRate = 4 * MIB;
  for (let t = 0; t <= 3_000; t += 100) {
    const current = 100 * MIB + rate * t / 1000;
    const s = sample(10, 1_000, { current, max, workingSet: 50 * MIB + wsRate * t / 1000 });
    tracker.update([s], 5_000_000 + t);
    const v = trends(s);
    for (const [name, value] of Object.entries(v)) assert.ok(Number.isFinite(value), name);
    if (t < MIN_TREND_SPAN_MS) {
      assert.deepEqual(v, NO_TREND, `at ${t} ms`);
      continue;
    }
    assert.ok(Math.abs(v.memory_growth_rate - rate) < 1e-6 * rate, `at ${t} ms`);
    assert.ok(Math.abs(v.memory_working_set_growth_rate - wsRate) < 1e-6 * wsRate);
    assert.ok(Math.abs(v.memory_seconds_to_limit - (max - current) / rate) < 1e-6);
    assert.ok(Math.abs(v.memory_usage_delta_10s - rate * t / 1000 / max * 100) < 1e-9);
  }
});

Deno.test("tracker: a reused pid (new start time) starts a new history", () => {
  const tracker = new TrendTracker({ windowMs: 5_000, intervalMs: 100 });
  const grow = (t: number) => ({ current: 100 * MIB + 10 * MIB * t / 1000, max: 512 * MIB });
  for (let t = 0; t <= 3_000; t += 100) tracker.update([sample(10, 1_000, grow(t))], t);
  assert.ok(tracker.samplesHeld(10, 1_000) > 3);
  const reborn = sample(10, 2_000, grow(3_100));
  tracker.update([reborn], 3_100);
  assert.deepEqual(trends(reborn), NO_TREND);
  assert.equal(tracker.samplesHeld(10, 1_000), 0);
  assert.equal(tracker.samplesHeld(10, 2_000), 1);
  assert.equal(tracker.size, 1);
});

Deno.test("tracker: forgets processes that are not in the scan", () => {
  const tracker = new TrendTracker({ windowMs: 30_000, intervalMs: 100 });
  const a = () => sample(1, 11, { current: MIB, max: 0 });
  const b = () => sample(2, 22, { current: MIB, max: 0 });
  tracker.update([a(), b()], 0);
  tracker.update([a(), b()], HISTORY_SPACING_MS);
  assert.equal(tracker.size, 2);
  tracker.update([a()], 2 * HISTORY_SPACING_MS);
  assert.equal(tracker.size, 1);
  assert.equal(tracker.samplesHeld(2, 22), 0);
  assert.equal(tracker.samplesHeld(1, 11), 3);
  tracker.update([], 3 * HISTORY_SPACING_MS);
  assert.equal(tracker.size, 0);
});

Deno.test("tracker: history is sized by window and interval, capped at 600 samples", () => {
  const capacity = (windowMs: number, intervalMs: number) =>
    new TrendTracker({ windowMs, intervalMs }).capacity;
  assert.equal(capacity(30_000, 1_000), 30_000 / 1_000 + 1);
  // Samples are kept no closer than HISTORY_SPACING_MS, however often the loop runs.
  assert.equal(capacity(30_000, 100), 30_000 / HISTORY_SPACING_MS + 1);
  assert.equal(capacity(30_000, 7), 30_000 / HISTORY_SPACING_MS + 1);
  // The history reaches back 10 s whatever the window, for memory_usage_delta_10s.
  assert.equal(capacity(5_000, 100), 10_000 / HISTORY_SPACING_MS + 1);
  assert.equal(capacity(3_600_000, 1_000), MAX_HISTORY_SAMPLES);
});

Deno.test("tracker: a tiny loop interval thins the history instead of shortening its span", () => {
  const windowMs = 30_000;
  const tracker = new TrendTracker({ windowMs, intervalMs: 10 });
  // Growth until 40 s, flat after: at 60 s only a history reaching 30 s back sees growth.
  const memory = (t: number) => ({ current: 100 * MIB + Math.min(t, 40_000) * 1_000, max: 0 });
  let last: ProcessSample | undefined;
  for (let t = 0; t <= 60_000; t += 10) {
    last = sample(7, 70, memory(t));
    tracker.update([last], t);
    assert.ok(tracker.samplesHeld(7, 70) <= tracker.capacity, `${t} ms`);
  }
  assert.equal(tracker.capacity, windowMs / HISTORY_SPACING_MS + 1);
  assert.ok(last!.variables.memory_growth_rate > 0, "the window's older growth was dropped");
  // The newest sample is always kept: a step in the last scan moves the figures.
  const step = sample(7, 70, { current: 200 * MIB, max: 0 });
  tracker.update([step], 60_010);
  assert.ok(step.variables.memory_growth_rate > last!.variables.memory_growth_rate);
});

Deno.test("tracker: 1,000 processes with a full window hold at most `capacity` samples each", () => {
  const tracker = new TrendTracker({ windowMs: 10_000, intervalMs: HISTORY_SPACING_MS });
  const processes = 1_000;
  for (let t = 0; t <= 12_000; t += HISTORY_SPACING_MS) {
    const scan = Array.from(
      { length: processes },
      (_, i) => sample(1_000 + i, i, { current: (100 + i) * MIB + t * 1_000, max: 0 }),
    );
    tracker.update(scan, t);
  }
  assert.equal(tracker.size, processes);
  for (let i = 0; i < processes; i++) {
    assert.equal(tracker.samplesHeld(1_000 + i, i), tracker.capacity);
  }
  tracker.update([], 12_000 + HISTORY_SPACING_MS);
  assert.equal(tracker.size, 0);
});

Deno.test("tracker: an unreadable figure makes that scan's trends unreadable, not the history", () => {
  const tracker = new TrendTracker({ windowMs: 5_000, intervalMs: 100 });
  // The same process with only its readable scans: what the history must hold.
  const readable = new TrendTracker({ windowMs: 5_000, intervalMs: 100 });
  for (let t = 0; t <= 2_000; t += 100) {
    const unreadable = t % 300 === 0;
    const figures = { current: unreadable ? NaN : 10 * MIB + t * 1_000, max: 64 * MIB };
    const s = sample(3, 30, figures);
    tracker.update([s], t);
    for (const [name, value] of Object.entries(trends(s))) {
      if (unreadable) assert.ok(Number.isNaN(value), `${name} at ${t} ms is ${value}`);
      else assert.ok(Number.isFinite(value), `${name} at ${t} ms is ${value}`);
    }
    if (unreadable) continue;
    const twin = sample(3, 30, figures);
    readable.update([twin], t);
    assert.deepEqual(trends(s), trends(twin), `at ${t} ms`);
  }
  // An unreadable limit leaves nothing to measure the distance to either.
  const s = sample(3, 30, { current: 10 * MIB, max: NaN });
  tracker.update([s], 2_100);
  assert.ok(Number.isNaN(s.variables.memory_seconds_to_limit));
});

Deno.test("tracker: without trends it keeps the history and writes none; fill fits them", () => {
  const tracker = new TrendTracker({ windowMs: 5_000, intervalMs: 100 });
  const max = 1024 * MIB;
  const grow = (t: number) => ({ current: 100 * MIB + 10 * MIB * t / 1000, max });
  for (let t = 0; t <= 3_000; t += 100) {
    const s = sample(10, 1_000, grow(t));
    delete s.variables.memory_growth_rate;
    const before = { ...s.variables };
    tracker.update([s], t, false);
    assert.deepEqual(s.variables, before, `at ${t} ms`);
  }
  const held = tracker.samplesHeld(10, 1_000);
  assert.ok(held > 3);
  // Read afresh (for a scrape): the history's trends, and nothing recorded.
  const fresh = sample(10, 1_000, grow(3_050));
  const unknown = sample(11, 1_011, grow(0));
  const reused = sample(10, 2_000, grow(0));
  const unreadable = sample(10, 1_000, { current: NaN, max });
  tracker.fill([fresh, unknown, reused, unreadable]);
  assert.ok(Math.abs(fresh.variables.memory_growth_rate - 10 * MIB) < 1e-6 * 10 * MIB);
  assert.ok(fresh.variables.memory_seconds_to_limit < NEVER_SECONDS);
  assert.deepEqual(trends(unknown), NO_TREND);
  assert.deepEqual(trends(reused), NO_TREND);
  for (const [name, value] of Object.entries(trends(unreadable))) {
    assert.ok(Number.isNaN(value), name);
  }
  assert.equal(tracker.samplesHeld(10, 1_000), held);
  assert.equal(tracker.size, 1);
});

Deno.test("monitor: with no expression on a trend, scans fit none and a scrape shows them fitted", async () => {
  const clock = { now: 0 };
  const growing = (t: number) => {
    const s = sample(10, 1_010, { current: 100 * MIB + 20 * MIB * t / 1000, max: 1024 * MIB });
    for (const name of Object.keys(NO_TREND)) delete s.variables[name];
    return s;
  };
  const scans: ProcessSample[][] = [];
  const metrics = new Metrics({ version: "test", now: () => clock.now });
  const monitor = new Monitor(
    {
      ...monitorOptions({
        warning: compileExpression("memory_usage > 80", VARIABLE_NAMES),
        critical: compileExpression("memory_usage > 90", VARIABLE_NAMES),
      }),
      trendWindowMs: 5_000,
    },
    {
      source: {
        scan: () => {
          scans.push([growing(clock.now)]);
          return scans.at(-1)!;
        },
        readStartTime: () => 1_010,
        readSignalMasks: () => CATCHES_ALL,
      },
      log: new Logger("error", "text", () => {}),
      observer: metrics,
      now: () => clock.now,
    },
  );
  metrics.beforeScrape(() => monitor.refresh());
  assert.equal(monitor.needs.trends, false);
  for (clock.now = 0; clock.now <= 3_000; clock.now += 100) monitor.scanOnce();
  for (const scan of scans) assert.equal(scan[0].variables.memory_growth_rate, undefined);
  const { body } = await metrics.render(null);
  // The scrape's own read (the last in `scans`) has the trends fitted to the scans' history.
  const rate = Number(
    /^memory_growth_rate_bytes_per_second\{pid="10",.*\} (\S+)$/m.exec(body)?.[1],
  );
  assert.ok(Math.abs(rate - 20 * MIB) < 1e-3, `${rate}`);
  assert.ok(Math.abs(scans.at(-1)![0].variables.memory_growth_rate - 20 * MIB) < 1e-3);
});

Deno.test("monitor: a growing process is warned by memory_seconds_to_limit long before 90 %", async () => {
  const clock = { now: 0 };
  const sent: [number, Deno.Signal][] = [];
  const sentAt: number[] = [];
  const logs: Record<string, unknown>[] = [];
  const growing = (t: number) =>
    sample(10, 1_010, { current: 100 * MIB + 20 * MIB * t / 1000, max: 1024 * MIB });
  const flat = () => sample(11, 1_011, { current: 870 * MIB, max: 1024 * MIB });
  let scan: ProcessSample[] = [];
  const metrics = new Metrics({ version: "test", now: () => clock.now });
  const monitor = new Monitor({
    warning: compileExpression("memory_seconds_to_limit < 60", VARIABLE_NAMES),
    critical: compileExpression("memory_usage > 90", VARIABLE_NAMES),
    loopIntervalMs: 100,
    cooldownMs: 60_000,
    warningSignal: "SIGUSR1",
    criticalSignal: "SIGUSR2",
    include: [],
    exclude: [],
    dryRun: false,
    trendWindowMs: 5_000,
  }, {
    source: {
      scan: () => scan,
      readStartTime: (pid) => scan.find((s) => s.pid === pid)?.startTime,
      readSignalMasks: () => CATCHES_ALL,
    },
    log: new Logger("info", "json", (line) => logs.push(JSON.parse(line))),
    observer: metrics,
    kill: (pid, signal) => {
      sent.push([pid, signal]);
      sentAt.push(clock.now);
    },
    selfPid: 4242,
    now: () => clock.now,
  });
  for (clock.now = 0; clock.now <= 3_000; clock.now += 100) {
    scan = [growing(clock.now), flat()];
    monitor.scanOnce();
    if (clock.now < MIN_TREND_SPAN_MS) assert.deepEqual(sent, [], `warm-up, at ${clock.now} ms`);
  }
  // The flat process at 85 % is never warned: it is not heading anywhere.
  assert.deepEqual(sent, [[10, "SIGUSR1"]]);
  const warning = logs.find((l) => l.msg === "signal sent")!;
  assert.equal(warning.pid, 10);
  const seconds = warning.memory_seconds_to_limit as number;
  assert.ok(seconds < 60 && seconds > 0, `${seconds}`);
  // 60 s at 20 MiB/s is more than the whole limit: warned as soon as the trend is measured.
  assert.equal(sentAt[0], MIN_TREND_SPAN_MS);
  assert.ok(growing(sentAt[0]).variables.memory_usage < 15);

  // The gauges show what the tracker measured.
  const byName = new Map(
    (await metrics.registry.getMetricsAsJSON()).map((m) => [m.name, m.values]),
  );
  const last = growing(3_000);
  const rate = byName.get("memory_growth_rate_bytes_per_second")!;
  assert.ok(Math.abs(rate.find((s) => s.labels.pid === "10")!.value - 20 * MIB) < 1e-3);
  assert.equal(rate.find((s) => s.labels.pid === "11")!.value, 0);
  const toLimit = byName.get("memory_seconds_to_limit")!;
  assert.ok(
    Math.abs(
      toLimit.find((s) => s.labels.pid === "10")!.value -
        (1024 * MIB - last.variables.memory_current) / (20 * MIB),
    ) < 1e-6,
  );
  assert.equal(toLimit.find((s) => s.labels.pid === "11")!.value, NEVER_SECONDS);
});
