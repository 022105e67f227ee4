import assert from "node:assert/strict";
// The whole package, as a user's Node.js exporter loads it: the reference for names and help.
import * as promClient from "prom-client";
import { registerDefaultMetrics } from "../../../src/report/default_metrics.ts";
import { readOpenFilesLimit } from "../../../src/report/fd_budget.ts";
import { Registry } from "../../../src/report/prom_client.ts";

const ROOT = new URL("../../../", import.meta.url);

Deno.test("registerDefaultMetrics: each metric as prom-client's collectDefaultMetrics has it", async () => {
  const ours = new Registry();
  registerDefaultMetrics(ours);
  const reference = new promClient.Registry();
  promClient.collectDefaultMetrics({ register: reference });
  const theirs = new Map((await reference.getMetricsAsJSON()).map((m) => [m.name, m]));
  const mine = await ours.getMetricsAsJSON();
  assert.ok(mine.length >= 14, `only ${mine.length} metrics`);
  for (const metric of mine) {
    const twin = theirs.get(metric.name);
    assert.ok(twin, `${metric.name} is not a prom-client default metric`);
    assert.deepEqual([metric.help, metric.type], [twin.help, twin.type], metric.name);
    const labelNames = (
      m: typeof metric,
    ) => [...new Set(m.values.flatMap((v) => Object.keys(v.labels)))];
    assert.deepEqual(labelNames(metric), labelNames(twin), metric.name);
  }
  const value = (m: typeof mine[number] | undefined) => m?.values[0]?.value;
  const maxFds = mine.find((m) => m.name === "process_max_fds");
  assert.equal(value(maxFds), readOpenFilesLimit());
  assert.equal(value(maxFds), value(theirs.get("process_max_fds")));
});

Deno.test("the metrics load prom-client's registry and metric files, not its index or Pushgateway", async () => {
  // Run apart: this process loaded the whole package above. Module._cache holds every CommonJS
  // file Deno's require has loaded.
  const script = `
    import { Module } from "node:module";
    import { Metrics } from "./src/report/metrics.ts";
    await new Metrics({ version: "0" }).render(null);
    console.log(JSON.stringify(Object.keys(Module._cache)));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    cwd: ROOT,
    stdin: "null",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const loaded: string[] = JSON.parse(new TextDecoder().decode(out.stdout));
  const promFiles = loaded.flatMap((f) => /\/prom-client\/[^/]+\/(.+)$/.exec(f)?.[1] ?? []).sort();
  assert.ok(promFiles.includes("lib/registry.js"), JSON.stringify(loaded));
  assert.deepEqual(
    promFiles.filter((f) =>
      !/^lib\/(registry|metric|gauge|counter|histogram|exemplar|util|validation)\.js$/.test(f) &&
      !/^lib\/metrics\/(processCpuTotal|processStartTime|heapSizeAndUsed|heapSpacesSizeAndUsed)\.js$/
        .test(f) &&
      f !== "lib/metrics/helpers/safeMemoryUsage.js"
    ),
    [],
  );
});
