/**
 * `promtool check metrics` on what oomhero serves. The original tool's unprefixed names
 * (memory_usage, oom_score, memory_pressure, io_pressure, cpu_pressure) carry no unit suffix, but
 * promtool's lint checks (help text, base units, counter `_total`, histogram/summary suffixes,
 * type in the name, colons, camelCase, abbreviated units) do not require one, so they force no
 * complaint: the expected output is empty.
 */
import assert from "node:assert/strict";
import { Metrics } from "../../src/report/metrics.ts";
import { fakeSample } from "../support/fake_sample.ts";
import { promtoolVersion } from "../support/prometheus_server.ts";

const version = promtoolVersion();
if (version === undefined) {
  console.log("promtool_test: skipped, promtool is not installed (apt-get install prometheus)");
}

/** Runs `promtool check metrics` on `text`; returns its exit code and combined output. */
async function checkMetrics(text: string): Promise<{ code: number; output: string }> {
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, output: (decoder.decode(stdout) + decoder.decode(stderr)).trim() };
}

/** A pod with a JVM near its limit, an nginx, and a process whose name needs escaping. */
async function realisticExposition(): Promise<string> {
  const metrics = new Metrics({ version: "0.1.0" });
  const scan = [
    fakeSample(7, {
      memory_usage: 91.25,
      memory_current: 979_828_736,
      memory_max: 1_073_741_824,
      memory_working_set: 901_775_360,
      memory_working_set_usage: 83.984375,
      oom_score: 1_061,
      oom_score_adj: 968,
      memory_pressure_some_avg10: 4.12,
      memory_pressure_some_avg60: 2.03,
      memory_pressure_some_total: 98_765_432,
      memory_pressure_full_avg10: 1.5,
      memory_pressure_full_total: 12_345_678,
      io_pressure_some_avg10: 0.31,
      io_pressure_some_total: 4_567_890,
      cpu_pressure_some_avg300: 7.77,
      cpu_pressure_some_total: 345_678_901,
    }, "/usr/bin/java -Xmx800m -jar app.jar"),
    fakeSample(12, {
      memory_current: 8_388_608,
      memory_working_set: 6_291_456,
      oom_score: 2,
    }, "nginx: master process /usr/sbin/nginx"),
    fakeSample(31, { memory_current: 4_096 }, '/opt/odd "quoted"\\path\nname --flag'),
  ];
  metrics.observeScan(scan, 0.0042);
  metrics.observeScan(scan, 0.0007);
  metrics.countSignal("warning", "SIGUSR1", "sent");
  metrics.countSignal("critical", "SIGTERM", "failed");
  metrics.countSignal("critical", "SIGKILL", "dry_run");
  metrics.countError("scan");
  return (await metrics.render(null)).body;
}

Deno.test({
  name: "promtool check metrics: the realistic exposition passes with no complaint",
  ignore: version === undefined,
  async fn() {
    const text = await realisticExposition();
    assert.ok(text.includes('cmdline="/opt/odd'), "the escaped label is in the fixture");
    const { code, output } = await checkMetrics(text);
    assert.equal(output, "", `promtool (${version}) complained`);
    assert.equal(code, 0);
  },
});

Deno.test({
  name: "promtool check metrics: the check does flag bad names (so silence means something)",
  ignore: version === undefined,
  async fn() {
    const { code, output } = await checkMetrics(
      "# HELP oomhero_bad_count A counter without _total.\n" +
        "# TYPE oomhero_bad_count counter\noomhero_bad_count 1\n",
    );
    assert.notEqual(code, 0);
    assert.match(output, /oomhero_bad_count counter metrics should have "_total" suffix/);
  },
});
