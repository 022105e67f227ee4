/**
 * End to end: oomhero watches a known process and a real Prometheus scrapes it. Skipped, with a
 * printed reason, when `prometheus` is not installed (apt-get install prometheus).
 */
import assert from "node:assert/strict";
import { startOomhero, waitFor } from "../support/live_oomhero.ts";
import { startNamed, stopNamed } from "../support/named_process.ts";
import { prometheusVersion, startPrometheus } from "../support/prometheus_server.ts";

const version = prometheusVersion();
if (version === undefined) {
  console.log("prometheus_e2e_test: skipped, prometheus is not installed");
}

Deno.test({
  name: "Prometheus scrapes oomhero watching a known process",
  ignore: version === undefined,
  async fn() {
    const marker = `oomhero-e2e-target-${crypto.randomUUID().slice(0, 8)}`;
    // argv[0] is the marker, so it is in both the command line and the first arg.
    const target = await startNamed(marker);
    try {
      const oomhero = await startOomhero([
        "--warning",
        "memory_usage > 1000",
        "--critical",
        "memory_usage > 2000",
        "--loop-interval",
        "100ms",
        "--include",
        marker,
      ]);
      try {
        await waitFor("oomhero's /readyz", async () => {
          const { status } = await oomhero.get("/readyz");
          return status === 200 ? true : undefined;
        }, { describe: oomhero.describe });
        // The server's default clock must be the monitor's, or a fresh scan looks ages old.
        const health = await oomhero.get("/healthz");
        assert.deepEqual([health.status, health.body], [200, "ok\n"]);

        console.log(`prometheus ${version}`);
        const prometheus = await startPrometheus([
          "global:",
          "  scrape_interval: 1s",
          "  scrape_timeout: 1s",
          "scrape_configs:",
          "  - job_name: oomhero",
          "    static_configs:",
          `      - targets: ["127.0.0.1:${oomhero.port}"]`,
          "",
        ].join("\n"));
        try {
          const usage = await prometheus.waitForSeries(`memory_usage{pid="${target.pid}"}`);
          assert.equal(usage.length, 1);
          assert.equal(usage[0].metric.cmdline, marker);
          assert.equal(usage[0].metric.job, "oomhero");
          const percent = Number(usage[0].value[1]);
          assert.ok(percent >= 0 && percent <= 100, `memory_usage ${percent}`);

          const scans = await prometheus.waitForSeries("oomhero_scans_total");
          assert.ok(Number(scans[0].value[1]) > 0, `oomhero_scans_total ${scans[0].value[1]}`);

          const pressure = await prometheus.query(`memory_pressure{pid="${target.pid}"}`);
          assert.equal(pressure.length, 8, "2 severities × 4 windows");
          const up = await prometheus.query('up{job="oomhero"}');
          assert.equal(up[0]?.value[1], "1");
        } finally {
          await prometheus.stop();
        }
      } finally {
        await oomhero.stop();
      }
    } finally {
      await stopNamed(target);
    }
  },
});
