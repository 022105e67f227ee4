/**
 * End to end, monitoring/ against the real thing: a real Prometheus loads monitoring/rules.yaml
 * and scrapes, through the relabelling of monitoring/scrape-config.yaml, a real oomhero watching
 * the demo app in a v1/v2 memory cgroup while it grows past the thresholds. The critical alert
 * must go pending or firing through Prometheus's own API, naming the app's pid; then every query
 * of every dashboard panel, its variables substituted with what the variables' own queries
 * return, must return data. The main panels are drawn into a PNG from those results
 * (`OOMHERO_DASHBOARD_PNG=monitoring/dashboard.png` writes the README's picture). Needs root, a
 * writable cgroupfs and `prometheus`; skipped, with a printed reason, without them.
 */
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import { withMemoryCgroup } from "../../demo/memory_cgroup.ts";
import { APP_SIGNAL_FLAGS, lines, spawnApp } from "../../demo/scenario.ts";
import { dashboard, MAIN_PANELS } from "../../monitoring/dashboard.ts";
import { MONITORING_DIR } from "../../monitoring/generate.ts";
import { type ChartPanel, renderPanelsPng } from "../../monitoring/render_png.ts";
import { freePort } from "../../scripts/runtime_flags.ts";
import {
  panelQueries,
  substituteVariables,
  type VariableValues,
} from "../support/dashboard_queries.ts";
import { delay, startOomhero, waitFor } from "../support/live_oomhero.ts";
import { memoryCgroupsUnavailable } from "../support/memory_cgroups.ts";
import {
  PROMETHEUS_WAIT_MS,
  prometheusVersion,
  type RangeSeries,
  startPrometheus,
} from "../support/prometheus_server.ts";

const MIB = 1024 * 1024;
const LIMIT = 256 * MIB;
/** How long the run goes on for the README's picture (OOMHERO_DASHBOARD_PNG). */
const PICTURE_SECONDS = 60;
/** The target labels the scrape config's relabelling derives from these discovery labels. */
const POD = { namespace: "oomhero-e2e", pod: "app-e2e", container: "oomhero" };

const version = prometheusVersion();
const NO_CGROUPS = memoryCgroupsUnavailable();
const SKIP = version === undefined ? "prometheus is not installed" : NO_CGROUPS;
if (SKIP !== undefined) console.log(`monitoring_e2e_test: skipped, ${SKIP}`);

/**
 * monitoring/scrape-config.yaml with its Kubernetes discovery replaced by two static targets
 * carrying the discovery labels Kubernetes would: oomhero's container, which the relabelling must
 * keep, and an application container with a port of the same name, which it must drop.
 */
function prometheusConfig(oomheroPort: number, decoyPort: number): string {
  const config = parse(Deno.readTextFileSync(`${MONITORING_DIR}scrape-config.yaml`));
  const [job] = config.scrape_configs;
  delete job.kubernetes_sd_configs;
  const discovered = (port: number, container: string) => ({
    targets: [`127.0.0.1:${port}`],
    labels: {
      __meta_kubernetes_namespace: POD.namespace,
      __meta_kubernetes_pod_name: POD.pod,
      __meta_kubernetes_pod_container_name: container,
      __meta_kubernetes_pod_container_port_name: "metrics",
      __meta_kubernetes_pod_annotation_prometheus_io_scrape: "true",
      __meta_kubernetes_pod_node_name: "e2e-node",
    },
  });
  job.static_configs = [discovered(oomheroPort, "oomhero"), discovered(decoyPort, "app")];
  Object.assign(job, { scrape_interval: "1s", scrape_timeout: "1s" });
  config.global = { scrape_interval: "1s", evaluation_interval: "1s" };
  return stringify(config);
}

Deno.test({
  name: "monitoring e2e: the critical alert fires in Prometheus and every dashboard query has data",
  ignore: SKIP !== undefined,
  async fn() {
    const begin = Date.now() / 1000;
    // Its last argument makes the app's command line unique: --include matches it alone.
    const appArgs = [
      "--step-mib",
      "4",
      "--every-ms",
      "100",
      "--seconds",
      `180.${crypto.getRandomValues(new Uint32Array(1))[0]}`,
    ];
    const include = `demo/app\\.ts ${appArgs.join(" ").replaceAll(".", "\\.")}$`;
    await withMemoryCgroup("oomhero-monitoring", LIMIT, async (cgroup) => {
      const oomhero = await startOomhero([
        ...APP_SIGNAL_FLAGS,
        // Close together, so that what the app sheds on a warning does not keep it off critical.
        "--warning=memory_usage > 40",
        "--critical=memory_usage > 50",
        "--loop-interval=100ms",
        "--cooldown-interval=2s",
        "--trend-window=3s",
        // The legends show "deno", not this machine's path to it.
        "--cmdline-label=basename",
        `--include=${include}`,
      ]);
      try {
        const prometheus = await startPrometheus(prometheusConfig(oomhero.port, freePort()), {
          "rules.yaml": Deno.readTextFileSync(`${MONITORING_DIR}rules.yaml`),
        });
        try {
          const app = spawnApp(cgroup, appArgs);
          const appLog: string[] = [];
          const drained = (async () => {
            for await (const line of lines(app.stdout)) appLog.push(line);
          })();
          try {
            const describe = async () =>
              `${await prometheus.describe()}\n${oomhero.describe()}\napp:\n${appLog.join("\n")}`;
            let last = "";
            const alert = await waitFor("OomheroCriticalSignalSent pending or firing", async () => {
              const alerts = await prometheus.alerts();
              last = JSON.stringify(alerts);
              return alerts.find((a) => a.labels.alertname === "OomheroCriticalSignalSent");
            }, {
              timeoutMs: PROMETHEUS_WAIT_MS,
              everyMs: 250,
              describe: () => `alerts: ${last}\n${oomhero.describe()}\napp:\n${appLog.join("\n")}`,
            });
            assert.match(alert.state, /^(pending|firing)$/);
            assert.deepEqual(
              {
                namespace: alert.labels.namespace,
                pod: alert.labels.pod,
                container: alert.labels.container,
                signal: alert.labels.signal,
                severity: alert.labels.severity,
              },
              { ...POD, signal: "SIGHUP", severity: "critical" },
            );
            assert.match(alert.annotations.description, new RegExp(`pid ${app.pid} `));
            const dropped = await prometheus.api<{ droppedTargets: unknown[] }>(
              "/api/v1/targets?state=dropped",
            );
            assert.equal(dropped.droppedTargets.length, 1, "the app container's port is dropped");

            const values = await variableValues(prometheus.api.bind(prometheus));
            assert.deepEqual(values, POD, "the variables' queries find the target");
            const results = await waitForPanelData(
              (expr) => prometheus.queryRange(expr, begin, Date.now() / 1000, 1),
              values,
              describe,
            );
            const png = renderPanelsPng(
              MAIN_PANELS.map((title) => chartPanel(title, results)),
              [begin, Date.now() / 1000],
            );
            assert.deepEqual([...png.slice(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
            // A healthy oomhero that delivers its signals raises nothing but the signal alerts.
            const raised = new Set((await prometheus.alerts()).map((a) => a.labels.alertname));
            for (const healthy of ["OomheroSignalsFailing", "OomheroScansStalled"]) {
              assert.ok(!raised.has(healthy), `${healthy} raised: ${[...raised]}`);
            }
            const out = Deno.env.get("OOMHERO_DASHBOARD_PNG");
            if (out) {
              // For the README's picture: a minute of the app's growing and shedding.
              await delay(PICTURE_SECONDS * 1000);
              const end = Date.now() / 1000;
              const { results } = await queryPanels(
                (expr) => prometheus.queryRange(expr, begin, end, 1),
                values,
              );
              const charts = MAIN_PANELS.map((title) => chartPanel(title, results));
              await Deno.writeFile(out, renderPanelsPng(charts, [begin, end]));
            }
          } finally {
            try {
              app.kill("SIGKILL");
            } catch { /* already exited */ }
            await app.status;
            await drained;
          }
        } finally {
          await prometheus.stop();
        }
      } finally {
        await oomhero.stop();
      }
    });
  },
});

/** The first value of each variable's query, as Grafana would pick it. */
async function variableValues(
  api: <T>(path: string) => Promise<T>,
): Promise<VariableValues> {
  const found: Partial<VariableValues> = {};
  for (const variable of dashboard().templating.list) {
    if (variable.type !== "query" || typeof variable.query === "string") continue;
    const m = /^label_values\((\w+)(\{.*\})?, (\w+)\)$/.exec(variable.query.query);
    assert.ok(m, `variable ${variable.name}: ${variable.query.query}`);
    const match = substituteVariables(`${m[1]}${m[2] ?? ""}`, found as VariableValues, "1m");
    const names = await api<string[]>(
      `/api/v1/label/${m[3]}/values?match[]=${encodeURIComponent(match)}`,
    );
    assert.ok(names.length > 0, `variable ${variable.name} has no values`);
    found[variable.name as keyof VariableValues] = names[0];
  }
  return found as VariableValues;
}

/** Runs every panel query; returns the results by `panel/refId` and the queries without data. */
async function queryPanels(
  queryRange: (expr: string) => Promise<RangeSeries[]>,
  values: VariableValues,
): Promise<{ results: Map<string, RangeSeries[]>; missing: string[] }> {
  const results = new Map<string, RangeSeries[]>();
  const missing: string[] = [];
  for (const q of panelQueries(dashboard())) {
    // $__rate_interval at a 1 s scrape interval: 4 × the interval.
    const series = await queryRange(substituteVariables(q.expr, values, "4s"));
    results.set(`${q.panel}/${q.refId}`, series);
    if (series.length === 0) missing.push(`${q.panel} ${q.refId}: ${q.expr}`);
  }
  return { results, missing };
}

/** Polls every panel query over the test's span until each has returned data. */
async function waitForPanelData(
  queryRange: (expr: string) => Promise<RangeSeries[]>,
  values: VariableValues,
  describe: () => Promise<string>,
): Promise<Map<string, RangeSeries[]>> {
  let missing: string[] = [];
  let detail = "";
  return await waitFor("data for every dashboard query", async () => {
    const answer = await queryPanels(queryRange, values);
    missing = answer.missing;
    if (missing.length === 0) return answer.results;
    detail = await describe();
  }, {
    timeoutMs: PROMETHEUS_WAIT_MS,
    everyMs: 1000,
    describe: () => `no data:\n${missing.join("\n")}\n${detail}`,
  });
}

/** A panel's results as the PNG renderer takes them, legends filled in as Grafana would. */
function chartPanel(title: string, results: Map<string, RangeSeries[]>): ChartPanel {
  const panel = dashboard().panels.find((p) => p.title === title);
  assert.ok(panel?.targets, `panel ${title}`);
  return {
    title,
    unit: panel.fieldConfig!.defaults.unit,
    series: panel.targets.flatMap((t) =>
      (results.get(`${title}/${t.refId}`) ?? []).map((s) => ({
        name: t.legendFormat.replace(/\{\{(\w+)\}\}/g, (_, l: string) => s.metric[l] ?? ""),
        points: s.values.map(([time, v]) => [time, Number(v)] as [number, number]),
      }))
    ),
  };
}
