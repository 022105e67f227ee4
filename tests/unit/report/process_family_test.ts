import assert from "node:assert/strict";
import { Gauge, Registry } from "../../../src/report/prom_client.ts";
import {
  escapeLabelValue,
  familyLine,
  type FamilySeries,
  ProcessFamily,
} from "../../../src/report/process_family.ts";

/** A family over `series`, its text lines formatted as the metrics module formats them. */
function family(registry: Registry, series: () => FamilySeries[], calls: { n: number }) {
  new ProcessFamily(registry, "memory_usage", "Usage.", {
    series: () => {
      calls.n++;
      return series();
    },
    lines: () => {
      calls.n++;
      return series().map(({ labels, value }) =>
        familyLine(
          `memory_usage{${
            Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")
          }}`,
          value,
        )
      );
    },
  });
}

Deno.test("a process family is built at each scrape: text and JSON alike, as a gauge", async () => {
  const registry = new Registry();
  let series: FamilySeries[] = [{ labels: { pid: "1", cmdline: "java" }, value: 1.5 }];
  const calls = { n: 0 };
  family(registry, () => series, calls);
  assert.equal(calls.n, 0, "nothing is built until scraped");
  assert.equal(
    await registry.metrics(),
    '# HELP memory_usage Usage.\n# TYPE memory_usage gauge\nmemory_usage{pid="1",cmdline="java"} 1.5\n',
  );
  series = [{ labels: { pid: "2", cmdline: 'a "q"\\\n' }, value: 7 }];
  const [json] = await registry.getMetricsAsJSON();
  assert.equal(json.name, "memory_usage");
  assert.equal(json.type, "gauge");
  assert.deepEqual(json.values, series);
  assert.equal(calls.n, 2);
});

Deno.test("escapeLabelValue escapes as prom-client does, so lines match its own", async () => {
  const registry = new Registry();
  const value = 'a "quoted" \\ back\nslash';
  const calls = { n: 0 };
  family(registry, () => [{ labels: { cmdline: value }, value: 1 }], calls);
  const ours = await registry.metrics();
  const theirs = new Registry();
  new Gauge({ name: "memory_usage", help: "Usage.", labelNames: ["cmdline"], registers: [theirs] })
    .set({ cmdline: value }, 1);
  assert.equal(ours, await theirs.metrics());
});
