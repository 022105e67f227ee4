/**
 * The real CLI's metrics port attacked from this process, on 127.0.0.1, with oomhero's open-file
 * limit lowered to 256, in a PID namespace of its own: first, below the connection cap, silent,
 * slow and idle keep-alive connections are closed after the idle timeout; then 5,000 silent
 * connections, 200 slow clients and 10 scrapers at once. oomhero must keep its scans on cadence,
 * answer every scrape within 1 s, hold no more than the cap (plus a few being closed), close the
 * excess at once (by the kernel's count of the port's sockets), keep 64 descriptors free and log
 * no read error. About 30 s.
 */
import assert from "node:assert/strict";
import { connectionCap } from "../../src/report/fd_budget.ts";
import { metricValue, startOomhero, waitFor } from "../support/live_oomhero.ts";
import {
  Attack,
  type AttackConnection,
  flood,
  FLOOD_SCRAPE_EVERY_MS,
  HOLDING_SAMPLE_EVERY_MS,
  namespacedPid,
  ownNamespacePrefix,
  raiseOwnFileLimit,
  serverOpen,
} from "../support/port_attack.ts";

/** oomhero's open-file limit (soft and hard: `deno run` raises the soft one to the hard). */
const FILE_LIMIT = 256;
const CAP = connectionCap(FILE_LIMIT);
/** The server's idle timeout (src/report/server.ts), and how late a close may come on a busy runner. */
const IDLE_TIMEOUT_MS = 10_000;
const LATE_MS = 5_000;
const LOOP_INTERVAL_MS = 100;
/** Connections closed at the cap whose descriptors the runtime has not let go yet. */
const CLOSING_SLACK = 16;
/** Descriptors that must stay free for the scans whatever the clients do. */
const FD_RESERVE = 64;
const SILENT = 5_000;
const SLOW = 200;
const SCRAPERS = 10;
/** How long the flood is held once every connection is open. */
const HOLD_MS = 2_000;
const MIB = 1024 * 1024;
/**
 * VmRSS oomhero may gain under the flood: the cap's sockets and buffers, the scrapes, and the
 * garbage of 5,000 connections, which V8 collects late (held connections would add 7 KB each).
 */
const RSS_GROWTH_CAP = 40 * MIB;

/** When the server closed each connection, measured from `since` of each; "open" if it did not. */
function closedAfter(
  list: AttackConnection[],
  since: (c: AttackConnection) => number | undefined,
): (number | "open")[] {
  return list.map((c) =>
    c.closedAfterMs === undefined || c.closedAfterMs < 0
      ? "open"
      : Math.round(c.openedAt + c.closedAfterMs - (since(c) ?? NaN))
  );
}

Deno.test("metrics port under attack: capped, timed out, scans on cadence", async () => {
  await raiseOwnFileLimit(SILENT + SLOW + 1_000);
  const oomhero = await startOomhero([
    "--warning=memory_usage > 1000",
    "--critical=memory_usage > 2000",
    `--loop-interval=${LOOP_INTERVAL_MS}ms`,
    "--dry-run",
  ], { prefix: ownNamespacePrefix(FILE_LIMIT) });
  const pid = await namespacedPid(oomhero.pid);
  const port = oomhero.port;
  const timeouts = new Attack(port);
  try {
    await oomhero.waitForMetrics(
      "a scan",
      (t) => metricValue(t, "oomhero_scans_total") >= 1 ? true : undefined,
    );
    const scans = async () => metricValue(await oomhero.scrape(), "oomhero_scans_total");
    const quietScans = await scans();
    const quietStart = performance.now();

    // Below the cap, only the timeouts close connections.
    await timeouts.openSilent(20);
    await timeouts.openSlow(20);
    await timeouts.openKeepAlive(4);
    const all = [...timeouts.silent, ...timeouts.slow, ...timeouts.keepAlive];
    await waitFor(
      "the idle connections to be closed",
      () => Attack.open(all).length === 0 ? true : undefined,
      { timeoutMs: IDLE_TIMEOUT_MS + LATE_MS + 2_000, everyMs: 100 },
    );
    const quiet = (await scans() - quietScans) /
      ((performance.now() - quietStart) / LOOP_INTERVAL_MS);
    const spans = {
      silent: closedAfter(timeouts.silent, (c) => c.openedAt),
      slow: closedAfter(timeouts.slow, (c) => c.firstByteAt),
      keepAlive: closedAfter(timeouts.keepAlive, (c) => c.answeredAt),
    };
    for (const [kind, list] of Object.entries(spans)) {
      for (const ms of list) {
        assert.ok(
          typeof ms === "number" && ms >= IDLE_TIMEOUT_MS - 200 &&
            ms <= IDLE_TIMEOUT_MS + LATE_MS,
          `${kind} connections closed after ${list.join(", ")} ms`,
        );
      }
    }

    // The flood, with scrapers polling throughout.
    const f = await flood(
      { port, pid, scrape: () => oomhero.scrape() },
      {
        silent: SILENT,
        slow: SLOW,
        scrapers: SCRAPERS,
        holdMs: HOLD_MS,
        loopIntervalMs: LOOP_INTERVAL_MS,
        cap: CAP,
      },
    );
    console.log(
      `flood of ${SILENT} silent + ${SLOW} slow over ${f.seconds.toFixed(1)} s: ` +
        `${(f.onCadence * 100).toFixed(1)} % of scans on cadence (${(quiet * 100).toFixed(1)} % ` +
        `before it); ${f.scrapes.scrapes} scrapes, slowest ${f.scrapes.maxMs.toFixed(0)} ms; ` +
        `held at most ${f.maxConnections} connections, ${f.max.fds} fds, VmRSS ` +
        `${(f.rssBeforeBytes / MIB).toFixed(1)} → max ${(f.max.rssBytes / MIB).toFixed(1)} MiB ` +
        `(${f.samples} samples); excess closed ${f.excessClosedMs.toFixed(0)} ms after the last ` +
        `connect (${serverOpen(f.socketsThen)} open then; sockets ${
          JSON.stringify(f.socketsThen)
        })`,
    );
    // A ratio of two figures of this run, loose for a shared runner: the benchmark has the 95 %.
    assert.ok(
      f.onCadence >= 0.85 * quiet,
      `${(f.onCadence * 100).toFixed(1)} % of scans on cadence, ${
        (quiet * 100).toFixed(1)
      } % before`,
    );
    assert.deepEqual(f.scrapes.failures, []);
    // Scrapes and samples kept coming throughout: three quarters of what the flood's own time
    // asks for, as strict as the fixed counts were of a 3.2 s flood (100 of 130 scrapes, 50 of 64
    // samples), which failed a run whose 5,000 connects were quick (90 scrapes in 2.2 s).
    const asked = (everyMs: number) => f.seconds * 1000 / everyMs * 3 / 4;
    assert.ok(
      f.scrapes.scrapes >= SCRAPERS * asked(FLOOD_SCRAPE_EVERY_MS),
      `${f.scrapes.scrapes} scrapes in ${f.seconds.toFixed(1)} s`,
    );
    assert.ok(f.scrapes.maxMs < 1_000, `slowest scrape ${f.scrapes.maxMs.toFixed(0)} ms`);
    assert.ok(
      f.samples >= asked(HOLDING_SAMPLE_EVERY_MS),
      `${f.samples} samples in ${f.seconds.toFixed(1)} s`,
    );
    // The cap: past it each connection accepted closes one before the next is accepted.
    assert.ok(
      f.maxConnections <= CAP + CLOSING_SLACK,
      `held ${f.maxConnections} connections, cap ${CAP}`,
    );
    assert.ok(
      f.excessClosedMs < 2_000,
      `${serverOpen(f.socketsThen)} connections still open after 2 s, cap ${CAP}; the port's ` +
        `sockets: ${JSON.stringify(f.socketsThen)}`,
    );
    assert.ok(f.max.fds <= FILE_LIMIT - FD_RESERVE, `${f.max.fds} fds open`);
    assert.ok(
      f.max.rssBytes - f.rssBeforeBytes < RSS_GROWTH_CAP,
      `VmRSS ${(f.rssBeforeBytes / MIB).toFixed(1)} → ${(f.max.rssBytes / MIB).toFixed(1)} MiB`,
    );
  } finally {
    await timeouts.stop();
    // oomhero's own SIGTERM: unshare then exits with its status.
    Deno.kill(pid, "SIGTERM");
    const status = await oomhero.stop();
    assert.equal(status.code, 0, oomhero.describe());
    // No read failed for want of a file descriptor; the only warning is the cap's.
    assert.deepEqual(
      oomhero.log.filter((l) => / (WARN|ERROR) /.test(l) && !/at the cap/.test(l)),
      [],
    );
  }
});
