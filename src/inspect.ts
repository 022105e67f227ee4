/**
 * `oomhero inspect`: every visible process with every variable and where its numbers came
 * from, to write and debug expressions against.
 * @module
 */
import { Collector } from "./collector.ts";
import type { Logger } from "./log.ts";
import type { CgroupSource, ProcessSample } from "./sample.ts";
import { VARIABLE_NAMES } from "./variables.ts";

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
}

/** The widest command line shown in the table; JSON has it whole. */
const CMDLINE_WIDTH = 40;

/** The table's columns: a header and how to render a sample's cell. */
const COLUMNS: readonly { header: string; numeric: boolean; cell: (s: ProcessSample) => string }[] =
  [
    { header: "PID", numeric: true, cell: (s) => String(s.pid) },
    { header: "CMDLINE", numeric: false, cell: (s) => truncate(printable(s.cmdline)) },
    { header: "MEM_CURRENT", numeric: true, cell: (s) => bytes(s.variables.memory_current) },
    { header: "MEM_MAX", numeric: true, cell: (s) => bytes(s.variables.memory_max) },
    { header: "MEM_USAGE", numeric: true, cell: (s) => percent(s.variables.memory_usage) },
    {
      header: "WS_USAGE",
      numeric: true,
      cell: (s) => percent(s.variables.memory_working_set_usage),
    },
    { header: "OOM_SCORE", numeric: true, cell: (s) => String(s.variables.oom_score) },
    { header: "OOM_ADJ", numeric: true, cell: (s) => String(s.variables.oom_score_adj) },
    {
      header: "MEM_PSI_SOME10",
      numeric: true,
      cell: (s) => s.variables.memory_pressure_some_avg10.toFixed(2),
    },
    {
      header: "MEM_PSI_FULL10",
      numeric: true,
      cell: (s) => s.variables.memory_pressure_full_avg10.toFixed(2),
    },
  ];

/** Control characters (a newline in an argument) would break the table's lines. */
function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, " ");
}

function truncate(text: string): string {
  return text.length <= CMDLINE_WIDTH ? text : `${text.slice(0, CMDLINE_WIDTH - 1)}…`;
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

/** One sample as a JSON object: the identity keys, then every expression variable. */
function toJson(sample: ProcessSample): Record<string, string | number> {
  const out: Record<string, string | number> = {
    pid: sample.pid,
    cmdline: sample.cmdline,
    start_time: sample.startTime,
    cgroup: sample.source.path,
  };
  for (const name of VARIABLE_NAMES) out[name] = sample.variables[name];
  return out;
}

/** Where one group of processes got its numbers from. */
function provenance(source: CgroupSource, pids: number[]): string {
  const lines = [
    `cgroup ${source.path || "(unknown)"} (v${source.version}, ${source.view} view): ` +
    `pid${pids.length === 1 ? "" : "s"} ${pids.join(", ")}`,
    `  memory dir       ${source.memoryDir || "(not found)"}`,
    `  limit dir        ${source.limitDir || "(none)"}`,
    `  pressure source  ${source.pressureSource}`,
  ];
  if (source.limitDir === "") {
    lines.push("  no memory limit: memory_max and memory_usage read 0");
  }
  return lines.join("\n");
}

function table(samples: ProcessSample[]): string {
  if (samples.length === 0) return "no matching processes";
  const rows = [
    COLUMNS.map((c) => c.header),
    ...samples.map((s) => COLUMNS.map((c) => c.cell(s))),
  ];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((row) =>
    row.map((cell, i) => COLUMNS[i].numeric ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))
      .join("  ").trimEnd()
  );
  // Processes of one cgroup share their provenance: one block per distinct source.
  const groups = new Map<string, { source: CgroupSource; pids: number[] }>();
  for (const s of samples) {
    const key = JSON.stringify(s.source);
    const group = groups.get(key) ?? { source: s.source, pids: [] };
    group.pids.push(s.pid);
    groups.set(key, group);
  }
  const blocks = [...groups.values()].map((g) => provenance(g.source, g.pids));
  return [lines.join("\n"), ...blocks].join("\n\n");
}

/** The samples `options` asks for, in pid order. */
function select(options: InspectOptions, log: Logger): ProcessSample[] {
  const collector = new Collector({ procfs: options.procfs, cgroupfs: options.cgroupfs, log });
  let samples: ProcessSample[];
  if (options.pids.length === 0) {
    samples = collector.scan();
  } else {
    samples = [];
    for (const pid of [...new Set(options.pids)].sort((a, b) => a - b)) {
      const sample = collector.collect(pid);
      if (sample === undefined) log.warn("no such process, or a kernel thread", { pid });
      else samples.push(sample);
    }
  }
  const { include } = options;
  return samples.filter((s) => include.length === 0 || include.some((r) => r.test(s.cmdline)));
}

/**
 * Runs `oomhero inspect` and returns the text to print, without a trailing newline.
 * Throws a `UsageError` when procfs or cgroupfs is not mounted where given.
 */
export function inspect(options: InspectOptions, log: Logger): string {
  const samples = select(options, log);
  if (options.format === "json") return JSON.stringify(samples.map(toJson), null, 2);
  return table(samples);
}
