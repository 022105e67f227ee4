/**
 * The Prometheus metrics: the original tool's per-process gauges under their original names, a
 * few more per-process gauges, and metrics about oomhero itself.
 * Over 400 lines: every metric's name, help and labels in one registry, checked as one contract.
 * @module
 */
import {
  Counter,
  Gauge,
  Histogram,
  openMetricsContentType,
  prometheusContentType,
  Registry,
} from "./prom_client.ts";
import { shownFirstArg } from "../base/shown_cmdline.ts";
import { parseKubernetesIds } from "../kernel/kubernetes.ts";
import { EVERY_FIGURE, type Needs, variablesOf } from "../collect/needs.ts";
import type { ProcessSample } from "../collect/sample.ts";
import { pressureVariable } from "../collect/variables.ts";
import {
  escapeLabelValue,
  type FamilyLine,
  familyLine,
  type FamilySeries,
  type FamilySource,
  ProcessFamily,
} from "./process_family.ts";
import { registerDefaultMetrics } from "./default_metrics.ts";
import { PRESSURE_RESOURCES, PRESSURE_SEVERITIES, PRESSURE_WINDOWS } from "../kernel/pressure.ts";

/**
 * How the `cmdline` label is filled: the process's first argument (the original tool's
 * behaviour), its basename, or always "" (hides command lines from whoever reads the metrics).
 */
export type CmdlineLabel = "first-arg" | "basename" | "none";

const SIGNAL_RESULTS = ["sent", "failed", "dry_run"] as const;
/** The outcome of a signal, the `result` label of `oomhero_signals_total`. */
export type SignalResult = typeof SIGNAL_RESULTS[number];

/** The outcomes `oomhero_last_alert_timestamp_seconds` tells apart, in its slots' order. */
const ALERT_OUTCOMES = [...SIGNAL_RESULTS, "withheld"] as const;
/** An alert's outcome for one process: a signal result, or withheld (not caught). */
export type AlertOutcomeLabel = typeof ALERT_OUTCOMES[number];
const ALERT_SEVERITIES = ["warning", "critical"] as const;
/** The labels each slot adds after the process's, as the text exposition writes them. */
const ALERT_LABEL_SETS: readonly { severity: string; outcome: string }[] = ALERT_SEVERITIES
  .flatMap((severity) => ALERT_OUTCOMES.map((outcome) => ({ severity, outcome })));
const ALERT_LABEL_TEXTS: readonly string[] = ALERT_LABEL_SETS.map((l) =>
  `,severity="${l.severity}",outcome="${l.outcome}"`
);

/** Settings of {@linkcode Metrics}. */
export interface MetricsOptions {
  /** A (pid, cmdline) series unseen for longer than this is removed; default 60 000 (1 min). */
  idleTimeoutMs?: number;
  /** The clock for idle removal, in milliseconds; default `performance.now()` (monotonic). */
  now?: () => number;
  /** How the `cmdline` label is filled; default `first-arg`. */
  cmdlineLabel?: CmdlineLabel;
  /** oomhero's version, the `version` label of `oomhero_build_info`. */
  version: string;
}

/** A rendered scrape: the body and its Content-Type. */
export interface RenderedMetrics {
  /** The Content-Type header value. */
  contentType: string;
  /** The exposition text. */
  body: string;
}

/** The default idle timeout, the original tool's. */
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** Scan duration buckets, seconds: from a few processes (0.1 ms) to a loaded node (1 s). */
const SCAN_DURATION_BUCKETS = [
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
];

/**
 * Labels of the per-process gauges: the original tool's `pid` and `cmdline`, plus `pod_uid` and
 * `container_id` only on series whose cgroup path names a Kubernetes pod and container (the
 * pressure gauges add `severity_level` and `severity_window`).
 */
type ProcessLabels =
  & Record<"pid" | "cmdline", string>
  & Partial<Record<"pod_uid" | "container_id", string>>;

/** One (pid, cmdline) series set, the last sample a scan saw of it, and when. */
interface TrackedSeries {
  labels: ProcessLabels;
  /** The labels as the text exposition writes them, `pid="1",cmdline="java"`. */
  labelText: string;
  /** The value of each per-process series, in the order of `Metrics.#seriesVariables`. */
  values: Float64Array;
  lastSeen: number;
  /**
   * When each severity last ended in each outcome for this process (Unix seconds, NaN never),
   * slots in the order of `ALERT_LABEL_SETS`; only for processes ever alerted.
   */
  alerts?: Float64Array;
}

/** The labels a pressure series adds, in the order of a pressure family's 8 figures. */
type PressureLabels = { severity_level: string; severity_window: string };
const PRESSURE_LABEL_SETS: readonly PressureLabels[] = PRESSURE_SEVERITIES.flatMap((
  severity_level,
) => PRESSURE_WINDOWS.map((severity_window) => ({ severity_level, severity_window })));
/** The same as the text exposition writes them after the process's labels. */
const PRESSURE_LABEL_TEXTS: readonly string[] = PRESSURE_LABEL_SETS.map((l) =>
  `,severity_level="${l.severity_level}",severity_window="${l.severity_window}"`
);

/** Extra labels of a family's series: as objects (JSON) and as the text exposition writes them. */
interface ExtraLabels {
  sets: readonly Readonly<Record<string, string>>[];
  texts: readonly string[];
}
const PRESSURE_EXTRA: ExtraLabels = { sets: PRESSURE_LABEL_SETS, texts: PRESSURE_LABEL_TEXTS };
const ALERT_EXTRA: ExtraLabels = { sets: ALERT_LABEL_SETS, texts: ALERT_LABEL_TEXTS };

/** Where a per-process family's values are: which numbers of a process, from which slot on. */
interface FamilySlots {
  of: (tracked: TrackedSeries) => Float64Array | undefined;
  first: number;
  extra?: ExtraLabels;
}

/** The figures a scan read: every process has them. */
const figuresOf = (tracked: TrackedSeries): Float64Array => tracked.values;

/** `pid="1",cmdline="java"`: the labels in their order, values escaped. */
function labelText(labels: ProcessLabels): string {
  return Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
    .join(",");
}

/** Prometheus metrics of the watched processes and of oomhero, in a registry of their own. */
export class Metrics {
  /** The registry every metric is in (not prom-client's global one). */
  readonly registry: Registry = new Registry();
  /**
   * What every scan must read for the metrics: the memory figures, the history the growth
   * gauges are fitted to when scraped (memory_current's: no gauge shows the working set's
   * trend). The rest is read when scraped ({@link Metrics.beforeScrape}).
   */
  readonly scanNeeds: Readonly<Needs> = Object.freeze({
    oomScore: false,
    oomScoreAdj: false,
    memory: true,
    workingSet: false,
    pressure: false,
    trends: false,
    limitSource: false,
  });

  readonly #idleTimeoutMs: number;
  readonly #now: () => number;
  readonly #cmdlineLabel: CmdlineLabel;
  readonly #tracked = new Map<string, TrackedSeries>();
  /** The series a scan last saw of each pid. */
  readonly #lastOfPid = new Map<number, TrackedSeries>();
  /** The variable each per-process series shows: the gauges', then each pressure gauge's 8. */
  readonly #seriesVariables: readonly string[];
  /** Called before a scrape renders: reads the figures only the metrics need. */
  #beforeScrape: (() => void) | undefined;
  /** What the scans read, and the slots of #seriesVariables they fill and leave empty. */
  #scanSlots: { needs: Readonly<Needs>; filled: Int32Array; empty: Int32Array } | undefined;
  readonly #signals: Counter<"severity" | "signal" | "result">;
  readonly #scans: Counter;
  readonly #scanDuration: Histogram;
  readonly #processes: Gauge;
  readonly #errors: Counter<"reason">;
  readonly #withheld: Counter<"severity" | "signal" | "reason">;
  /** Registered once set: prom-client shows an unset gauge without labels as 0. */
  #memoryLimit: Gauge | undefined;

  constructor(options: MetricsOptions) {
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#now = options.now ?? (() => performance.now());
    this.#cmdlineLabel = options.cmdlineLabel ?? "first-arg";
    const registers = [this.registry];

    registerDefaultMetrics(this.registry);

    // The per-process families render from the tracked numbers when a scrape reads them: no
    // labelled series is kept between scrapes (prom-client's cost 175 B each, 31 per process).
    const variables: string[] = [];
    const processFamily = (name: string, help: string, variable: string) => {
      const index = variables.push(variable) - 1;
      new ProcessFamily(
        this.registry,
        name,
        help,
        this.#source(name, { of: figuresOf, first: index }),
      );
    };
    processFamily(
      "memory_usage",
      "Memory charged to the process's cgroup, percent of its limit (0 when unlimited).",
      "memory_usage",
    );
    processFamily(
      "oom_score",
      "The kernel's OOM score of the process, adjustment included.",
      "oom_score",
    );
    processFamily(
      "memory_current_bytes",
      "Memory charged to the process's cgroup.",
      "memory_current",
    );
    processFamily(
      "memory_max_bytes",
      "Smallest memory limit of the process's cgroup and its ancestors (0 when unlimited).",
      "memory_max",
    );
    processFamily(
      "memory_working_set_bytes",
      "Memory charged to the process's cgroup minus inactive page cache.",
      "memory_working_set",
    );
    processFamily(
      "memory_growth_rate_bytes_per_second",
      "Growth of the memory charged to the process's cgroup, least-squares slope over " +
        "--trend-window (0 until measured).",
      "memory_growth_rate",
    );
    processFamily(
      "memory_seconds_to_limit",
      "Seconds until the process's cgroup reaches its limit at the current growth rate " +
        "(1e9 when not growing, unlimited or not measured).",
      "memory_seconds_to_limit",
    );
    for (const resource of PRESSURE_RESOURCES) {
      const first = variables.length;
      for (const severity of PRESSURE_SEVERITIES) {
        for (const window of PRESSURE_WINDOWS) {
          variables.push(pressureVariable(resource, severity, window));
        }
      }
      new ProcessFamily(
        this.registry,
        `${resource}_pressure`,
        `Pressure stall information on ${resource} of the process's cgroup: ` +
          "percent of time stalled (avg windows) or microseconds stalled (total).",
        this.#source(`${resource}_pressure`, { of: figuresOf, first, extra: PRESSURE_EXTRA }),
      );
    }
    this.#seriesVariables = variables;
    new ProcessFamily(
      this.registry,
      "oomhero_last_alert_timestamp_seconds",
      "When oomhero last sent (or failed to send, dry-ran or withheld) each severity to the " +
        "process, Unix seconds; absent until it did. Names the pid behind oomhero_signals_total.",
      this.#source("oomhero_last_alert_timestamp_seconds", {
        of: (tracked) => tracked.alerts,
        first: 0,
        extra: ALERT_EXTRA,
      }),
    );

    this.#signals = new Counter({
      name: "oomhero_signals_total",
      help: "Signals oomhero sent, failed to send or would have sent (dry run).",
      labelNames: ["severity", "signal", "result"] as const,
      registers,
    });
    this.#scans = new Counter({
      name: "oomhero_scans_total",
      help: "Scans of the watched processes.",
      registers,
    });
    this.#scanDuration = new Histogram({
      name: "oomhero_scan_duration_seconds",
      help: "Time one scan took.",
      buckets: SCAN_DURATION_BUCKETS,
      registers,
    });
    this.#processes = new Gauge({
      name: "oomhero_processes",
      help: "Processes watched in the last scan.",
      registers,
    });
    this.#errors = new Counter({
      name: "oomhero_errors_total",
      help: "Errors by reason.",
      labelNames: ["reason"] as const,
      registers,
    });
    this.#withheld = new Counter({
      name: "oomhero_signals_withheld_total",
      help: "Signals not sent because the process does not catch them and their default action " +
        "would end it; reason: not_handled, ignored, blocked or unreadable (its status file).",
      labelNames: ["severity", "signal", "reason"] as const,
      registers,
    });
    new Gauge({
      name: "oomhero_build_info",
      help: "Always 1; the labels tell the oomhero and Deno versions.",
      labelNames: ["version", "deno"] as const,
      registers,
    }).set({ version: options.version, deno: Deno.version.deno }, 1);
  }

  /**
   * Records one scan: every sample's figures of those read (`read`, the scan's needs; every
   * figure when not given), the scan's duration, and drops idle series.
   */
  observeScan(
    samples: readonly ProcessSample[],
    durationSeconds: number,
    read: Readonly<Needs> = EVERY_FIGURE,
  ): void {
    const now = this.#now();
    const slots = this.#slotsOf(read).filled;
    const names = this.#seriesVariables;
    for (const sample of samples) {
      const tracked = this.#trackedOf(sample, now);
      tracked.lastSeen = now;
      // Numbers only, so that a scan's samples are not kept alive until the next scrape. A
      // missing or unreadable variable (NaN) leaves its series out, rather than the previous
      // scan's value or 0.
      const vars = sample.variables;
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i];
        tracked.values[slot] = vars[names[slot]] ?? NaN;
      }
    }
    this.#scans.inc();
    this.#scanDuration.observe(durationSeconds);
    this.#processes.set(samples.length);
    this.#removeIdle(now);
  }

  /** The slots of the per-process numbers that samples read with `needs` fill, and the rest. */
  #slotsOf(needs: Readonly<Needs>): { filled: Int32Array; empty: Int32Array } {
    if (this.#scanSlots?.needs !== needs) {
      const read = new Set(variablesOf(needs));
      const filled: number[] = [];
      const empty: number[] = [];
      this.#seriesVariables.forEach((name, slot) => (read.has(name) ? filled : empty).push(slot));
      this.#scanSlots = { needs, filled: Int32Array.from(filled), empty: Int32Array.from(empty) };
    }
    return this.#scanSlots;
  }

  /** The series set of the sample's pid and cmdline, added when new. */
  #trackedOf(sample: ProcessSample, now: number): TrackedSeries {
    const cmdline = this.#cmdline(sample);
    // The last series of the pid, found without building its key: the common case.
    let tracked = this.#lastOfPid.get(sample.pid);
    if (tracked?.labels.cmdline !== cmdline) {
      const labels: ProcessLabels = { pid: String(sample.pid), cmdline };
      const key = `${labels.pid} ${cmdline}`;
      tracked = this.#tracked.get(key);
      if (tracked === undefined) {
        const values = new Float64Array(this.#seriesVariables.length).fill(NaN);
        const ids = parseKubernetesIds(sample.source.path);
        if (ids) Object.assign(labels, { pod_uid: ids.podUid, container_id: ids.containerId });
        tracked = { labels, labelText: labelText(labels), values, lastSeen: now };
        this.#tracked.set(key, tracked);
      }
      this.#lastOfPid.set(sample.pid, tracked);
    }
    return tracked;
  }

  /**
   * Records that `severity` just ended in `outcome` for the sample's process, so alerts can name
   * its pid and command (`oomhero_signals_total` counts without them).
   */
  observeAlert(
    sample: ProcessSample,
    severity: "warning" | "critical",
    outcome: AlertOutcomeLabel,
  ): void {
    const tracked = this.#trackedOf(sample, this.#now());
    tracked.alerts ??= new Float64Array(ALERT_LABEL_SETS.length).fill(NaN);
    const slot = ALERT_SEVERITIES.indexOf(severity) * ALERT_OUTCOMES.length +
      ALERT_OUTCOMES.indexOf(outcome);
    tracked.alerts[slot] = Date.now() / 1000;
  }

  /** Counts a signal sent, failed or skipped by a dry run. */
  countSignal(severity: "warning" | "critical", signal: string, result: SignalResult): void {
    this.#signals.inc({ severity, signal, result });
  }

  /** Counts a signal withheld from a process that does not handle it. */
  countWithheld(severity: "warning" | "critical", signal: string, reason: string): void {
    this.#withheld.inc({ severity, signal, reason });
  }

  /** Sets oomhero's own memory limit: bytes, 0 for none; NaN (unreadable) leaves it absent. */
  setMemoryLimit(bytes: number): void {
    if (Number.isNaN(bytes)) return;
    this.#memoryLimit ??= new Gauge({
      name: "oomhero_memory_limit_bytes",
      help: "The memory limit oomhero itself runs under, from its own cgroup (0 when unlimited; " +
        "absent when unreadable).",
      registers: [this.registry],
    });
    this.#memoryLimit.set(bytes);
  }

  /** Counts an error, e.g. `scan` or `signal`. */
  countError(reason: string): void {
    this.#errors.inc({ reason });
  }

  /**
   * Renders every metric: OpenMetrics when `accept` (an Accept header) prefers
   * application/openmetrics-text, the Prometheus text format otherwise.
   */
  async render(accept: string | null): Promise<RenderedMetrics> {
    // What the scans do not read is shown only as read for this scrape: never a stale figure.
    const empty = this.#scanSlots?.empty;
    if (empty !== undefined && empty.length > 0) {
      for (const tracked of this.#tracked.values()) {
        for (let i = 0; i < empty.length; i++) tracked.values[empty[i]] = NaN;
      }
    }
    this.#beforeScrape?.();
    // Also here, so series go idle on time even when the scan loop is stuck.
    this.#removeIdle(this.#now());
    // Always rendered as Prometheus text: prom-client's OpenMetrics mode renames counters in
    // place, which would corrupt a concurrent Prometheus-format scrape.
    const text = await this.registry.metrics();
    return prefersOpenMetrics(accept)
      ? { contentType: openMetricsContentType, body: toOpenMetrics(text) }
      : { contentType: prometheusContentType, body: text };
  }

  #cmdline(sample: ProcessSample): string {
    switch (this.#cmdlineLabel) {
      // Bounded as in webhook bodies: a program that rewrites its title can make it kilobytes.
      case "first-arg":
        return shownFirstArg(sample);
      case "basename":
        return shownFirstArg({
          cmdline: "",
          firstArg: sample.firstArg.slice(sample.firstArg.lastIndexOf("/") + 1),
        });
      case "none":
        return "";
    }
  }

  /**
   * Has `refresh` called before every scrape renders, so it can read the figures that only the
   * metrics show (and pass them to {@link Metrics.observeFigures}).
   */
  beforeScrape(refresh: () => void): void {
    this.#beforeScrape = refresh;
  }

  /**
   * Updates the figures of the tracked series from samples read for a scrape (every figure, the
   * trends fitted to the scans' history), without counting a scan or marking anything seen: a
   * process no scan saw is not added.
   */
  observeFigures(samples: readonly ProcessSample[]): void {
    for (const sample of samples) {
      const tracked = this.#tracked.get(`${sample.pid} ${this.#cmdline(sample)}`);
      if (tracked === undefined) continue;
      const names = this.#seriesVariables;
      for (let i = 0; i < names.length; i++) tracked.values[i] = sample.variables[names[i]] ?? NaN;
    }
  }

  /**
   * How one per-process family is built when scraped: slot `first` on of every tracked process's
   * numbers (`of`), one series per label set of `extra` (one without extra labels when none). An
   * unreadable figure or an alert that never happened (NaN) is left out: absent, never a made-up 0.
   */
  #source(name: string, slots: FamilySlots): FamilySource {
    return {
      series: () => {
        const out: FamilySeries[] = [];
        this.#each(slots, (tracked, i, value) => {
          const extra = slots.extra?.sets[i];
          out.push({
            labels: extra === undefined ? tracked.labels : { ...tracked.labels, ...extra },
            value,
          });
        });
        return out;
      },
      lines: () => this.#lines(name, slots),
    };
  }

  /**
   * The text lines of a family, one at a time in one reused object: at 5,000 processes a scrape
   * has 155,000, and an array of them alongside the text would pass a 64 MiB heap.
   */
  *#lines(name: string, slots: FamilySlots): Generator<FamilyLine> {
    const line = familyLine("", 0);
    const count = slots.extra?.texts.length ?? 1;
    for (const tracked of this.#tracked.values()) {
      const numbers = slots.of(tracked);
      if (numbers === undefined) continue;
      for (let i = 0; i < count; i++) {
        const value = numbers[slots.first + i];
        if (Number.isNaN(value)) continue;
        line.metricName = `${name}{${tracked.labelText}${slots.extra?.texts[i] ?? ""}}`;
        line.value = value;
        yield line;
      }
    }
  }

  /** Calls `visit` with every present value of a family and the index of its extra labels. */
  #each(
    slots: FamilySlots,
    visit: (tracked: TrackedSeries, extra: number, value: number) => void,
  ): void {
    const count = slots.extra?.sets.length ?? 1;
    for (const tracked of this.#tracked.values()) {
      const numbers = slots.of(tracked);
      if (numbers === undefined) continue;
      for (let i = 0; i < count; i++) {
        const value = numbers[slots.first + i];
        if (!Number.isNaN(value)) visit(tracked, i, value);
      }
    }
  }

  /** Forgets the series unseen for longer than the idle timeout. */
  #removeIdle(now: number): void {
    // forEach, not `for…of` over the entries: that made a pair a series every scan.
    this.#tracked.forEach((series, key) => {
      if (now - series.lastSeen <= this.#idleTimeoutMs) return;
      this.#tracked.delete(key);
      const pid = Number(series.labels.pid);
      if (this.#lastOfPid.get(pid) === series) this.#lastOfPid.delete(pid);
    });
  }
}

/**
 * Whether an Accept header ranks application/openmetrics-text (any version) at least as high as
 * the Prometheus text format. No header, or one that does not name OpenMetrics, means text.
 */
function prefersOpenMetrics(accept: string | null): boolean {
  if (accept === null) return false;
  let openMetrics = 0;
  let text = 0;
  for (const range of accept.split(",")) {
    const [type, ...params] = range.split(";").map((s) => s.trim().toLowerCase());
    const q = params.map((p) => /^q=([0-9.]+)$/.exec(p)).find((m) => m !== null);
    const weight = q ? Number(q[1]) : 1;
    if (type === "application/openmetrics-text") openMetrics = Math.max(openMetrics, weight);
    else if (type === "text/plain" || type === "text/*" || type === "*/*") {
      text = Math.max(text, weight);
    }
  }
  return openMetrics > 0 && openMetrics >= text;
}

/**
 * Turns prom-client's Prometheus text into OpenMetrics 1.0, as its OpenMetrics mode would: a
 * counter family is named without `_total` (its samples keep it; every counter here has it), no
 * blank lines between families, and a closing `# EOF`.
 */
function toOpenMetrics(text: string): string {
  const families = text.trimEnd().split("\n\n").map((family) => {
    const type = /^# TYPE (\S+) counter$/m.exec(family);
    if (type === null || !type[1].endsWith("_total")) return family;
    const name = type[1];
    const base = name.slice(0, -"_total".length);
    return family
      .replace(`# HELP ${name} `, `# HELP ${base} `)
      .replace(`# TYPE ${name} `, `# TYPE ${base} `);
  });
  return `${families.join("\n")}\n# EOF\n`;
}
