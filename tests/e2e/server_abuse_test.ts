/**
 * The metrics server of the real CLI under hostile clients, all on 127.0.0.1: a port already
 * taken at startup; then 1,000 idle connections, scrapers that pipeline requests and never read,
 * half-sent request heads, a 1 MB header and a 1 MB path, at once. The scan loop must keep its
 * interval and oomhero's resident memory must stay bounded.
 */
import assert from "node:assert/strict";
import { runOomhero } from "../support/oomhero_process.ts";
import { delay, freePort, metricValue, startOomhero, vmRssBytes } from "../support/live_oomhero.ts";

const MIB = 1024 * 1024;
/** Idle connections held open at once (the runner's fd limit is far above; see `ulimit -n`). */
const IDLE_CONNECTIONS = 1_000;
/** Scrapers that send requests and never read an answer. */
const NON_READERS = 20;
/** Requests each non-reader pipelines: enough answers to fill its socket buffers. */
const PIPELINED = 50;
/** How long the abuse lasts while the scan rate is measured. */
const WINDOW_MS = 3_000;
/** Of the 10 scans/s a 100 ms loop aims at, at least this many: generous for a busy CI. */
const MIN_SCANS_PER_SECOND = 3;
/** Growth of oomhero's VmRSS allowed under the abuse: buffers for every connection and answer. */
const RSS_GROWTH_CAP = 96 * MIB;

const encoder = new TextEncoder();

async function writeAll(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = encoder.encode(text);
  for (let written = 0; written < bytes.length;) {
    written += await conn.write(bytes.subarray(written));
  }
}

/** Sends `request` on a new connection and returns the answer's status line. */
async function statusOf(port: number, request: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    try {
      await writeAll(conn, request);
    } catch {
      // The server may answer and close before it read everything.
    }
    const buffer = new Uint8Array(1024);
    const n = await conn.read(buffer);
    return n === null ? "closed" : new TextDecoder().decode(buffer.subarray(0, n)).split("\r\n")[0];
  } finally {
    conn.close();
  }
}

Deno.test("a metrics port already in use: exit 2 and one line naming it", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: freePort() });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const r = await runOomhero([
      "--warning=memory_usage > 75",
      "--critical=memory_usage > 90",
      `--metrics-address=127.0.0.1:${port}`,
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, `oomhero: --metrics-address: port ${port} is already in use\n`);
    assert.equal(r.stdout, "");
  } finally {
    taken.close();
  }
});

Deno.test("hostile clients: the scan loop keeps its interval and memory stays bounded", async () => {
  const oomhero = await startOomhero([
    "--warning=memory_usage > 1000",
    "--critical=memory_usage > 2000",
    "--loop-interval=100ms",
  ]);
  const conns: Deno.Conn[] = [];
  try {
    const port = oomhero.port;
    await oomhero.waitForMetrics(
      "5 scans",
      (t) => metricValue(t, "oomhero_scans_total") >= 5 ? true : undefined,
    );
    const rssBefore = vmRssBytes(oomhero.pid);

    for (let i = 0; i < IDLE_CONNECTIONS; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    }
    const request = "GET /metrics HTTP/1.1\r\nHost: oomhero\r\n\r\n";
    for (let i = 0; i < NON_READERS; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(conn);
      await writeAll(conn, request.repeat(PIPELINED));
    }
    // Request heads that never end: a slow-loris scraper.
    for (let i = 0; i < NON_READERS; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(conn);
      await writeAll(conn, "GET /metrics HTTP/1.1\r\nHost: oomhero\r\nX-Slow: ");
    }
    const megabyte = "a".repeat(MIB);
    const [bigHeader, bigPath] = await Promise.all([
      statusOf(port, `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${megabyte}\r\n\r\n`),
      statusOf(port, `GET /${megabyte} HTTP/1.1\r\nHost: x\r\n\r\n`),
    ]);
    assert.match(bigHeader, /^HTTP\/1\.1 4\d\d /);
    assert.match(bigPath, /^HTTP\/1\.1 4\d\d /);

    // With all of that open, the loop goes on and the server still answers a fresh client.
    const scansBefore = metricValue(await oomhero.scrape(), "oomhero_scans_total");
    const started = performance.now();
    while (performance.now() - started < WINDOW_MS) {
      assert.equal((await oomhero.get("/healthz")).status, 200);
      await delay(250);
    }
    const scansAfter = metricValue(await oomhero.scrape(), "oomhero_scans_total");
    const rate = (scansAfter - scansBefore) / ((performance.now() - started) / 1000);
    assert.ok(rate >= MIN_SCANS_PER_SECOND, `${rate.toFixed(1)} scans/s under abuse`);
    const rssDuring = vmRssBytes(oomhero.pid);
    assert.ok(
      rssDuring - rssBefore < RSS_GROWTH_CAP,
      `VmRSS grew from ${(rssBefore / MIB).toFixed(1)} to ${(rssDuring / MIB).toFixed(1)} MiB`,
    );
    console.log(
      `abuse: ${rate.toFixed(1)} scans/s; VmRSS ${(rssBefore / MIB).toFixed(1)} → ` +
        `${(rssDuring / MIB).toFixed(1)} MiB with ${conns.length} connections open`,
    );
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed by the server */ }
    }
    const status = await oomhero.stop();
    assert.equal(status.code, 0, oomhero.describe());
    assert.deepEqual(oomhero.log.filter((l) => / ERROR /.test(l)), []);
  }
});
