/**
 * The soak: oomhero at a 50 ms loop interval, scraped every second, while thousands of
 * short-lived processes start and end in real memory cgroups and a few demo apps cross the
 * thresholds again and again. Every 10 s it records oomhero's resident memory and the number of
 * Prometheus series; it fails when memory keeps growing after the warm-up, when series outlive
 * the one-minute idle window, when an app is OOM-killed, or when oomhero dies.
 *
 * Usage: scripts/soak [--minutes N] [--processes N] [--cgroups N] [--apps N] [--csv FILE]
 * (or SOAK_MINUTES=N). Needs root and a writable memory cgroup controller.
 * @module
 */
import { parseArgs } from "node:util";
import { MemoryCgroup } from "../demo/memory_cgroup.ts";
import { APP_SIGNAL_FLAGS, appArgv, lines } from "../demo/scenario.ts";
import {
  delay,
  type LiveOomhero,
  metricValue,
  sampleLines,
  startOomhero,
  vmRssBytes,
} from "../tests/support/live_oomhero.ts";

const MIB = 1024 * 1024;
/** Every process name here starts with it, so oomhero watches only the soak's processes. */
const MARKER = "oomhero-soak";
/** How long a churned process lives: long enough for a 50 ms loop to see it several times. */
const CHURN_LIFE_S = 0.5;
/** How many processes a churner starts between two progress lines. */
const PROGRESS_EVERY = 25;
/** Metrics are idle after one minute; allow a scrape and a sampling interval on top. */
const IDLE_WINDOW_MS = 60_000 + 2_000;
/**
 * Fail when RSS at the end exceeds RSS at the end of the warm-up by more than this. Each is the
 * mean of 3 rows (30 s), so one garbage collection early or late does not decide.
 */
const RSS_GROWTH_LIMIT = 0.10;
/** Rows averaged for an RSS figure. */
const RSS_ROWS = 3;
/** A generous floor of the scan rate: a quarter of the 20 scans/s a 50 ms loop aims at. */
const MIN_SCANS_PER_SECOND = 5;

/** Options of one soak run. */
export interface SoakOptions {
  minutes: number;
  processes: number;
  cgroups: number;
  apps: number;
  csv: string | undefined;
}

/** One row of the table, recorded every 10 s. */
export interface SoakRow {
  seconds: number;
  rssMib: number;
  series: number;
  /** Distinct pids with series. */
  pids: number;
  /** The most pids that may have series now: live plus seen within the idle window. */
  pidBound: number;
  churned: number;
  scansPerSecond: number;
  signals: number;
}

/** The verdict of a run. */
export interface SoakResult {
  rows: SoakRow[];
  failures: string[];
}

/** Parses the command line; `SOAK_MINUTES` sets the default duration. */
export function parseSoakArgs(args: string[]): SoakOptions {
  const { values } = parseArgs({
    args,
    options: {
      minutes: { type: "string", default: Deno.env.get("SOAK_MINUTES") ?? "10" },
      processes: { type: "string" },
      cgroups: { type: "string", default: "4" },
      apps: { type: "string", default: "2" },
      csv: { type: "string" },
    },
  });
  const number = (flag: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${flag}: "${text}" is not >= ${min}`);
    return n;
  };
  const minutes = number("minutes", values.minutes, 0.5);
  return {
    minutes,
    // 20,000 in 10 minutes by default: the same rate at any duration.
    processes: Math.round(number("processes", values.processes ?? `${minutes * 2000}`, 1)),
    cgroups: Math.round(number("cgroups", values.cgroups, 1)),
    apps: Math.round(number("apps", values.apps, 0)),
    csv: values.csv,
  };
}

/**
 * A bash loop inside `cgroup` that starts `quota` processes evenly over `seconds`, each a
 * `sleep` named MARKER-churn, and prints its count every {@link PROGRESS_EVERY}.
 */
function churner(cgroup: MemoryCgroup, quota: number, seconds: number): Deno.ChildProcess {
  const script = `
    echo $$ > "$1/cgroup.procs" || exit 1
    quota=$2; span_us=$(( $3 * 1000000 )); n=0
    fifo=$(mktemp -u); mkfifo "$fifo"; exec 9<>"$fifo"; rm -f "$fifo"
    t0=\${EPOCHREALTIME/./}
    while (( n < quota )); do
      now=\${EPOCHREALTIME/./}
      if (( n < (now - t0) * quota / span_us + 1 )); then
        (exec -a ${MARKER}-churn sleep ${CHURN_LIFE_S}) &
        n=$((n + 1))
        (( n % ${PROGRESS_EVERY} == 0 )) && echo "$n"
      else
        read -t 0.01 -u 9
      fi
    done
    wait
    echo "$n"
  `;
  return new Deno.Command("bash", {
    args: ["-c", script, `${MARKER}-churner`, cgroup.dir, String(quota), String(seconds)],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

/** The demo app in `cgroup`, named MARKER-app, for `seconds`; counts the signals it handles. */
function app(cgroup: MemoryCgroup, seconds: number, handled: { count: number }): Deno.ChildProcess {
  const argv = appArgv(["--step-mib", "2", "--every-ms", "100", "--seconds", String(seconds)]);
  const child = new Deno.Command("bash", {
    args: [
      "-c",
      `echo $$ > "$0/cgroup.procs" && exec -a ${MARKER}-app "$@"`,
      cgroup.dir,
      ...argv,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
    env: { MALLOC_MMAP_THRESHOLD_: "131072" },
  }).spawn();
  (async () => {
    for await (const line of lines(child.stdout)) {
      if (/\] (warning|critical) signal:/.test(line)) handled.count++;
    }
  })();
  return child;
}

/** When each progress count of the churners was reached, to count spawns within a window. */
class SpawnLog {
  readonly #events: { at: number; count: number }[] = [];
  #total = 0;

  /** Reads a churner's progress lines into the log. */
  follow(child: Deno.ChildProcess): Promise<void> {
    let last = 0;
    return (async () => {
      for await (const line of lines(child.stdout)) {
        const n = Number(line);
        if (!Number.isInteger(n)) continue;
        this.#total += n - last;
        last = n;
        this.#events.push({ at: performance.now(), count: this.#total });
      }
    })();
  }

  /** Processes started so far. */
  get total(): number {
    return this.#total;
  }

  /**
   * Processes started since `at`, rounded up: the count at the last progress line before `at`
   * is subtracted, and a churner's processes since its last line are added.
   */
  since(at: number, churners: number): number {
    let before = 0;
    for (const e of this.#events) {
      if (e.at >= at) break;
      before = e.count;
    }
    return this.#total - before + churners * PROGRESS_EVERY;
  }
}

/** Distinct pids among the per-process series of an exposition. */
function seriesPids(exposition: string): number {
  const pids = new Set<string>();
  for (const line of sampleLines(exposition)) {
    const m = /^memory_usage\{pid="(\d+)"/.exec(line);
    if (m !== null) pids.add(m[1]);
  }
  return pids.size;
}

/** Runs the soak and returns its rows and failures; `report` receives each printed line. */
export async function soak(
  options: SoakOptions,
  report: (line: string) => void = console.log,
): Promise<SoakResult> {
  const seconds = Math.round(options.minutes * 60);
  // Memory grows until the idle window is full of series: judge growth only after that.
  const warmupS = Math.min(120, Math.max(seconds / 2, IDLE_WINDOW_MS / 1000 + 10));
  const failures: string[] = [];
  const cgroups: MemoryCgroup[] = [];
  const children: Deno.ChildProcess[] = [];
  let oomhero: LiveOomhero | undefined;
  const id = crypto.randomUUID().slice(0, 8);
  try {
    for (let i = 0; i < options.cgroups + options.apps; i++) {
      const limit = i < options.cgroups ? 256 * MIB : 192 * MIB;
      const cg = MemoryCgroup.create(`${MARKER}-${id}-${i}`, limit);
      if (typeof cg === "string") throw new Error(`the soak needs memory cgroups: ${cg}`);
      cgroups.push(cg);
    }
    oomhero = await startOomhero([
      "--warning=memory_usage > 70",
      "--critical=memory_usage > 85",
      ...APP_SIGNAL_FLAGS,
      "--loop-interval=50ms",
      "--cooldown-interval=1s",
      `--include=^${MARKER}`,
    ]);
    const rssStart = vmRssBytes(oomhero.pid);
    const spawns = new SpawnLog();
    const handled = { count: 0 };
    const followed: Promise<void>[] = [];
    const churnCgroups = cgroups.slice(0, options.cgroups);
    churnCgroups.forEach((cg, i) => {
      const quota = Math.floor(options.processes / options.cgroups) +
        (i < options.processes % options.cgroups ? 1 : 0);
      const child = churner(cg, quota, seconds);
      children.push(child);
      followed.push(spawns.follow(child));
    });
    for (const cg of cgroups.slice(options.cgroups)) {
      children.push(app(cg, seconds + 30, handled));
    }
    report(
      `soak: ${options.minutes} min, ${options.processes} processes in ${options.cgroups} ` +
        `cgroups, ${options.apps} apps; oomhero pid ${oomhero.pid}, RSS ${mib(rssStart)} MiB`,
    );
    const header = "seconds,rss_mib,series,pids,pid_bound,churned,scans_per_s,signals";
    report(header);
    const csv = options.csv === undefined ? undefined : [header];

    const rows: SoakRow[] = [];
    const begin = performance.now();
    let lastScans = 0;
    let lastAt = begin;
    let seriesMax = 0;
    for (let tick = 1; tick <= seconds; tick++) {
      await delay(Math.max(0, begin + tick * 1000 - performance.now()));
      const exposition = await oomhero.scrape().catch((e) => {
        failures.push(`scrape at ${tick}s failed: ${(e as Error).message}`);
        return "";
      });
      if (exposition === "") break;
      const series = sampleLines(exposition).length;
      seriesMax = Math.max(seriesMax, series);
      const now = performance.now();
      const pids = seriesPids(exposition);
      // Live churned processes are among those started within the window; the apps are live
      // throughout. The churners' own shells are not watched: their names do not start with
      // the marker.
      const pidBound = spawns.since(now - IDLE_WINDOW_MS, options.cgroups) + options.apps;
      if (pids > pidBound) {
        failures.push(`at ${tick}s ${pids} pids have series, more than the ${pidBound} bound`);
      }
      if (tick % 10 !== 0) continue;
      const scans = metricValue(exposition, "oomhero_scans_total");
      const row: SoakRow = {
        seconds: tick,
        rssMib: mib(vmRssBytes(oomhero.pid)),
        series,
        pids,
        pidBound,
        churned: spawns.total,
        scansPerSecond: Math.round((scans - lastScans) / ((now - lastAt) / 1000) * 10) / 10,
        signals: metricValue(exposition, "oomhero_signals_total", { result: "sent" }),
      };
      lastScans = scans;
      lastAt = now;
      rows.push(row);
      const line = [
        row.seconds,
        row.rssMib,
        row.series,
        row.pids,
        row.pidBound,
        row.churned,
        row.scansPerSecond,
        row.signals,
      ].join(",");
      report(line);
      csv?.push(line);
    }
    await Promise.all(followed);
    if (options.csv !== undefined && csv !== undefined) {
      Deno.writeTextFileSync(options.csv, csv.join("\n") + "\n");
    }

    const warm = rows.filter((r) => r.seconds <= warmupS).slice(-RSS_ROWS);
    const end = rows.filter((r) => r.seconds > warmupS).slice(-RSS_ROWS);
    const rssWarm = meanRss(warm);
    const rssEnd = meanRss(end);
    const rssPeak = Math.max(0, ...rows.filter((r) => r.seconds > warmupS).map((r) => r.rssMib));
    if (warm.length > 0 && end.length > 0 && rssEnd > rssWarm * (1 + RSS_GROWTH_LIMIT)) {
      failures.push(
        `RSS grew from ${rssWarm} MiB after the ${warmupS}s warm-up to ${rssEnd} MiB at the end ` +
          `(more than ${RSS_GROWTH_LIMIT * 100} %)`,
      );
    }
    const scanRate = rows.length > 0
      ? rows.reduce((s, r) => s + r.scansPerSecond, 0) / rows.length
      : 0;
    if (scanRate < MIN_SCANS_PER_SECOND) {
      failures.push(`${scanRate.toFixed(1)} scans/s, under ${MIN_SCANS_PER_SECOND}`);
    }
    const oomKills = cgroups.slice(options.cgroups).reduce((s, cg) => s + cg.oomKills(), 0);
    if (oomKills > 0) failures.push(`${oomKills} OOM kills among the apps`);
    if (options.apps > 0 && handled.count === 0) failures.push("no app handled a signal");
    const logged = oomhero.log.filter((l) => / (WARN|ERROR) /.test(l));
    const status = await oomhero.stop();
    oomhero = undefined;
    if (status.code !== 0) failures.push(`oomhero exited with ${status.code} ${status.signal}`);
    report(
      `summary: RSS start ${mib(rssStart)} MiB, after the ${warmupS}s warm-up ${rssWarm} MiB, ` +
        `end ${rssEnd} MiB, peak after the warm-up ${rssPeak} MiB; series max ` +
        `${seriesMax} (${seriesPerPid(rows)} per process); ${spawns.total} processes churned; ` +
        `${scanRate.toFixed(1)} scans/s; ${rows.at(-1)?.signals ?? 0} signals sent, ` +
        `${handled.count} handled by the apps, ${oomKills} OOM kills; ` +
        `${logged.length} warnings or errors logged`,
    );
    for (const line of logged.slice(0, 10)) report(`  ${line}`);
    return { rows, failures };
  } finally {
    for (const child of children) {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
    }
    await Promise.all(children.map((c) => c.status));
    await oomhero?.stop();
    for (const cg of cgroups) cg.remove();
  }
}

/** The mean RSS of `rows`, 0 for none. */
function meanRss(rows: SoakRow[]): number {
  return rows.length === 0 ? 0 : mib(rows.reduce((s, r) => s + r.rssMib, 0) * MIB / rows.length);
}

/** Series per process with series, from the last row. */
function seriesPerPid(rows: SoakRow[]): string {
  const last = rows.at(-1);
  return last === undefined || last.pids === 0 ? "-" : (last.series / last.pids).toFixed(1);
}

function mib(bytes: number): number {
  return Math.round(bytes / MIB * 10) / 10;
}

if (import.meta.main) {
  const result = await soak(parseSoakArgs(Deno.args));
  for (const failure of result.failures) console.log(`FAIL: ${failure}`);
  console.log(result.failures.length === 0 ? "soak passed" : "soak failed");
  Deno.exit(result.failures.length === 0 ? 0 : 1);
}
