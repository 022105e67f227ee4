/**
 * The Grafana dashboard, typed: `monitoring/generate.ts` writes it to monitoring/dashboard.json.
 * It uses a data source variable (no hard-coded data source UID), and namespace, pod and
 * container variables over the target labels the PodMonitors and scrape-config.yaml attach. The
 * per-pod panels read the recording rules of monitoring/rules.yaml.
 * @module
 */

/** The data source every panel and variable uses: the `datasource` variable. */
const DATASOURCE = { type: "prometheus", uid: "${datasource}" } as const;

/** The selector of per-target series (every oomhero metric). */
const TARGET = 'namespace=~"$namespace", pod=~"$pod", container=~"$container"';
/** The selector of the per-pod recording rules, which keep namespace and pod only. */
const POD = 'namespace=~"$namespace", pod=~"$pod"';
/** Legend of a per-process series. */
const PROCESS_LEGEND = "{{pod}} {{pid}} {{cmdline}}";

/** One query of a panel. */
export interface PanelTarget {
  refId: string;
  expr: string;
  legendFormat: string;
  datasource: typeof DATASOURCE;
}

/** Where a panel sits on Grafana's 24-column grid. */
export interface GridPos {
  h: number;
  w: number;
  x: number;
  y: number;
}

/** A time-series panel, or a row heading. */
export interface Panel {
  id: number;
  type: "timeseries" | "row";
  title: string;
  gridPos: GridPos;
  description?: string;
  datasource?: typeof DATASOURCE;
  targets?: PanelTarget[];
  fieldConfig?: { defaults: { unit: string; min?: number }; overrides: never[] };
  options?: {
    legend: { displayMode: "list"; placement: "bottom"; showLegend: true };
    tooltip: { mode: "multi"; sort: "desc" };
  };
  collapsed?: false;
  panels?: never[];
}

/** A template variable. */
export interface Variable {
  name: string;
  label: string;
  type: "datasource" | "query";
  query: string | { query: string; refId: string };
  definition?: string;
  datasource?: typeof DATASOURCE;
  includeAll?: boolean;
  multi?: boolean;
  allValue?: string;
  refresh?: 1 | 2;
  sort?: 1;
  current: Record<string, never>;
}

/** The dashboard model, as much of it as this dashboard sets. */
export interface Dashboard {
  title: string;
  uid: string;
  description: string;
  tags: string[];
  schemaVersion: number;
  version: number;
  editable: boolean;
  graphTooltip: 1;
  time: { from: string; to: string };
  refresh: string;
  templating: { list: Variable[] };
  annotations: { list: never[] };
  panels: Panel[];
}

/** What a time-series panel shows. */
interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  targets: { expr: string; legend: string }[];
}

/** The panels the README's picture shows (monitoring/render_png.ts), by title. */
export const MAIN_PANELS: readonly string[] = [
  "Memory against limit",
  "Seconds to limit",
  "Signals in the last 10 minutes",
  "Scan duration, 99th percentile",
];

/** The rows of the dashboard and their panels, two panels abreast. */
const ROWS: readonly { title: string; panels: PanelSpec[] }[] = [
  {
    title: "Overview, per pod",
    panels: [
      {
        title: "Highest memory use per pod",
        description: "The watched process nearest its limit in each pod: memory_usage, % of limit.",
        unit: "percent",
        targets: [{
          expr: `namespace_pod:memory_usage:max{${POD}}`,
          legend: "{{namespace}}/{{pod}}",
        }],
      },
      {
        title: "Shortest time to limit per pod",
        description: "memory_seconds_to_limit of the fastest-growing process in each pod; " +
          "pods not heading for their limit are left out.",
        unit: "s",
        targets: [{
          expr: `namespace_pod:memory_seconds_to_limit:min{${POD}} < 1e9`,
          legend: "{{namespace}}/{{pod}}",
        }],
      },
    ],
  },
  {
    title: "Watched processes",
    panels: [
      {
        title: "Memory against limit",
        description: "Memory charged to each process's cgroup, its working set (without " +
          "inactive page cache, as the kubelet counts it) and the effective limit.",
        unit: "bytes",
        targets: [
          { expr: `memory_current_bytes{${TARGET}}`, legend: `${PROCESS_LEGEND} charged` },
          { expr: `memory_working_set_bytes{${TARGET}}`, legend: `${PROCESS_LEGEND} working set` },
          { expr: `memory_max_bytes{${TARGET}} > 0`, legend: `${PROCESS_LEGEND} limit` },
        ],
      },
      {
        title: "Memory use, % of limit",
        description: "memory_usage: what --warning and --critical usually compare.",
        unit: "percent",
        targets: [{ expr: `memory_usage{${TARGET}}`, legend: PROCESS_LEGEND }],
      },
      {
        title: "Growth rate",
        description: "memory_growth_rate: least-squares slope of the cgroup's charge over " +
          "--trend-window.",
        unit: "Bps",
        targets: [{
          expr: `memory_growth_rate_bytes_per_second{${TARGET}}`,
          legend: PROCESS_LEGEND,
        }],
      },
      {
        title: "Seconds to limit",
        description: "memory_seconds_to_limit at the current growth rate; processes not " +
          "growing (1e9) are left out.",
        unit: "s",
        targets: [{ expr: `memory_seconds_to_limit{${TARGET}} < 1e9`, legend: PROCESS_LEGEND }],
      },
      {
        title: "Pressure stall, avg10",
        description: "Share of the last 10 s that the cgroup's tasks stalled on memory, I/O or " +
          "CPU (PSI; some: at least one task, full: all of them).",
        unit: "percent",
        targets: [{
          expr: `{__name__=~"memory_pressure|io_pressure|cpu_pressure", ` +
            `severity_window="avg10", ${TARGET}}`,
          legend: `{{__name__}} {{severity_level}} ${PROCESS_LEGEND}`,
        }],
      },
      {
        title: "OOM score",
        description: "The kernel's OOM score, adjustment included: its pick when memory runs out.",
        unit: "none",
        targets: [{ expr: `oom_score{${TARGET}}`, legend: PROCESS_LEGEND }],
      },
    ],
  },
  {
    title: "Signals",
    panels: [
      {
        title: "Signals in the last 10 minutes",
        description: "Signals (and webhooks) sent, failed or dry-run, and signals withheld " +
          "from processes that do not handle them, per severity.",
        unit: "none",
        targets: [{
          expr: `sum by (namespace, pod, severity, signal, result) ` +
            `(oomhero:signals:increase10m{${TARGET}}) or label_replace(sum by ` +
            `(namespace, pod, severity, signal) (oomhero:signals_withheld:increase10m{${TARGET}}), ` +
            `"result", "withheld", "", "")`,
          legend: "{{pod}} {{severity}} {{signal}} {{result}}",
        }],
      },
      {
        title: "Watched processes",
        description: "Processes oomhero watched in its last scan.",
        unit: "none",
        targets: [{ expr: `oomhero_processes{${TARGET}}`, legend: "{{pod}}" }],
      },
    ],
  },
  {
    title: "oomhero itself",
    panels: [
      {
        title: "Scan duration, 99th percentile",
        description: "How long one scan of the watched processes takes.",
        unit: "s",
        targets: [{
          expr: `namespace_pod:oomhero_scan_duration_seconds:p99{${POD}}`,
          legend: "{{namespace}}/{{pod}}",
        }],
      },
      {
        title: "Scans per second",
        description: "Should be 1 / --loop-interval; lower means scans run late.",
        unit: "none",
        targets: [{
          expr: `namespace_pod:oomhero_scans:rate5m{${POD}}`,
          legend: "{{namespace}}/{{pod}}",
        }],
      },
      {
        title: "oomhero memory",
        description: "oomhero's resident memory and its own memory limit.",
        unit: "bytes",
        targets: [{
          expr: `label_replace(process_resident_memory_bytes{${TARGET}} and on (job, instance) ` +
            `oomhero_build_info, "figure", "resident", "", "") or label_replace(` +
            `oomhero_memory_limit_bytes{${TARGET}} > 0, "figure", "limit", "", "")`,
          legend: "{{pod}} {{figure}}",
        }],
      },
      {
        title: "oomhero CPU",
        description: "oomhero's CPU time, share of one core.",
        unit: "percentunit",
        targets: [{
          expr: `rate(process_cpu_seconds_total{${TARGET}}[$__rate_interval]) ` +
            `and on (job, instance) oomhero_build_info`,
          legend: "{{pod}}",
        }],
      },
    ],
  },
];

/** A query variable over one target label of `oomhero_build_info`, narrowed by `filter`. */
function labelVariable(name: string, label: string, filter: string): Variable {
  const query = `label_values(oomhero_build_info${filter}, ${name})`;
  return {
    name,
    label,
    type: "query",
    datasource: DATASOURCE,
    query: { query, refId: `${name}-variable` },
    definition: query,
    includeAll: true,
    multi: true,
    allValue: ".*",
    refresh: 2,
    sort: 1,
    current: {},
  };
}

/** Lays the rows out: a row heading, then its panels two abreast, 8 units high. */
function layout(): Panel[] {
  const panels: Panel[] = [];
  let y = 0;
  for (const row of ROWS) {
    panels.push({
      id: panels.length + 1,
      type: "row",
      title: row.title,
      gridPos: { h: 1, w: 24, x: 0, y },
      collapsed: false,
      panels: [],
    });
    y += 1;
    row.panels.forEach((spec, i) => {
      panels.push({
        id: panels.length + 1,
        type: "timeseries",
        title: spec.title,
        description: spec.description,
        gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: y + Math.floor(i / 2) * 8 },
        datasource: DATASOURCE,
        targets: spec.targets.map(({ expr, legend }, t) => ({
          refId: String.fromCharCode(65 + t),
          expr,
          legendFormat: legend,
          datasource: DATASOURCE,
        })),
        fieldConfig: { defaults: { unit: spec.unit }, overrides: [] },
        options: {
          legend: { displayMode: "list", placement: "bottom", showLegend: true },
          tooltip: { mode: "multi", sort: "desc" },
        },
      });
    });
    y += Math.ceil(row.panels.length / 2) * 8;
  }
  return panels;
}

/** The dashboard. */
export function dashboard(): Dashboard {
  return {
    title: "oomhero",
    uid: "oomhero",
    description: "Memory of the processes oomhero watches, the signals it sends, and oomhero " +
      "itself. From github.com/oomhero/oomhero monitoring/.",
    tags: ["oomhero", "memory"],
    // Grafana 12's schema.
    schemaVersion: 41,
    version: 1,
    editable: true,
    graphTooltip: 1,
    time: { from: "now-1h", to: "now" },
    refresh: "30s",
    templating: {
      list: [
        {
          name: "datasource",
          label: "Data source",
          type: "datasource",
          query: "prometheus",
          current: {},
        },
        labelVariable("namespace", "Namespace", ""),
        labelVariable("pod", "Pod", '{namespace=~"$namespace"}'),
        labelVariable("container", "Container", '{namespace=~"$namespace", pod=~"$pod"}'),
      ],
    },
    annotations: { list: [] },
    panels: layout(),
  };
}
