/**
 * A move between cgroups, followed within a scan: the monitor watches a process in an unlimited
 * cgroup; it is moved into one limited to 64 MiB, and the first scan that began after the move
 * (the scan counter two past its value at the move) must publish the new cgroup's limit and
 * memory.current. On v2 a moved process's charges stay behind, so the new cgroup's current is
 * only what the process touched since.
 * @module
 */
import type { Recorder } from "./guest.ts";
import { metricValue, startOomhero, waitFor } from "../../support/live_oomhero.ts";
import {
  assertBetween,
  assertEqual,
  BASE,
  cgroupDir,
  holderArgv,
  joinThen,
  kernelFigures,
  makeCgroup,
  MIB,
  mib,
  type Proc,
  q,
  startReady,
  stopAll,
  TAG_INCLUDE,
} from "./guest_kernel.ts";

const TO_LIMIT = 64 * MIB;
/** Deno's startup under emulation, on a busy machine. */
const STARTUP_MS = 90_000;

/** Checks the move; see the module doc. */
export async function cgroupMove(rec: Recorder): Promise<void> {
  const procs: Proc[] = [];
  makeCgroup(`${BASE}/move-from`);
  makeCgroup(`${BASE}/move-to`, TO_LIMIT);
  const mover = await startReady(
    joinThen(`${BASE}/move-from`, `exec ${holderArgv("mover", 16).map(q).join(" ")}`),
    "mover",
  );
  procs.push(mover);
  // The expressions never fire at these figures: this check is about what a scan reads.
  const oomhero = await startOomhero([
    "--warning=memory_usage > 95",
    "--critical=memory_usage > 99",
    "--loop-interval=100ms",
    `--include=${TAG_INCLUDE}mover`,
  ], { startTimeoutMs: STARTUP_MS });
  try {
    const pid = { pid: String(mover.pid) };
    const gauge = (text: string, name: string) => metricValue(text, name, pid);
    await oomhero.waitForMetrics(
      "the mover in its first cgroup",
      (text) => gauge(text, "memory_current_bytes") > 0 ? true : undefined,
      60_000,
    );
    const fromBefore = await oomhero.scrape();
    Deno.writeTextFileSync(`${cgroupDir(`${BASE}/move-to`)}/cgroup.procs`, `${mover.pid}\n`);
    const movedAt = performance.now();
    const scansAtMove = metricValue(await oomhero.scrape(), "oomhero_scans_total");
    const kernelBefore = kernelFigures(`${BASE}/move-to`);
    // Every scrape until two scans past the move: the first to show the new limit is recorded.
    let firstSeen: { scans: number; ms: number } | undefined;
    const settled = await waitFor("two scans after the move", async () => {
      const text = await oomhero.scrape();
      const scans = metricValue(text, "oomhero_scans_total");
      if (firstSeen === undefined && gauge(text, "memory_max_bytes") === TO_LIMIT) {
        firstSeen = { scans: scans - scansAtMove, ms: performance.now() - movedAt };
      }
      return scans >= scansAtMove + 2 ? text : undefined;
    }, { timeoutMs: 30_000, everyMs: 20 });
    const kernelAfter = kernelFigures(`${BASE}/move-to`);
    rec.assert("followed within a scan", () => {
      assertEqual(gauge(fromBefore, "memory_max_bytes"), 0, "memory_max_bytes before the move");
      assertEqual(gauge(settled, "memory_max_bytes"), TO_LIMIT, "memory_max_bytes after the move");
      assertBetween(
        gauge(settled, "memory_current_bytes"),
        kernelBefore.current,
        kernelAfter.current,
        512 * 1024,
        "memory_current_bytes after the move",
      );
      return `memory_max_bytes 0 -> ${mib(TO_LIMIT)} and memory_current_bytes ` +
        `${mib(gauge(fromBefore, "memory_current_bytes"))} -> ` +
        `${mib(gauge(settled, "memory_current_bytes"))} (kernel ${mib(kernelAfter.current)}); ` +
        `first shown ${firstSeen?.ms.toFixed(0)} ms after the move, by the scan counted ` +
        `${firstSeen?.scans} past the count read right after it`;
    });
  } finally {
    await oomhero.stop();
    await stopAll(procs);
  }
}
