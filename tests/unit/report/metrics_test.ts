import assert from "node:assert/strict";
import { type CmdlineLabel, Metrics } from "../../../src/report/metrics.ts";
import type { ProcessSample } from "../../../src/collect/sample.ts";
import { variablesOf } from "../../../src/collect/needs.ts";
import {
  pressureVariable,
  VARIABLE_NAMES,
  type Variables,
} from "../../../src/collect/variables.ts";
import {
  PRESSURE_RESOURCES,
  PRESSURE_SEVERITIES,
  PRESSURE_WINDOWS,
} from "../../../src/kernel/pressure.ts";

const PER_PROCESS_GAUGES: Record<string, string> = {
  memory_usage: "memory_usage",
  oom_score: "oom_score",
  memory_current_bytes: "memory_current",
  memory_max_bytes: "memory_max",
  memory_working_set_bytes: "memory_working_set",
  memory_growth_rate_bytes_per_second: "memory_growth_rate",
  memory_seconds_to_limit: "memory_seconds_to_limit",
};
const PRESSURE_GAUGES = ["memory_pressure", "io_pressure", "cpu_pressure"];
/** Series one process adds: 7 gauges plus 3 pressure gauges × 2 severities × 4 windows. */
const SERIES_PER_PROCESS = 7 + 3 * 2 * 4;

/** Every variable set, each to a different value, so a gauge showing the wrong one shows. */
function distinctVariables(offset: number): Variables {
  return Object.fromEntries(VARIABLE_NAMES.map((name, i) => [name, offset + i + 0.25]));
}

/** A Java process in a pod limited to 1 GiB, under some memory pressure. */
function realisticVariables(): Variables {
  const v: Variables = Object.fromEntries(VARIABLE_NAMES.map((name) => [name, 0]));
  Object.assign(v, {
    memory_usage: 87.5,
    memory_current: 939_524_096,
    memory_max: 1_073_741_824,
    memory_working_set: 805_306_368,
    memory_working_set_usage: 75,
    oom_score: 1_043,
    oom_score_adj: 999,
    memory_pressure_some_avg10: 3.5,
    memory_pressure_some_total: 123_456_789,
    memory_pressure_full_avg10: 1.25,
    io_pressure_full_avg60: 0.5,
    cpu_pressure_some_avg300: 12.75,
  });
  return v;
}

function sample(pid: number, firstArg: string, variables: Variables): ProcessSample {
  return {
    pid,
    startTime: 1000 + pid,
    cmdline: `${firstArg} -Xmx800m -jar app.jar`,
    firstArg,
    source: {
      version: 2,
      view: "host",
      path: "/kubepods/pod1/c1",
      memoryDir: "/sys/fs/cgroup/kubepods/pod1/c1",
      limitDir: "/sys/fs/cgroup/kubepods/pod1",
      memoryMaxScope: "effective",
      pressureSource: "/sys/fs/cgroup/kubepods/pod1/c1",
      pressureNote: "",
    },
    variables,
  };
}

/** A metrics instance on a clock the test moves. */
function withClock(
  options: { idleTimeoutMs?: number; cmdlineLabel?: CmdlineLabel } = {},
): { metrics: Metrics; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  return { metrics: new Metrics({ version: "1.2.3", now: () => clock.now, ...options }), clock };
}

interface Series {
  labels: Record<string, string | number>;
  value: number;
}

async function metricsByName(
  metrics: Metrics,
): Promise<Map<string, { type: string; values: Series[] }>> {
  const all = await metrics.registry.getMetricsAsJSON();
  return new Map(all.map((m) => [m.name, { type: String(m.type), values: m.values as Series[] }]));
}

async function seriesCount(metrics: Metrics): Promise<number> {
  const all = await metrics.registry.getMetricsAsJSON();
  return all.reduce((sum, m) => sum + m.values.length, 0);
}

/** The pids that have a series in any per-process metric. */
async function pidsShown(metrics: Metrics): Promise<Set<string>> {
  const byName = await metricsByName(metrics);
  const pids = new Set<string>();
  for (const name of [...Object.keys(PER_PROCESS_GAUGES), ...PRESSURE_GAUGES]) {
    for (const s of byName.get(name)!.values) pids.add(String(s.labels.pid));
  }
  return pids;
}

function lines(text: string): string[] {
  return text.split("\n");
}

Deno.test("per-process gauges show their variable under labels pid and cmdline", async () => {
  const metrics = new Metrics({ version: "1.2.3" });
  const a = sample(101, "/usr/bin/java", distinctVariables(0));
  const b = sample(202, "/usr/local/bin/node", distinctVariables(1000));
  metrics.observeScan([a, b], 0.001);
  const byName = await metricsByName(metrics);
  for (const [name, variable] of Object.entries(PER_PROCESS_GAUGES)) {
    const metric = byName.get(name);
    assert.ok(metric, name);
    assert.equal(metric.type, "gauge", name);
    assert.deepEqual(
      metric.values.map((s) => [s.labels, s.value]),
      [
        [{ pid: "101", cmdline: "/usr/bin/java" }, a.variables[variable]],
        [{ pid: "202", cmdline: "/usr/local/bin/node" }, b.variables[variable]],
      ],
      name,
    );
  }
});

Deno.test("pressure gauges show every severity and window of their resource", async () => {
  const metrics = new Metrics({ version: "1.2.3" });
  const a = sample(101, "/usr/bin/java", distinctVariables(0));
  metrics.observeScan([a], 0.001);
  const byName = await metricsByName(metrics);
  for (const resource of PRESSURE_RESOURCES) {
    const metric = byName.get(`${resource}_pressure`);
    assert.ok(metric, resource);
    assert.equal(metric.type, "gauge");
    const expected = PRESSURE_SEVERITIES.flatMap((severity_level) =>
      PRESSURE_WINDOWS.map((severity_window) => [
        { pid: "101", cmdline: "/usr/bin/java", severity_level, severity_window },
        a.variables[pressureVariable(resource, severity_level, severity_window)],
      ])
    );
    assert.deepEqual(metric.values.map((s) => [s.labels, s.value]), expected, resource);
  }
});

Deno.test("the exposition has the original tool's lines, exactly", async () => {
  const metrics = new Metrics({ version: "1.2.3" });
  metrics.observeScan([sample(4242, "/usr/bin/java", realisticVariables())], 0.003);
  const { contentType, body } = await metrics.render(null);
  assert.equal(contentType, "text/plain; version=0.0.4; charset=utf-8");
  const text = lines(body);
  for (
    const line of [
      "# TYPE memory_usage gauge",
      'memory_usage{pid="4242",cmdline="/usr/bin/java"} 87.5',
      "# TYPE oom_score gauge",
      'oom_score{pid="4242",cmdline="/usr/bin/java"} 1043',
      "# TYPE memory_pressure gauge",
      'memory_pressure{pid="4242",cmdline="/usr/bin/java",severity_level="some",severity_window="total"} 123456789',
      'memory_pressure{pid="4242",cmdline="/usr/bin/java",severity_level="full",severity_window="avg10"} 1.25',
      'io_pressure{pid="4242",cmdline="/usr/bin/java",severity_level="full",severity_window="avg60"} 0.5',
      'cpu_pressure{pid="4242",cmdline="/usr/bin/java",severity_level="some",severity_window="avg300"} 12.75',
      'memory_max_bytes{pid="4242",cmdline="/usr/bin/java"} 1073741824',
      'memory_working_set_bytes{pid="4242",cmdline="/usr/bin/java"} 805306368',
      "# TYPE oomhero_scans_total counter",
      "oomhero_scans_total 1",
      "oomhero_processes 1",
      'oomhero_scan_duration_seconds_bucket{le="0.0025"} 0',
      'oomhero_scan_duration_seconds_bucket{le="0.005"} 1',
      "oomhero_scan_duration_seconds_sum 0.003",
      "oomhero_scan_duration_seconds_count 1",
      `oomhero_build_info{version="1.2.3",deno="${Deno.version.deno}"} 1`,
    ]
  ) {
    assert.ok(text.includes(line), `missing line: ${line}`);
  }
  assert.equal(body.at(-1), "\n");
});

Deno.test("oomhero's own metrics: signals, scans, duration, processes, errors, build info", async () => {
  const metrics = new Metrics({ version: "1.2.3" });
  metrics.observeScan(
    [sample(1, "a", distinctVariables(0)), sample(2, "b", distinctVariables(0))],
    0.0002,
  );
  metrics.observeScan([sample(1, "a", distinctVariables(0))], 2);
  metrics.countSignal("warning", "SIGUSR1", "sent");
  metrics.countSignal("warning", "SIGUSR1", "sent");
  metrics.countSignal("critical", "SIGTERM", "failed");
  metrics.countSignal("critical", "SIGKILL", "dry_run");
  metrics.countError("scan");
  metrics.countError("signal");
  metrics.countError("scan");
  const byName = await metricsByName(metrics);

  const signals = byName.get("oomhero_signals_total")!;
  assert.equal(signals.type, "counter");
  assert.deepEqual(signals.values.map((s) => [s.labels, s.value]), [
    [{ severity: "warning", signal: "SIGUSR1", result: "sent" }, 2],
    [{ severity: "critical", signal: "SIGTERM", result: "failed" }, 1],
    [{ severity: "critical", signal: "SIGKILL", result: "dry_run" }, 1],
  ]);
  const errors = byName.get("oomhero_errors_total")!;
  assert.equal(errors.type, "counter");
  assert.deepEqual(errors.values.map((s) => [s.labels, s.value]), [
    [{ reason: "scan" }, 2],
    [{ reason: "signal" }, 1],
  ]);
  const scans = byName.get("oomhero_scans_total")!;
  assert.equal(scans.type, "counter");
  assert.deepEqual(scans.values.map((s) => s.value), [2]);
  const processes = byName.get("oomhero_processes")!;
  assert.equal(processes.type, "gauge");
  assert.deepEqual(processes.values.map((s) => s.value), [1]);
  const info = byName.get("oomhero_build_info")!;
  assert.equal(info.type, "gauge");
  assert.deepEqual(info.values.map((s) => [s.labels, s.value]), [
    [{ version: "1.2.3", deno: Deno.version.deno }, 1],
  ]);

  // Absent until set: an unreadable limit is never a made-up 0.
  assert.equal(byName.get("oomhero_memory_limit_bytes"), undefined);

  const duration = byName.get("oomhero_scan_duration_seconds")!;
  assert.equal(duration.type, "histogram");
  const buckets = duration.values.filter((s) => s.labels.le !== undefined);
  assert.deepEqual(buckets.map((s) => s.labels.le), [
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    "+Inf",
  ]);
  // 0.2 ms falls in the 0.25 ms bucket and above; 2 s only in +Inf.
  assert.deepEqual(buckets.map((s) => s.value), [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]);
});

Deno.test("withheld signals by severity, signal and reason; oomhero's own memory limit", async () => {
  const metrics = new Metrics({ version: "1.2.3" });
  metrics.countWithheld("warning", "SIGUSR1", "not_handled");
  metrics.countWithheld("warning", "SIGUSR1", "not_handled");
  metrics.countWithheld("critical", "SIGUSR2", "unreadable");
  metrics.setMemoryLimit(NaN);
  let byName = await metricsByName(metrics);
  assert.equal(byName.get("oomhero_memory_limit_bytes"), undefined);
  const withheld = byName.get("oomhero_signals_withheld_total")!;
  assert.equal(withheld.type, "counter");
  assert.deepEqual(withheld.values.map((s) => [s.labels, s.value]), [
    [{ severity: "warning", signal: "SIGUSR1", reason: "not_handled" }, 2],
    [{ severity: "critical", signal: "SIGUSR2", reason: "unreadable" }, 1],
  ]);
  metrics.setMemoryLimit(33_554_432);
  byName = await metricsByName(metrics);
  const limit = byName.get("oomhero_memory_limit_bytes")!;
  assert.equal(limit.type, "gauge");
  assert.deepEqual(limit.values.map((s) => s.value), [33_554_432]);
});

Deno.test("values follow every scan", async () => {
  const metrics = new Metrics({ version: "1.2.3" });
  metrics.observeScan([sample(7, "x", distinctVariables(0))], 0.001);
  const later = distinctVariables(500);
  metrics.observeScan([sample(7, "x", later)], 0.001);
  const byName = await metricsByName(metrics);
  assert.deepEqual(byName.get("memory_usage")!.values.map((s) => s.value), [later.memory_usage]);
  assert.deepEqual(
    byName.get("cpu_pressure")!.values.map((s) => s.value),
    PRESSURE_SEVERITIES.flatMap((sev) =>
      PRESSURE_WINDOWS.map((win) => later[pressureVariable("cpu", sev, win)])
    ),
  );
});

Deno.test("a missing or unreadable figure leaves its series out, not 0 or the previous value", async () => {
  const metrics = new Metrics({ version: "1.2.3" });
  metrics.observeScan([sample(7, "x", distinctVariables(0))], 0.001);
  const partial = distinctVariables(0);
  delete partial.memory_max;
  partial.memory_pressure_some_avg10 = NaN;
  metrics.observeScan([sample(7, "x", partial)], 0.001);
  const byName = await metricsByName(metrics);
  assert.deepEqual(byName.get("memory_max_bytes")!.values, []);
  const memoryPressure = byName.get("memory_pressure")!.values;
  assert.equal(memoryPressure.length, 7);
  assert.ok(
    !memoryPressure.some((v) =>
      v.labels.severity_level === "some" && v.labels.severity_window === "avg10"
    ),
  );
  // Readable again: the series is back with the new value.
  metrics.observeScan([sample(7, "x", distinctVariables(3))], 0.001);
  const again = await metricsByName(metrics);
  assert.equal(again.get("memory_max_bytes")!.values.length, 1);
  assert.ok(await metrics.render(null).then((r) => !r.body.includes("NaN")));
});

Deno.test("default process collectors: only those true under Deno, with true values", async () => {
  const metrics = new Metrics({ version: "1.2.3" });
  const byName = await metricsByName(metrics);
  const defaults = [...byName.keys()].filter((n) => /^(process|nodejs)_/.test(n)).sort();
  assert.deepEqual(defaults, [
    "nodejs_external_memory_bytes",
    "nodejs_heap_size_total_bytes",
    "nodejs_heap_size_used_bytes",
    "nodejs_heap_space_size_available_bytes",
    "nodejs_heap_space_size_total_bytes",
    "nodejs_heap_space_size_used_bytes",
    "process_cpu_seconds_total",
    "process_cpu_system_seconds_total",
    "process_cpu_user_seconds_total",
    "process_max_fds",
    "process_open_fds",
    "process_resident_memory_bytes",
    "process_start_time_seconds",
    "process_virtual_memory_bytes",
  ]);
  const value = (name: string): number => byName.get(name)!.values[0].value;
  const rss = Deno.memoryUsage().rss;
  assert.ok(Math.abs(value("process_resident_memory_bytes") - rss) < rss / 2);
  assert.ok(value("process_virtual_memory_bytes") >= value("process_resident_memory_bytes"));
  assert.ok(value("process_open_fds") > 0);
  assert.ok(value("process_max_fds") >= value("process_open_fds"));
  assert.ok(value("process_cpu_seconds_total") >= 0);
  const uptimeStart = (Date.now() - performance.now()) / 1000;
  assert.ok(Math.abs(value("process_start_time_seconds") - uptimeStart) < 5);
  const heap = Deno.memoryUsage();
  assert.ok(value("nodejs_heap_size_total_bytes") > 0);
  assert.ok(Math.abs(value("nodejs_heap_size_total_bytes") - heap.heapTotal) < heap.heapTotal / 2);
});

Deno.test("a series unseen for longer than the idle timeout is removed from every metric", async () => {
  const { metrics, clock } = withClock({ idleTimeoutMs: 60_000 });
  const java = sample(101, "/usr/bin/java", distinctVariables(0));
  const node = sample(202, "/usr/bin/node", distinctVariables(0));
  metrics.observeScan([java, node], 0.001);
  clock.now += 30_000;
  metrics.observeScan([java], 0.001);
  clock.now += 30_000;
  metrics.observeScan([java], 0.001);
  assert.deepEqual(await pidsShown(metrics), new Set(["101", "202"]), "kept at exactly 60 s");
  clock.now += 1;
  metrics.observeScan([java], 0.001);
  assert.deepEqual(await pidsShown(metrics), new Set(["101"]));
  const { body } = await metrics.render(null);
  assert.ok(!body.includes('pid="202"'));

  // A scrape removes idle series too, should the scan loop be stuck.
  clock.now += 60_001;
  await metrics.render(null);
  assert.deepEqual(await pidsShown(metrics), new Set());
});

Deno.test("a pid whose cmdline label changed keeps the old series until it goes idle", async () => {
  const { metrics, clock } = withClock({ idleTimeoutMs: 1_000 });
  metrics.observeScan([sample(5, "/bin/sh", distinctVariables(0))], 0.001);
  clock.now += 500;
  metrics.observeScan([sample(5, "/usr/bin/java", distinctVariables(0))], 0.001);
  const cmdlines = async () =>
    (await metricsByName(metrics)).get("memory_usage")!.values.map((s) => s.labels.cmdline);
  assert.deepEqual(await cmdlines(), ["/bin/sh", "/usr/bin/java"]);
  clock.now += 501;
  metrics.observeScan([sample(5, "/usr/bin/java", distinctVariables(0))], 0.001);
  assert.deepEqual(await cmdlines(), ["/usr/bin/java"]);
});

Deno.test("cmdlineLabel: first argument, its basename, or empty", async () => {
  const cases: [CmdlineLabel | undefined, string[]][] = [
    [undefined, ["/usr/lib/jvm/bin/java", "nginx:", ""]],
    ["first-arg", ["/usr/lib/jvm/bin/java", "nginx:", ""]],
    ["basename", ["java", "nginx:", ""]],
    ["none", ["", "", ""]],
  ];
  for (const [cmdlineLabel, expected] of cases) {
    const metrics = new Metrics({ version: "1", cmdlineLabel });
    metrics.observeScan([
      sample(1, "/usr/lib/jvm/bin/java", distinctVariables(0)),
      sample(2, "nginx:", distinctVariables(0)),
      sample(3, "", distinctVariables(0)),
    ], 0.001);
    const byName = await metricsByName(metrics);
    for (const name of ["memory_usage", "memory_pressure"]) {
      const shown = byName.get(name)!.values
        .filter((s) =>
          s.labels.severity_window === undefined || s.labels.severity_window === "avg10"
        )
        .filter((s) => s.labels.severity_level !== "full")
        .map((s) => s.labels.cmdline);
      assert.deepEqual(shown, expected, `${cmdlineLabel} ${name}`);
    }
  }
});

Deno.test("churn: 500 short-lived processes leave no series behind once idle", async () => {
  const { metrics, clock } = withClock({ idleTimeoutMs: 60_000 });
  metrics.observeScan([], 0.001);
  const baseline = await seriesCount(metrics);
  // One new process a second, each seen by a single scan.
  let peak = 0;
  for (let i = 0; i < 500; i++) {
    clock.now += 1_000;
    metrics.observeScan([sample(10_000 + i, `/bin/job-${i}`, distinctVariables(i))], 0.001);
    if (i % 50 === 0) peak = Math.max(peak, await seriesCount(metrics));
  }
  // Bounded by the processes seen within the idle timeout: 61 at one a second.
  assert.ok(peak <= baseline + 61 * SERIES_PER_PROCESS, `peak ${peak}`);
  assert.ok(await seriesCount(metrics) > baseline);
  clock.now += 60_001;
  metrics.observeScan([], 0.001);
  assert.equal(await seriesCount(metrics), baseline);
});

Deno.test("churn: 500 processes in one scan, then all gone", async () => {
  const { metrics, clock } = withClock({ idleTimeoutMs: 60_000 });
  metrics.observeScan([], 0.001);
  const baseline = await seriesCount(metrics);
  const many = Array.from(
    { length: 500 },
    (_, i) => sample(i + 2, `/bin/w${i}`, distinctVariables(i)),
  );
  metrics.observeScan(many, 0.001);
  assert.equal(await seriesCount(metrics), baseline + 500 * SERIES_PER_PROCESS);
  clock.now += 60_001;
  metrics.observeScan([], 0.001);
  assert.equal(await seriesCount(metrics), baseline);
});

Deno.test("OpenMetrics when the Accept header prefers it, Prometheus text otherwise", async () => {
  const metrics = new Metrics({ version: "1.2.3" });
  metrics.observeScan([sample(4242, "/usr/bin/java", realisticVariables())], 0.003);
  metrics.countSignal("critical", "SIGTERM", "sent");
  const openMetrics = "application/openmetrics-text; version=1.0.0; charset=utf-8";
  const text = "text/plain; version=0.0.4; charset=utf-8";
  const cases: [string | null, string][] = [
    [null, text],
    ["", text],
    ["*/*", text],
    ["text/plain", text],
    ["text/plain;version=0.0.4", text],
    ["application/json", text],
    ["application/openmetrics-text", openMetrics],
    ["Application/OpenMetrics-Text; version=1.0.0", openMetrics],
    // What Prometheus 2.x sends.
    [
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
      openMetrics,
    ],
    ["text/plain;q=0.9, application/openmetrics-text;q=0.5", text],
    ["application/openmetrics-text;q=0, text/plain;q=0.1", text],
    ["application/openmetrics-text;q=0", text],
  ];
  for (const [accept, expected] of cases) {
    const { contentType } = await metrics.render(accept);
    assert.equal(contentType, expected, `Accept: ${accept}`);
  }

  const { body } = await metrics.render("application/openmetrics-text");
  const om = lines(body);
  assert.ok(body.endsWith("\n# EOF\n"));
  assert.equal(om.filter((l) => l === "").length, 1, "only the final newline");
  for (
    const line of [
      "# TYPE oomhero_signals counter",
      'oomhero_signals_total{severity="critical",signal="SIGTERM",result="sent"} 1',
      "# HELP oomhero_scans Scans of the watched processes.",
      "# TYPE oomhero_scans counter",
      "oomhero_scans_total 1",
      "# TYPE process_cpu_seconds counter",
      "# TYPE memory_usage gauge",
      'memory_usage{pid="4242",cmdline="/usr/bin/java"} 87.5',
      "# TYPE oomhero_scan_duration_seconds histogram",
    ]
  ) {
    assert.ok(om.includes(line), `missing OpenMetrics line: ${line}`);
  }
  assert.ok(!om.some((l) => /^# (TYPE|HELP) \S+_total /.test(l)), "a family named *_total");

  // prom-client's own OpenMetrics mode renames counters in place; text must stay intact.
  const after = lines((await metrics.render(null)).body);
  assert.ok(after.includes("# TYPE oomhero_scans_total counter"));
  assert.ok(after.includes("oomhero_scans_total 1"));
});

Deno.test("concurrent scrapes in both formats each get a whole, well-formed body", async () => {
  const metrics = new Metrics({ version: "1.2.3" });
  metrics.observeScan([sample(1, "/bin/a", realisticVariables())], 0.001);
  const renders = await Promise.all(
    Array.from(
      { length: 50 },
      (_, i) => metrics.render(i % 2 ? "application/openmetrics-text" : "text/plain"),
    ),
  );
  for (const [i, { body }] of renders.entries()) {
    const openMetrics = i % 2 === 1;
    assert.equal(body.endsWith("# EOF\n"), openMetrics);
    assert.ok(
      lines(body).includes(
        openMetrics ? "# TYPE oomhero_scans counter" : "# TYPE oomhero_scans_total counter",
      ),
    );
  }
});

Deno.test("metrics live in their own registry, not prom-client's global one", async () => {
  const { register } = await import("prom-client");
  new Metrics({ version: "1.2.3" }).observeScan([], 0.001);
  assert.equal(register.getSingleMetric("oomhero_scans_total"), undefined);
});

Deno.test("a scrape shows what scans leave out only as read for it, never a stale figure", async () => {
  const { metrics } = withClock();
  // What a scan that reads only the memory files hands over: those figures, no others.
  const scanned = Object.fromEntries(
    variablesOf(metrics.scanNeeds).map((name) => [name, realisticVariables()[name]]),
  );
  metrics.observeScan([sample(7, "java", scanned)], 0.001, metrics.scanNeeds);
  let full: ProcessSample[] = [];
  metrics.beforeScrape(() => metrics.observeFigures(full));
  const line = (body: string, name: string) =>
    body.split("\n").find((l) => l.startsWith(`${name}{pid="7",`));
  // No figure read for the scrape (its read failed): the scan's figures, the rest absent.
  let body = (await metrics.render(null)).body;
  assert.equal(
    line(body, "memory_current_bytes"),
    'memory_current_bytes{pid="7",cmdline="java"} 939524096',
  );
  for (const name of ["oom_score", "memory_pressure", "memory_growth_rate_bytes_per_second"]) {
    assert.equal(line(body, name), undefined, name);
  }
  // The full read of a scrape: every figure, the trends fitted to the scans' history.
  const figures = realisticVariables();
  figures.memory_growth_rate = 4096;
  full = [sample(7, "java", figures), sample(8, "java", figures)];
  body = (await metrics.render(null)).body;
  assert.equal(line(body, "oom_score"), 'oom_score{pid="7",cmdline="java"} 1043');
  assert.match(
    body,
    /^memory_pressure\{pid="7",[^}]*severity_level="some",severity_window="avg10"\} 3.5$/m,
  );
  assert.equal(
    line(body, "memory_growth_rate_bytes_per_second"),
    'memory_growth_rate_bytes_per_second{pid="7",cmdline="java"} 4096',
  );
  // A process no scan has seen is not added by a scrape's read.
  assert.doesNotMatch(body, /pid="8"/);
  // Gone by the next scrape's read, seen by a scan since: the last scrape's figures are not shown.
  metrics.observeScan([sample(7, "java", scanned)], 0.001, metrics.scanNeeds);
  full = [];
  body = (await metrics.render(null)).body;
  assert.equal(line(body, "oom_score"), undefined);
  assert.equal(line(body, "memory_growth_rate_bytes_per_second"), undefined);
  assert.equal(
    line(body, "memory_max_bytes"),
    'memory_max_bytes{pid="7",cmdline="java"} 1073741824',
  );
});

Deno.test("oomhero_last_alert_timestamp_seconds names the process of each outcome, and goes with it", async () => {
  const { metrics, clock } = withClock({ idleTimeoutMs: 1_000 });
  const java = sample(101, "/usr/bin/java", distinctVariables(0));
  const node = sample(202, "/usr/bin/node", distinctVariables(0));
  const before = Date.now() / 1000;
  // As the monitor does: the alert comes before the scan that saw the process is observed.
  metrics.observeAlert(java, "critical", "sent");
  metrics.observeAlert(node, "warning", "withheld");
  metrics.observeScan([java, node], 0.001);
  const after = Date.now() / 1000;
  const { body } = await metrics.render(null);
  const lines = body.split("\n").filter((l) =>
    l.startsWith("oomhero_last_alert_timestamp_seconds")
  );
  assert.equal(lines.length, 2, body);
  const at = (line: string) => Number(line.slice(line.lastIndexOf(" ") + 1));
  assert.match(
    lines[0],
    /^oomhero_last_alert_timestamp_seconds\{pid="101",cmdline="\/usr\/bin\/java",severity="critical",outcome="sent"\} /,
  );
  assert.match(
    lines[1],
    /\{pid="202",cmdline="\/usr\/bin\/node",severity="warning",outcome="withheld"\} /,
  );
  for (const line of lines) assert.ok(at(line) >= before && at(line) <= after, line);
  // The same through the JSON form, and gone with the process's other series.
  const json = (await metricsByName(metrics)).get("oomhero_last_alert_timestamp_seconds")!;
  assert.deepEqual(json.values.map((s) => s.labels.outcome), ["sent", "withheld"]);
  clock.now += 1_001;
  metrics.observeScan([java], 0.001);
  const left = (await metrics.render(null)).body.split("\n")
    .filter((l) => l.startsWith("oomhero_last_alert_timestamp_seconds{"));
  assert.deepEqual(left.map((l) => /pid="(\d+)"/.exec(l)![1]), ["101"]);
});

Deno.test("cmdlineLabel: a kilobytes-long first argument is bounded as in webhook bodies", async () => {
  const title = `worker: ${"x".repeat(2000)}`;
  for (const cmdlineLabel of ["first-arg", "basename"] as const) {
    const metrics = new Metrics({ version: "1", cmdlineLabel });
    metrics.observeScan([sample(1, title, distinctVariables(0))], 0.001);
    const [series] = (await metricsByName(metrics)).get("memory_usage")!.values;
    const label = String(series.labels.cmdline);
    assert.ok(label.startsWith("worker: xxx"), label);
    assert.ok(label.length <= 220, `${cmdlineLabel}: ${label.length} characters`);
    assert.match(label, /chars\)$/);
  }
});
