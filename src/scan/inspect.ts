/**
 * `oomhero inspect`: every visible process with every variable and where its numbers came
 * from, to write and debug expressions against.
 * @module
 */
import { parseKubernetesIds } from "../kernel/kubernetes.ts";
import { Collector } from "../collect/collector.ts";
import { formatDuration } from "../base/duration.ts";
import { isWatched } from "./monitor.ts";
import type { Logger } from "../base/log.ts";
import { compactCmdline, shownCmdline } from "../base/shown_cmdline.ts";
import type { CgroupSource, ProcessSample } from "../collect/sample.ts";
import { type SignalHandling, signalHandling } from "../act/signals.ts";
import { NEVER_SECONDS } from "../collect/trend.ts";
import { TrendTracker } from "../collect/trend_tracker.ts";
import { VARIABLE_NAMES } from "../collect/variables.ts";

/** What to inspect and how to print it. */
export interface InspectOptions {
  /** Where procfs is mounted. */
  procfs: string;
  /** Where cgroupfs is mounted. */
  cgroupfs: string;
  /** `table` for a terminal, `json` for tools. */
  format: "table" | "json";
  /** Only these pids (all when empty). */
  pids: number[];
  /** Only processes whose full command line matches one of these (all when empty). */
  include: RegExp[];
  /** How long to scan before printing, to measure the trend variables; 0 for a single scan. */
  sampleMs: number;
  /** The monitor's warning signal, whose handling by each process is shown; SIGUSR1 by default. */
  warningSignal?: Deno.Signal;
  /** The monitor's critical signal, likewise; SIGUSR2 by default. */
  criticalSignal?: Deno.Signal;
}

/** How one process handles each configured signal, by name; `unreadable` for an unread status. */
type Handling = Record<string, SignalHandling | typeof UNREADABLE>;

/** One row: a sample and its handling of the configured signals. */
interface Row {
  sample: ProcessSample;
  signals: Handling;
}

/** Time between the scans of a sampling inspect: up to 9 scans in the default 2 s. */
const SAMPLE_INTERVAL_MS = 250;

/** The widest command line shown in the table; JSON has it bounded as logs have it. */
const CMDLINE_WIDTH = 40;

/** What a cell of an unreadable figure shows; JSON has null. */
const UNREADABLE = "unreadable";

/** A figure's cell: `format`ted, or {@link UNREADABLE} for NaN, never a number. */
function figure(n: number, format: (n: number) => string): string {
  return Number.isNaN(n) ? UNREADABLE : format(n);
}

const fixed2 = (n: number) => n.toFixed(2);

/** The table's columns: a header and how to render a sample's cell. */
const COLUMNS: readonly { header: string; numeric: boolean; cell: (s: ProcessSample) => string }[] =
  [
    { header: "PID", numeric: true, cell: (s) => String(s.pid) },
    {
      header: "CMDLINE",
      numeric: false,
      cell: (s) => printable(compactCmdline(s, CMDLINE_WIDTH)),
    },
    {
      header: "MEM_CURRENT",
      numeric: true,
      cell: (s) => figure(s.variables.memory_current, bytes),
    },
    { header: "MEM_MAX", numeric: true, cell: (s) => figure(s.variables.memory_max, bytes) },
    { header: "MEM_USAGE", numeric: true, cell: (s) => figure(s.variables.memory_usage, percent) },
    {
      header: "WS_USAGE",
      numeric: true,
      cell: (s) => figure(s.variables.memory_working_set_usage, percent),
    },
    {
      header: "MEM_GROWTH",
      numeric: true,
      cell: (s) => figure(s.variables.memory_growth_rate, rate),
    },
    {
      header: "TO_LIMIT",
      numeric: true,
      cell: (s) => figure(s.variables.memory_seconds_to_limit, seconds),
    },
    { header: "OOM_SCORE", numeric: true, cell: (s) => figure(s.variables.oom_score, String) },
    { header: "OOM_ADJ", numeric: true, cell: (s) => figure(s.variables.oom_score_adj, String) },
    {
      header: "MEM_PSI_SOME10",
      numeric: true,
      cell: (s) => figure(s.variables.memory_pressure_some_avg10, fixed2),
    },
    {
      header: "MEM_PSI_FULL10",
      numeric: true,
      cell: (s) => figure(s.variables.memory_pressure_full_avg10, fixed2),
    },
  ];

/** Control characters (a newline in an argument) would break the table's lines. */
function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, " ");
}

/** Bytes in IEC units with one decimal; 0 stays 0 so an absent limit reads as the variable does. */
function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value}B` : `${value.toFixed(1)}${units[unit]}`;
}

function percent(n: number): string {
  return `${n.toFixed(1)}%`;
}

/** A growth rate in IEC units per second, negative when memory shrinks. */
function rate(bytesPerSecond: number): string {
  return `${bytesPerSecond < 0 ? "-" : ""}${bytes(Math.abs(bytesPerSecond))}/s`;
}

/** Seconds to the limit; "-" for never (not growing, unlimited or not measured). */
function seconds(n: number): string {
  return n >= NEVER_SECONDS ? "-" : `${n.toFixed(1)}s`;
}

/**
 * One sample as a JSON object: the identity keys (with `pod_uid` and `container_id` for a
 * Kubernetes container seen from the host), then every expression variable.
 */
function toJson(
  { sample, signals }: Row,
): Record<string, string | number | string[] | Handling> {
  const out: Record<string, string | number | string[] | Handling> = {
    pid: sample.pid,
    cmdline: shownCmdline(sample),
    start_time: sample.startTime,
    cgroup: sample.source.path,
  };
  const ids = parseKubernetesIds(sample.source.path);
  if (ids) Object.assign(out, { pod_uid: ids.podUid, container_id: ids.containerId });
  out.memory_max_scope = sample.source.memoryMaxScope;
  // An unreadable figure is NaN, which JSON writes as null; `unreadable` says why.
  for (const name of VARIABLE_NAMES) out[name] = sample.variables[name];
  out.signals = signals;
  if (sample.unreadable !== undefined) out.unreadable = sample.unreadable;
  return out;
}

/** What `own` means, in inspect's words. */
const OWN_SCOPE_TEXT = "own: only the container's own cgroup and below can be seen from this " +
  "view; a smaller limit set above it (the pod's) would not show";

/** Where one group of processes got its numbers from, and what could not be read. */
function provenance(source: CgroupSource, samples: ProcessSample[]): string {
  const pids = samples.map((s) => s.pid);
  const readable = !Number.isNaN(samples[0].variables.memory_max);
  const pressure = source.pressureSource === ""
    ? `(${UNREADABLE})`
    : source.pressureNote === ""
    ? source.pressureSource
    : `${source.pressureSource} (system-wide: ${source.pressureNote})`;
  const lines = [
    `cgroup ${source.path || "(unknown)"} (v${source.version}, ${source.view} view): ` +
    `pid${pids.length === 1 ? "" : "s"} ${pids.join(", ")}`,
    `  memory dir       ${source.memoryDir || `(${UNREADABLE})`}`,
    `  limit dir        ${readable ? source.limitDir || "(none)" : `(${UNREADABLE})`}`,
    `  limit scope      ${
      source.memoryMaxScope === "own" ? OWN_SCOPE_TEXT : "effective: every limit above was seen"
    }`,
    `  pressure source  ${pressure}`,
  ];
  const ids = parseKubernetesIds(source.path);
  if (ids) lines.push(`  kubernetes       pod ${ids.podUid}, container ${ids.containerId}`);
  if (readable && source.limitDir === "") {
    lines.push(
      source.memoryMaxScope === "own"
        ? "  no memory limit of its own: memory_max and memory_usage read 0"
        : "  no memory limit: memory_max and memory_usage read 0",
    );
  }
  for (const s of samples) {
    for (const why of s.unreadable ?? []) lines.push(`  unreadable       pid ${s.pid}: ${why}`);
  }
  return lines.join("\n");
}

/** What the growth columns are based on: how long the trends were measured, or that they were not. */
function trendNote(sampleMs: number, scans: number): string {
  return sampleMs > 0
    ? `growth measured over ${formatDuration(sampleMs)} (${scans} scans); --sample sets how long`
    : "growth not measured (--sample 0: one scan): MEM_GROWTH reads 0 and TO_LIMIT never";
}

/** The SIGNALS cell: each configured signal without `SIG`, and its handling: `USR1:caught`. */
function signalsCell(signals: Handling): string {
  return Object.entries(signals).map(([name, how]) => `${name.slice(3)}:${how}`).join(" ");
}

/** What the SIGNALS column means for the monitor. */
const SIGNALS_NOTE = [
  "SIGNALS: how each process treats --warning-signal and --critical-signal: caught (a handler),",
  "  ignored (SIG_IGN), blocked (by its main thread, no handler), not_handled, or unreadable. The",
  "  monitor sends a signal only to processes that catch it, unless --signal-unhandled is given",
  "  or it is SIGTERM, SIGINT, SIGQUIT, SIGKILL, SIGSTOP or harmless (SIGCHLD, SIGURG, SIGWINCH,",
  "  SIGCONT)",
].join("\n");

function table(rows: Row[], note: string): string {
  if (rows.length === 0) return "no matching processes";
  const samples = rows.map((r) => r.sample);
  // The figures' columns, then how the process treats the configured signals.
  const cells = [
    [...COLUMNS.map((c) => c.header), "SIGNALS"],
    ...rows.map((r) => [...COLUMNS.map((c) => c.cell(r.sample)), signalsCell(r.signals)]),
  ];
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const lines = cells.map((row) =>
    row.map((cell, i) => COLUMNS[i]?.numeric ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))
      .join("  ").trimEnd()
  );
  // Processes of one cgroup share their provenance: one block per distinct source.
  const groups = new Map<string, { source: CgroupSource; samples: ProcessSample[] }>();
  for (const s of samples) {
    const key = JSON.stringify(s.source);
    const group = groups.get(key) ?? { source: s.source, samples: [] };
    group.samples.push(s);
    groups.set(key, group);
  }
  const blocks = [...groups.values()].map((g) => provenance(g.source, g.samples));
  return [lines.join("\n"), ...blocks, `${SIGNALS_NOTE}\n${note}`].join("\n\n");
}

/** One scan's samples `options` asks for, in pid order, and the asked-for pids not found. */
interface Selection {
  samples: ProcessSample[];
  missing: number[];
}

function select(collector: Collector, options: InspectOptions): Selection {
  const watched = (cmdline: string) => isWatched(cmdline, options.include, []);
  if (options.pids.length === 0) return { samples: collector.scan(watched), missing: [] };
  const samples: ProcessSample[] = [];
  const missing: number[] = [];
  for (const pid of [...new Set(options.pids)].sort((a, b) => a - b)) {
    const sample = collector.collect(pid);
    if (sample === undefined) missing.push(pid);
    else if (watched(sample.cmdline)) samples.push(sample);
  }
  return { samples, missing };
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `oomhero inspect` and returns the text to print, without a trailing newline. With
 * `sampleMs`, it scans every {@link SAMPLE_INTERVAL_MS} for that long and prints the last scan,
 * whose trend variables are measured over all of them; with 0, one scan and no trends.
 * Throws a `UsageError` when procfs or cgroupfs is not mounted where given.
 */
export async function inspect(options: InspectOptions, log: Logger): Promise<string> {
  const collector = new Collector({ procfs: options.procfs, cgroupfs: options.cgroupfs, log });
  let selection = select(collector, options);
  let scans = 1;
  let sampledMs = 0;
  // The window covers every scan, so the trends are fitted over all of them; one scan fits none
  // (they read "no trend").
  const trends = new TrendTracker({
    windowMs: options.sampleMs + SAMPLE_INTERVAL_MS,
    intervalMs: SAMPLE_INTERVAL_MS,
  });
  const start = performance.now();
  trends.update(selection.samples, start);
  if (options.sampleMs > 0) {
    log.info("sampling to measure the growth variables", {
      sample: formatDuration(options.sampleMs),
      interval: formatDuration(SAMPLE_INTERVAL_MS),
    });
    while (sampledMs < options.sampleMs) {
      await delay(Math.min(SAMPLE_INTERVAL_MS, options.sampleMs - sampledMs));
      const now = performance.now();
      selection = select(collector, options);
      trends.update(selection.samples, now);
      scans++;
      sampledMs = now - start;
    }
  }
  for (const pid of selection.missing) log.warn("no such process, or a kernel thread", { pid });
  const signals = [
    ...new Set([options.warningSignal ?? "SIGUSR1", options.criticalSignal ?? "SIGUSR2"]),
  ];
  // Read once, after the last scan: the masks are what the monitor would read before a send.
  const rows = selection.samples.map((sample) => ({
    sample,
    signals: handling(collector, sample, signals),
  }));
  if (options.format === "json") return JSON.stringify(rows.map(toJson), null, 2);
  return table(rows, trendNote(options.sampleMs, scans));
}

/** How `sample`'s process treats each of `signals`; an unreadable status joins `unreadable`. */
function handling(collector: Collector, sample: ProcessSample, signals: Deno.Signal[]): Handling {
  try {
    const masks = collector.readSignalMasks(sample.pid);
    return Object.fromEntries(signals.map((signal) => [signal, signalHandling(masks, signal)]));
  } catch (e) {
    sample.unreadable = [...sample.unreadable ?? [], (e as Error).message];
    return Object.fromEntries(signals.map((signal) => [signal, UNREADABLE]));
  }
}
