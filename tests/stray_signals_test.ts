/**
 * Signals sent to oomhero itself: a stray SIGUSR1 or SIGUSR2 (a second, misconfigured oomhero; a
 * `kill -USR1 -1`) or a SIGHUP must not end it, and SIGUSR1 must not open a V8 inspector on
 * 127.0.0.1:9229 (Deno 2.9.2 and later do; the reason Deno is pinned to 2.9.1).
 */
import assert from "node:assert/strict";
import { metricValue, startOomhero } from "./live_oomhero.ts";

/** The inspector port Deno would open on SIGUSR1. */
const INSPECTOR_PORT = 9229;

/** The TCP ports `pid` listens on: its socket inodes matched to the LISTEN rows of /proc/net. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`));
      if (m !== null) inodes.add(m[1]);
    } catch { /* closed meanwhile */ }
  }
  const ports: number[] = [];
  for (const table of ["tcp", "tcp6"]) {
    const rows = Deno.readTextFileSync(`/proc/${pid}/net/${table}`).trim().split("\n").slice(1);
    for (const row of rows) {
      const f = row.trim().split(/\s+/);
      // f[1] is local address:port in hex, f[3] the state (0A = LISTEN), f[9] the inode.
      if (f[3] === "0A" && inodes.has(f[9])) ports.push(parseInt(f[1].split(":")[1], 16));
    }
  }
  return ports.sort((a, b) => a - b);
}

Deno.test({
  name: "SIGUSR1, SIGUSR2 and SIGHUP are logged and ignored; no inspector opens on 9229",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const oomhero = await startOomhero([
      "--warning=memory_usage > 75",
      "--critical=memory_usage > 90",
      "--include=^no-process-has-this-name$",
      "--loop-interval=100ms",
    ]);
    try {
      assert.deepEqual(listeningPorts(oomhero.pid), [oomhero.port]);
      for (const signal of ["SIGUSR1", "SIGUSR2", "SIGHUP"] as const) {
        Deno.kill(oomhero.pid, signal);
        await oomhero.waitForLog(new RegExp(` INFO  ignoring signal signal=${signal}$`));
      }
      // Still scanning after all three, and the metrics port is the only listener.
      const scans = metricValue(await oomhero.scrape(), "oomhero_scans_total");
      await oomhero.waitForMetrics(
        "more scans",
        (text) => metricValue(text, "oomhero_scans_total") > scans + 2 ? true : undefined,
      );
      assert.equal((await oomhero.get("/healthz")).status, 200);
      const ports = listeningPorts(oomhero.pid);
      assert.ok(!ports.includes(INSPECTOR_PORT), `listening on ${ports.join(", ")}`);
      assert.deepEqual(ports, [oomhero.port]);
    } finally {
      const status = await oomhero.stop();
      assert.equal(status.code, 0, oomhero.describe());
    }
  },
});
