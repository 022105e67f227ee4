/**
 * Series cardinality under real process churn: 500 short-lived processes come and go, the real
 * collector scans them from /proc, and once the (here shortened) idle timeout has passed the
 * metrics hold no series of theirs.
 */
import assert from "node:assert/strict";
import { Collector } from "../../src/collect/collector.ts";
import { Logger } from "../../src/base/log.ts";
import { Metrics } from "../../src/report/metrics.ts";
import { waitForExec } from "../support/named_process.ts";

/** Counts the sample lines of a Prometheus exposition. */
function seriesIn(text: string): number {
  return text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length;
}

Deno.test("500 real short-lived processes leave the series count at its baseline once idle", async () => {
  const idleTimeoutMs = 1_000;
  const metrics = new Metrics({ version: "test", idleTimeoutMs });
  const collector = new Collector({
    procfs: "/proc",
    cgroupfs: "/sys/fs/cgroup",
    log: new Logger("error", "text", () => {}),
  });
  const ours = new Set<number>();
  // Only the processes this test starts, so the rest of the machine cannot move the count.
  const scan = () => collector.scan().filter((s) => ours.has(s.pid));
  metrics.observeScan(scan(), 0.001);
  const baseline = seriesIn((await metrics.render(null)).body);

  let seen = 0;
  let peak = 0;
  for (let batch = 0; batch < 10; batch++) {
    const children = Array.from(
      { length: 50 },
      () => new Deno.Command("sleep", { args: ["30"], stdin: "null", stdout: "null" }).spawn(),
    );
    for (const c of children) ours.add(c.pid);
    for (const c of children) await waitForExec(c.pid, "sleep");
    const samples = scan();
    seen += samples.length;
    metrics.observeScan(samples, 0.001);
    peak = Math.max(peak, seriesIn((await metrics.render(null)).body));
    for (const c of children) c.kill("SIGKILL");
    await Promise.all(children.map((c) => c.status));
  }
  assert.equal(seen, 500, "every process was scanned once");
  assert.ok(peak > baseline, "their series were exposed");

  // Gone from /proc now; once the idle timeout has passed the next scan drops their series.
  const deadline = performance.now() + 10 * idleTimeoutMs;
  let count = Infinity;
  while (count !== baseline && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, idleTimeoutMs / 4));
    metrics.observeScan(scan(), 0.001);
    count = seriesIn((await metrics.render(null)).body);
  }
  assert.equal(count, baseline);
});
