/**
 * monitoring/ in step with itself and the repository: every alert has a firing and a non-firing
 * unit test, a severity, annotations naming where it fired, a runbook section and a README line;
 * the generated PrometheusRule and dashboard are up to date; the dashboard has no hard-coded data
 * source; the PodMonitors and the scrape config select what the example manifests run.
 * tests/e2e/monitoring_rules_test.ts runs promtool on the rules.
 */
import assert from "node:assert/strict";
import { parse, parseAllDocuments } from "yaml";
import { dashboard } from "../../../monitoring/dashboard.ts";
import { generatedFiles, MONITORING_DIR, staleFiles } from "../../../monitoring/generate.ts";
import { ROOT } from "../../support/oomhero_process.ts";
import { ALERTS, RECORDS, RULES, UNIT_TESTS } from "../../support/rule_file.ts";

Deno.test("monitoring: every alert has unit tests that fire it and that must not", () => {
  for (const { alert } of ALERTS) {
    const cases = UNIT_TESTS.flatMap((t) => t.alert_rule_test ?? [])
      .filter((c) => c.alertname === alert);
    assert.ok(cases.some((c) => c.exp_alerts.length > 0), `${alert}: no test that fires it`);
    assert.ok(cases.some((c) => c.exp_alerts.length === 0), `${alert}: no test where it must not`);
  }
  const tested = new Set(UNIT_TESTS.flatMap((t) => t.promql_expr_test ?? []).map((t) => t.expr));
  for (const { record } of RECORDS.filter((r) => !r.record!.startsWith("oomhero:"))) {
    assert.ok(tested.has(record!), `recording rule ${record} has no promql_expr_test`);
  }
});

Deno.test("monitoring: every alert has a severity, names where it fired and has a runbook section", () => {
  const runbook = Deno.readTextFileSync(`${ROOT}docs/runbook.md`);
  const anchors = new Set(
    [...runbook.matchAll(/^## (\S+)$/gm)].map((m) => m[1].toLowerCase()),
  );
  for (const { alert, labels, annotations } of ALERTS) {
    assert.match(labels?.severity ?? "", /^(warning|critical)$/, `${alert}: severity`);
    assert.ok(annotations?.summary, `${alert}: summary`);
    for (const label of ["namespace", "pod", "container"]) {
      assert.ok(annotations!.description.includes(`$labels.${label}`), `${alert}: names ${label}`);
    }
    const url = annotations!.runbook_url;
    const anchor = alert!.toLowerCase();
    assert.equal(url, `https://github.com/oomhero/oomhero/blob/main/docs/runbook.md#${anchor}`);
    assert.ok(anchors.has(anchor), `docs/runbook.md has no "## ${alert}" section`);
  }
  assert.equal(anchors.size, ALERTS.length, "docs/runbook.md has a section per alert, no more");
});

Deno.test("monitoring: README's Monitoring section has one line per alert", () => {
  const readme = Deno.readTextFileSync(`${ROOT}README.md`);
  const start = readme.indexOf("\n## Monitoring\n");
  assert.ok(start >= 0, "README has a Monitoring section");
  const section = readme.slice(start + 1).split(/\n## /)[0];
  for (const { alert } of ALERTS) {
    const lines = section.split("\n").filter((l) => l.includes(`\`${alert}\``));
    assert.equal(lines.length, 1, `README Monitoring: one line for ${alert}`);
  }
});

Deno.test("monitoring: the generated PrometheusRule and dashboard are up to date", () => {
  assert.deepEqual(staleFiles(), [], "run ./scripts/deno task monitoring");
  const resource = parse(generatedFiles()["prometheusrule.yaml"]);
  assert.equal(resource.kind, "PrometheusRule");
  assert.deepEqual(resource.spec, RULES, "the PrometheusRule's spec is rules.yaml");
});

Deno.test("monitoring: the dashboard has no hard-coded data source and namespace/pod/container variables", () => {
  const board = dashboard();
  const text = JSON.stringify(board);
  const uids = [...text.matchAll(/"uid":"([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(uids)].sort(), ["${datasource}", "oomhero"]);
  assert.deepEqual(board.templating.list.map((v) => v.name), [
    "datasource",
    "namespace",
    "pod",
    "container",
  ]);
  for (const panel of board.panels.filter((p) => p.type === "timeseries")) {
    for (const { expr } of panel.targets!) {
      assert.match(expr, /pod=~"\$pod"/, `${panel.title}: ${expr} is narrowed to $pod`);
    }
  }
});

/** The pod template and its oomhero container of a workload in an example manifest. */
function podTemplate(file: string, kind: string) {
  const docs = parseAllDocuments(Deno.readTextFileSync(`${ROOT}examples/kubernetes/${file}`))
    .map((d) => d.toJS());
  const workload = docs.find((d) => d?.kind === kind);
  assert.ok(workload, `${file} has a ${kind}`);
  const template = workload.spec.template;
  const oomhero = template.spec.containers.find((c: { name: string }) => c.name === "oomhero");
  return { namespace: workload.metadata.namespace, template, oomhero };
}

Deno.test("monitoring: the PodMonitors select the example manifests' oomhero containers", () => {
  for (
    const [monitorFile, manifest, kind] of [
      ["podmonitor-sidecar.yaml", "sidecar.yaml", "Deployment"],
      ["podmonitor-daemonset.yaml", "daemonset.yaml", "DaemonSet"],
    ]
  ) {
    const monitor = parse(Deno.readTextFileSync(`${MONITORING_DIR}${monitorFile}`));
    assert.equal(monitor.kind, "PodMonitor");
    const { namespace, template, oomhero } = podTemplate(manifest, kind);
    assert.equal(monitor.metadata.namespace, namespace, `${monitorFile}: namespace`);
    for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) {
      assert.equal(template.metadata.labels[key], value, `${monitorFile}: ${key} in ${manifest}`);
    }
    const [endpoint] = monitor.spec.podMetricsEndpoints;
    assert.equal(endpoint.port, "metrics");
    assert.ok(oomhero.ports.some((p: { name: string }) => p.name === endpoint.port));
    const keep = endpoint.relabelings.find((r: { action: string }) => r.action === "keep");
    assert.deepEqual(keep.sourceLabels, ["__meta_kubernetes_pod_container_name"]);
    assert.match(oomhero.name, new RegExp(`^(?:${keep.regex})$`));
  }
});

Deno.test("monitoring: the scrape config keeps the example manifests' oomhero containers", () => {
  const config = parse(Deno.readTextFileSync(`${MONITORING_DIR}scrape-config.yaml`));
  assert.deepEqual(config.rule_files, ["rules.yaml"]);
  const [job] = config.scrape_configs;
  assert.deepEqual(job.kubernetes_sd_configs, [{ role: "pod" }]);
  for (
    const [manifest, kind] of [["sidecar.yaml", "Deployment"], ["daemonset.yaml", "DaemonSet"]]
  ) {
    const { template, oomhero } = podTemplate(manifest, kind);
    const meta: Record<string, string> = {
      __meta_kubernetes_pod_annotation_prometheus_io_scrape:
        template.metadata.annotations["prometheus.io/scrape"],
      __meta_kubernetes_pod_container_name: oomhero.name,
      __meta_kubernetes_pod_container_port_name: oomhero.ports[0].name,
    };
    // Prometheus's keep: the source labels joined by ";" must match the anchored regex.
    for (
      const rule of job.relabel_configs.filter((r: { action?: string }) => r.action === "keep")
    ) {
      const value = rule.source_labels.map((l: string) => meta[l]).join(";");
      assert.match(value, new RegExp(`^(?:${rule.regex})$`), `${manifest}: ${rule.source_labels}`);
    }
  }
});
