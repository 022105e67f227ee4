/**
 * Footprint side by side: steady-state RSS (VmRSS, peak VmHWM) and CPU time of oomhero at a
 * 100 ms loop with metrics on and scraped once a second, against the runtime's floor (a Deno
 * process that only sleeps, same flags), the syscall floor (bench/floor.c reading the same files
 * at the same interval) and the tools users would pick instead: earlyoom and nohang, polling
 * at their closest to 100 ms, acting on nothing. Each watches 10, then 1,000 `sleep`s in 50
 * memory cgroups, in a PID namespace of its own. Figures come from /proc/<pid>/status and stat.
 *
 *   scripts/bench-footprint [--seconds 120] [--warmup 10] [--counts 10,1000] [--only a,b]
 *                           [--deno PATH]… [--env SET]… [--v8-flags F] [--rounds N]
 *                           [--limit none,64,48 | --find-limit 32-128] [--read-ahead KB]
 *                           [--syscalls SECONDS]
 *
 * Subjects: oomhero, deno-idle, deno-tick (deno-idle woken every 100 ms), deno-reads
 * (bench/reads.ts: woken every 100 ms, it reads the files a scan reads and does nothing else, the
 * least any Deno build of oomhero can cost), floor-c, earlyoom, nohang. Variants, measured one
 * after another in the same run: `--deno PATH` (repeatable) runs the Deno subjects with each Deno
 * binary; `--env SET` (repeatable) with each environment, SET being `production`
 * (scripts/runtime-env), `none` or `KEY=VALUE,KEY=VALUE`; `--v8-flags F` (repeatable; `production`
 * for those of scripts/runtime-flags) with the V8 flags F instead; `--variant
 * LABEL:deno=PATH;env=SET;v8=F` (repeatable; also `main=PATH`, another tree's src/main.ts) adds
 * one variant whole, e.g. the runtime and code before a change; `--rounds N`
 * repeats the whole list N times, interleaved.
 *
 * `--limit` runs oomhero as a fresh container runs it: one process (the launcher execs Deno),
 * started from a private copy of the Deno binary written with `dd oflag=direct`, so that every
 * page of the runtime it touches is read from disk and charged to it, inside a memory cgroup of
 * its own with that limit (MiB; `none` is unlimited, in a cgroup too). It reports the scrapes
 * answered within 1 s, the scans counted against the loop's cadence, CPU against the same build
 * unlimited, major page faults, OOM kills and the cgroup's failcnt. `--find-limit LO-HI` bisects
 * (in steps of `--step`, default 4 MiB) for the smallest healthy limit. `--syscalls SECONDS`
 * counts oomhero's and the floor's system calls per watched process per scan with `strace -c`.
 * `--read-ahead KB` puts the Deno copies on a loop-mounted disk of our own with that read-ahead
 * instead of /var/tmp's (bench/container.ts, ColdDisk: what a limit costs depends on it).
 *
 * Needs root, a writable cgroupfs, `unshare`, `cc`, `strace` for --syscalls, and
 * `apt-get install -y earlyoom nohang` (scripts/bench-footprint installs what is missing).
 * @module
 */
import { benchArgs } from "./args.ts";
import { RUNTIME_ENV, runtimeArgv, type RuntimeOptions } from "../scripts/runtime_flags.ts";
import { ColdDisk, Container } from "./container.ts";
import { floorBinary } from "./floor.ts";
import { runtimeFlags, sampleValue, scrape, startOomhero } from "./oomhero_subject.ts";
import { enterPidNamespace } from "./pid_namespace.ts";
import { SleepingProcesses } from "./real_processes.ts";

const values = benchArgs(import.meta.url, {
  seconds: { type: "string", default: "120" },
  warmup: { type: "string", default: "10" },
  counts: { type: "string", default: "10,1000" },
  only: { type: "string", default: "oomhero,deno-idle,floor-c,earlyoom,nohang" },
  "v8-flags": { type: "string", multiple: true },
  deno: { type: "string", multiple: true },
  env: { type: "string", multiple: true },
  rounds: { type: "string", default: "1" },
  variant: { type: "string", multiple: true },
  limit: { type: "string" },
  "find-limit": { type: "string" },
  step: { type: "string", default: "4" },
  syscalls: { type: "string" },
  "read-ahead": { type: "string" },
});
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const COUNTS = values.counts.split(",").map(Number);
const ONLY = values.only.split(",");
const ROUNDS = Number(values.rounds);
const LOOP_MS = 100;
/** Clock ticks per second of /proc/<pid>/stat's utime and stime: USER_HZ, 100 on Linux. */
const CLK_TCK = Number(new TextDecoder().decode(
  new Deno.Command("getconf", { args: ["CLK_TCK"] }).outputSync().stdout,
));
/** earlyoom polls every 100 ms only within 600 MiB of its threshold: put it 500 MiB away. */
const EARLYOOM_HEADROOM_KIB = 500 * 1024;
/** A scrape not answered within this is lost, as with a 1 s scrape interval. */
const SCRAPE_TIMEOUT_MS = 1000;
/** Health under a limit: what goal 1 of issue 13 asks. */
const HEALTHY = { cadence: 0.95, cpuRatio: 1.25 };

/** One way of running the Deno subjects. */
interface Variant {
  /** How the rows name it; empty for the production runtime alone. */
  label: string;
  runtime: RuntimeOptions;
  /** Another tree's src/main.ts (default: this tree's). */
  main?: string;
}

/** The runtime variants asked for: every --deno with every --env and every --v8-flags. */
function variants(): Variant[] {
  const denos = values.deno ?? [Deno.execPath()];
  const envs = values.env ?? ["production"];
  const v8s: (string | undefined)[] = values["v8-flags"] ?? [undefined];
  const out: Variant[] = [];
  for (const deno of denos) {
    for (const env of envs) {
      for (const v8 of v8s) {
        const parts = [];
        if (denos.length > 1) parts.push(`deno ${denoVersion(deno)}`);
        if (envs.length > 1) parts.push(`env ${env}`);
        if (v8s.length > 1 || v8 !== undefined) parts.push(`v8 ${v8 ?? "production"}`);
        out.push({
          label: parts.join(", "),
          runtime: { deno, env: envSet(env), flags: runtimeFlags(v8) },
        });
      }
    }
  }
  for (const spec of values.variant ?? []) out.push(namedVariant(spec));
  return out;
}

/**
 * A variant given whole, `LABEL:deno=PATH;env=SET;v8=FLAGS;main=PATH` (each part optional): how
 * a run sets the tree's old runtime, or an old tree's src/main.ts, beside the new one.
 */
function namedVariant(spec: string): Variant {
  const colon = spec.indexOf(":");
  const label = spec.slice(0, colon);
  const parts = new Map(
    spec.slice(colon + 1).split(";").filter(Boolean).map((p) => {
      const eq = p.indexOf("=");
      return [p.slice(0, eq), p.slice(eq + 1)] as const;
    }),
  );
  for (const key of parts.keys()) {
    if (!["deno", "env", "v8", "main"].includes(key)) {
      throw new Error(`--variant: unknown part ${key}`);
    }
  }
  return {
    label,
    runtime: {
      deno: parts.get("deno") ?? Deno.execPath(),
      env: envSet(parts.get("env") ?? "production"),
      flags: runtimeFlags(parts.get("v8")),
    },
    main: parts.get("main"),
  };
}

function envSet(spec: string): readonly string[] {
  if (spec === "production") return RUNTIME_ENV;
  if (spec === "none") return [];
  return spec.split(",");
}

function denoVersion(deno: string): string {
  const out = new Deno.Command(deno, { args: ["--version"] }).outputSync();
  return new TextDecoder().decode(out.stdout).split(" ")[1];
}

await enterPidNamespace();

/** A running subject: its process, and the metrics port to scrape, if it has one. */
interface Running {
  child: Deno.ChildProcess;
  port?: number;
}

const IDLE = new URL("idle.ts", import.meta.url).pathname;
const READS = new URL("reads.ts", import.meta.url).pathname;
/** How to start each subject. */
const SUBJECTS: Record<string, (v: Variant) => Running | Promise<Running>> = {
  "oomhero": (v) => startOomhero(`${LOOP_MS}ms`, { runtime: v.runtime, main: v.main }),
  "deno-idle": (v) => spawn(runtimeArgv(IDLE, [], v.runtime)),
  "deno-tick": (v) => spawn(runtimeArgv(IDLE, [String(LOOP_MS)], v.runtime)),
  "deno-reads": (v) => spawn(runtimeArgv(READS, [String(LOOP_MS)], v.runtime)),
  "floor-c": () => spawn([floorBinary(), "loop", String(LOOP_MS)]),
  "earlyoom": () => spawn(["earlyoom", "--dryrun", "-m", earlyoomPercent()]),
  "nohang": () => spawn(["nohang", "--monitor", "-c", nohangConfig()]),
};
/** Subjects that run on Deno and so once per variant. */
const ON_DENO = new Set(["oomhero", "deno-idle", "deno-tick", "deno-reads"]);

function spawn([bin, ...args]: string[]): Running {
  return {
    child: new Deno.Command(bin, { args, stdin: "null", stdout: "null", stderr: "null" }).spawn(),
  };
}

/** The -m percentage that puts earlyoom's threshold just under the memory available now. */
function earlyoomPercent(): string {
  const info = Deno.readTextFileSync("/proc/meminfo");
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(info)![1]);
  const percent = (kib("MemAvailable") - EARLYOOM_HEADROOM_KIB) / kib("MemTotal") * 100;
  return percent.toFixed(2);
}

/**
 * The packaged nohang.conf with a fixed 100 ms poll and PSI checks on. nohang 0.2 has no dry-run
 * switch; its default thresholds (5 % of memory available) are far from what runs here.
 */
function nohangConfig(): string {
  const path = Deno.makeTempFileSync({ prefix: "oomhero-bench-nohang-", suffix: ".conf" });
  const text = Deno.readTextFileSync("/etc/nohang/nohang.conf")
    .replace(/^max_sleep = .*$/m, "max_sleep = 0.1")
    .replace(/^min_sleep = .*$/m, "min_sleep = 0.1")
    .replace(/^psi_checking_enabled = .*$/m, "psi_checking_enabled = True");
  Deno.writeTextFileSync(path, text);
  return path;
}

/** VmRSS and VmHWM of `pid`, MiB. */
function memory(pid: number): { rss: number; hwm: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)![1]);
  return { rss: kib("VmRSS") / 1024, hwm: kib("VmHWM") / 1024 };
}

/** utime + stime in seconds and major faults of `pid` (fields 12, 14 and 15 of its stat). */
function cpuAndFaults(pid: number): { cpu: number; majflt: number } {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { cpu: (Number(fields[11]) + Number(fields[12])) / CLK_TCK, majflt: Number(fields[9]) };
}

/** What the once-a-second scrapes of a window saw. */
interface Scrapes {
  answered: number;
  /** V8 heap in use at the last answered scrape (nodejs_heap_size_used_bytes), MiB. */
  heapMib?: number;
  /** oomhero_scans_total at the first and last answered scrape, and when. */
  first?: { at: number; scans: number };
  last?: { at: number; scans: number };
}

/**
 * Runs `seconds` of once-a-second ticks, scraping the subject's metrics on each (a scrape not
 * answered within 1 s is lost, and the next tick waits for its slot).
 */
async function ticks(running: Running, seconds: number, each?: () => void): Promise<Scrapes> {
  const seen: Scrapes = { answered: 0 };
  const start = performance.now();
  for (let s = 1; s <= seconds; s++) {
    if (running.port !== undefined) {
      try {
        const text = await scrape(running.port, SCRAPE_TIMEOUT_MS);
        const point = { at: performance.now(), scans: sampleValue(text, "oomhero_scans_total") };
        seen.answered++;
        seen.heapMib = sampleValue(text, "nodejs_heap_size_used_bytes") / 2 ** 20;
        seen.first ??= point;
        seen.last = point;
      } catch { /* lost: counted by what was answered */ }
    }
    each?.();
    await new Promise((r) => setTimeout(r, Math.max(0, start + s * 1000 - performance.now())));
  }
  return seen;
}

/** The scans between the first and last answered scrape, as a share of the loop's cadence. */
function cadence(seen: Scrapes): { scans: number; expected: number } {
  if (seen.first === undefined || seen.last === undefined || seen.last === seen.first) {
    return { scans: 0, expected: SECONDS * 1000 / LOOP_MS };
  }
  return {
    scans: seen.last.scans - seen.first.scans,
    expected: Math.round((seen.last.at - seen.first.at) / LOOP_MS),
  };
}

/** One subject's figures over the window. */
interface Figures {
  subject: string;
  sleeps: number;
  rssMib: number;
  rssMedianMib: number;
  hwmMib: number;
  cpuSeconds: number;
  cpuPercent: number;
  /** oomhero's V8 heap in use at the end of the window. */
  heapMib?: number;
  /** oomhero's scans in the window (oomhero_scans_total read patiently before and after). */
  scans?: number;
  /** With --limit: the cgroup's limit (MiB, Infinity for none) and what it saw. */
  limit?: LimitFigures;
}

/** What a run under a memory limit adds. */
interface LimitFigures {
  limitMib: number;
  scrapesAnswered: number;
  scans: number;
  expectedScans: number;
  majorFaults: number;
  oomKills: number;
  failcnt: number;
  peakMib: number;
  /** memory.stat of the cgroup at the end: rss, cache, mapped_file, MiB. */
  stat: Record<string, number>;
  /** Why it is unhealthy regardless of CPU, if it is; "" otherwise. */
  failure: string;
}

/** A row's name: the subject (`oomhero ≤ 48 MiB` counts as oomhero), and its variant's label. */
function subjectName(name: string, v: Variant): string {
  return v.label === "" || !ON_DENO.has(name.split(" ")[0]) ? name : `${name} (${v.label})`;
}

async function measure(name: string, v: Variant, sleeps: number): Promise<Figures> {
  const running = await SUBJECTS[name](v);
  const pid = running.child.pid;
  try {
    await ticks(running, WARMUP);
    // Patient scrapes outside the window count its scans: a slow scan loop does less work.
    const scans = async () =>
      running.port === undefined
        ? NaN
        : sampleValue(await scrape(running.port, 60_000), "oomhero_scans_total");
    const scansBefore = await scans();
    const start = cpuAndFaults(pid).cpu;
    const rss: number[] = [];
    const seen = await ticks(running, SECONDS, () => rss.push(memory(pid).rss));
    const cpu = cpuAndFaults(pid).cpu - start;
    const scansDone = await scans() - scansBefore;
    const end = memory(pid);
    // No scrape answered within 1 s (thousands of processes): ask once more, patiently.
    if (running.port !== undefined && seen.heapMib === undefined) {
      const text = await scrape(running.port, 60_000);
      seen.heapMib = sampleValue(text, "nodejs_heap_size_used_bytes") / 2 ** 20;
    }
    rss.sort((a, b) => a - b);
    return {
      subject: subjectName(name, v),
      sleeps,
      rssMib: end.rss,
      rssMedianMib: rss[rss.length >> 1],
      hwmMib: end.hwm,
      cpuSeconds: cpu,
      cpuPercent: cpu / SECONDS * 100,
      heapMib: seen.heapMib,
      scans: Number.isNaN(scansDone) ? undefined : scansDone,
    };
  } finally {
    running.child.kill("SIGTERM");
    await running.child.status;
  }
}

/** oomhero run as a fresh container runs it (bench/container.ts), under `limitMib`. */
async function measureLimited(v: Variant, sleeps: number, limitMib: number): Promise<Figures> {
  const container = await Container.start(limitMib, `${LOOP_MS}ms`, v.runtime, {
    main: v.main,
    disk,
  });
  const subject = subjectName(limitMib === Infinity ? "oomhero" : `oomhero ≤ ${limitMib} MiB`, v);
  let failure = container.failure;
  const rss: number[] = [];
  let seen: Scrapes = { answered: 0 };
  let start = { cpu: NaN, majflt: NaN };
  let end = { cpu: NaN, majflt: NaN };
  let mem = { rss: NaN, hwm: NaN };
  try {
    const running = container.subject;
    if (running !== undefined) {
      const pid = running.child.pid;
      try {
        await ticks(running, WARMUP);
        start = cpuAndFaults(pid);
        seen = await ticks(running, SECONDS, () => rss.push(memory(pid).rss));
        end = cpuAndFaults(pid);
        mem = memory(pid);
      } catch (e) {
        failure = `oomhero exited: ${e}`;
      }
    }
    rss.sort((a, b) => a - b);
    const cpu = end.cpu - start.cpu;
    const cg = container.figures();
    const { scans, expected } = cadence(seen);
    return {
      subject,
      sleeps,
      rssMib: mem.rss,
      rssMedianMib: rss[rss.length >> 1] ?? NaN,
      hwmMib: mem.hwm,
      cpuSeconds: cpu,
      cpuPercent: cpu / SECONDS * 100,
      heapMib: seen.heapMib,
      limit: {
        limitMib,
        scrapesAnswered: seen.answered,
        scans,
        expectedScans: expected,
        majorFaults: end.majflt - start.majflt,
        oomKills: cg.oomKills,
        failcnt: cg.failcnt,
        peakMib: cg.peakMib,
        stat: { rss: cg.rssMib, cache: cg.cacheMib, mapped_file: cg.mappedFileMib },
        failure,
      },
    };
  } finally {
    await container.stop();
  }
}

/**
 * Whether a limited run is healthy against the same build unlimited (goal 1 of issue 13): no
 * failure, every scrape answered, no OOM kill, CPU at most 1.25× and scans on cadence at least
 * 95 % of the unlimited run's share (on a busy machine the unlimited run itself falls a little
 * short of the loop's cadence, and the limit must not be blamed for that).
 */
function healthy(r: Figures, unlimited: Figures): boolean {
  const l = r.limit!;
  const u = unlimited.limit!;
  return l.failure === "" && l.scrapesAnswered === SECONDS && l.oomKills === 0 &&
    l.scans / l.expectedScans >= HEALTHY.cadence * Math.min(1, u.scans / u.expectedScans) &&
    r.cpuSeconds <= HEALTHY.cpuRatio * unlimited.cpuSeconds;
}

/** The limits to try: --limit's list, or a bisection of --find-limit's range. */
async function limitRows(v: Variant, sleeps: number): Promise<Figures[]> {
  const unlimited = await measureLimited(v, sleeps, Infinity);
  const rows = [unlimited];
  const report = (r: Figures) => {
    rows.push(r);
    console.error(JSON.stringify({ ...r, healthy: healthy(r, unlimited) }));
  };
  console.error(JSON.stringify(unlimited));
  if (values.limit !== undefined) {
    for (const l of values.limit.split(",").filter((l) => l !== "none").map(Number)) {
      report(await measureLimited(v, sleeps, l));
    }
  }
  if (values["find-limit"] !== undefined) {
    const step = Number(values.step);
    const [lo, hi] = values["find-limit"].split("-").map(Number);
    // Invariant: `bad` is unhealthy (or below the range), `good` healthy; bisect on the grid.
    let bad = lo - step;
    let good: number | undefined;
    const probe = async (l: number) => {
      const r = await measureLimited(v, sleeps, l);
      report(r);
      return healthy(r, unlimited);
    };
    if (await probe(hi)) {
      let known = hi;
      while (known - bad > step) {
        const mid: number = bad + Math.ceil((known - bad) / step / 2) * step;
        if (await probe(mid)) known = mid;
        else bad = mid;
      }
      good = known;
    }
    console.error(
      good === undefined
        ? `smallest healthy limit: none up to ${hi} MiB`
        : `smallest healthy limit: ${good} MiB (${good - step} MiB is not, or below the range)`,
    );
    summary.push(
      `smallest healthy limit with ${sleeps} processes${v.label ? ` (${v.label})` : ""}: ` +
        (good === undefined ? `none up to ${hi} MiB` : `${good} MiB (step ${step} MiB)`),
    );
  }
  return rows;
}

/** System calls per watched process per scan, counted with `strace -c -f`. */
interface Syscalls {
  subject: string;
  sleeps: number;
  scans: number;
  total: number;
  opens: number;
  reads: number;
  /** The calls that make up most of the total, per process per scan. */
  top: string;
}

/** Runs `strace -c -f` on `argv` or on `pid` until `until` resolves; its per-call counts. */
async function strace(target: string[], until: () => Promise<void>): Promise<Map<string, number>> {
  const out = Deno.makeTempFileSync({ prefix: "oomhero-bench-strace-" });
  const child = new Deno.Command("strace", {
    args: ["-c", "-f", "-U", "name,calls", "-o", out, ...target],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await until();
  } finally {
    if (target[0] === "-p") child.kill("SIGINT");
    await child.status;
  }
  const counts = new Map<string, number>();
  for (const line of Deno.readTextFileSync(out).split("\n")) {
    const m = /^\s*(\w+)\s+(\d+)\s*$/.exec(line);
    if (m !== null && m[1] !== "total") counts.set(m[1], Number(m[2]));
  }
  Deno.removeSync(out);
  return counts;
}

/** The processes every tool sees in the namespace: the sleeps, its bash (pid 1) and this harness. */
const visible = (sleeps: number) => sleeps + 2;

function syscallRow(subject: string, sleeps: number, scans: number, c: Map<string, number>) {
  const per = (n: number) => n / scans / visible(sleeps);
  const sum = (names: string[]) => names.reduce((s, n) => s + (c.get(n) ?? 0), 0);
  const total = [...c.values()].reduce((a, b) => a + b, 0);
  const top = [...c.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5)
    .map(([n, k]) => `${n} ${per(k).toFixed(2)}`).join(", ");
  return {
    subject,
    sleeps,
    scans,
    total: per(total),
    opens: per(sum(["openat", "open"])),
    reads: per(sum(["read", "pread64", "readv", "preadv", "preadv2"])),
    top,
  };
}

async function syscalls(v: Variant, sleeps: number, seconds: number): Promise<Syscalls[]> {
  const rows: Syscalls[] = [];
  const subject = await startOomhero(`${LOOP_MS}ms`, { runtime: v.runtime, main: v.main });
  try {
    await ticks(subject, WARMUP);
    // Scans counted outside the traced window, with scrapes that may take as long as they need
    // (strace slows a scrape of 1,000+ processes past any 1 s timeout).
    const scansNow = async () =>
      sampleValue(await scrape(subject.port, 60_000), "oomhero_scans_total");
    const before = await scansNow();
    const counts = await strace(
      ["-p", String(subject.child.pid)],
      () => new Promise((r) => setTimeout(r, seconds * 1000)),
    );
    const scans = await scansNow() - before;
    rows.push(syscallRow(subjectName("oomhero", v), sleeps, scans, counts));
  } finally {
    subject.child.kill("SIGTERM");
    await subject.child.status;
  }
  // The floor's `scan N` mode does exactly N + 1 scans (one warm-up) and exits.
  const floorScans = seconds * 1000 / LOOP_MS;
  const floor = await strace([floorBinary(), "scan", String(floorScans)], () => Promise.resolve());
  rows.push(syscallRow("floor-c", sleeps, floorScans + 1, floor));
  return rows;
}

const results: Figures[] = [];
const calls: Syscalls[] = [];
const summary: string[] = [];
const runs = variants();
const limited = values.limit !== undefined || values["find-limit"] !== undefined;
/** With --read-ahead: the disk the Deno copies go on, its read-ahead set (bench/container.ts). */
const disk = values["read-ahead"] === undefined ? undefined : ColdDisk.create(
  Number(values["read-ahead"]),
);
try {
  for (const count of COUNTS) {
    const sleepers = await SleepingProcesses.start(count);
    try {
      for (let round = 0; round < ROUNDS; round++) {
        for (const name of ONLY) {
          if (!(name in SUBJECTS)) throw new Error(`unknown subject ${name}`);
          if (name === "oomhero" && limited) {
            for (const v of runs) results.push(...await limitRows(v, count));
            continue;
          }
          for (const v of ON_DENO.has(name) ? runs : runs.slice(0, 1)) {
            const figures = await measure(name, v, count);
            results.push(figures);
            console.error(JSON.stringify(figures));
          }
        }
      }
      if (values.syscalls !== undefined) {
        for (const v of runs) calls.push(...await syscalls(v, count, Number(values.syscalls)));
      }
    } finally {
      await sleepers.stop();
    }
  }
} finally {
  disk?.remove();
}

const mib = (n: number) => Number.isNaN(n) ? "–" : `${n.toFixed(1)} MiB`;
console.log(
  `| subject | sleeps | VmRSS | median VmRSS | VmHWM | CPU over ${SECONDS} s | % of one core ` +
    `| RSS above deno-idle | V8 heap used | scans (of ${SECONDS * 1000 / LOOP_MS}) |`,
);
console.log("| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: |");
for (const r of results) {
  const idleName = r.subject.replace(/^[\w-]+( ≤ \d+ MiB)?/, "deno-idle");
  const idle = results.find((i) => i.subject === idleName && i.sleeps === r.sleeps);
  const versus = idle === undefined ? "" : mib(r.rssMib - idle.rssMib);
  console.log(
    `| ${r.subject} | ${r.sleeps} | ${mib(r.rssMib)} | ${mib(r.rssMedianMib)} | ` +
      `${mib(r.hwmMib)} | ${r.cpuSeconds.toFixed(2)} s | ${
        r.cpuPercent.toFixed(2)
      } % | ${versus} | ${r.heapMib === undefined ? "" : mib(r.heapMib)} | ${r.scans ?? ""} |`,
  );
}

if (limited) {
  console.log(
    `\n| subject | sleeps | limit | scrapes answered (of ${SECONDS}) | scans (of expected) | ` +
      "CPU vs unlimited | major faults | OOM kills | failcnt | peak charged | " +
      "rss / cache / mapped_file at end | healthy |",
  );
  console.log("| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --- |");
  for (const r of results.filter((r) => r.limit !== undefined)) {
    const l = r.limit!;
    const base = results.find((u) =>
      u.limit?.limitMib === Infinity && u.sleeps === r.sleeps &&
      u.subject === r.subject.replace(/ ≤ \d+ MiB/, "")
    )!;
    const ratio = r.cpuSeconds / base.cpuSeconds;
    const verdict = l.limitMib === Infinity
      ? ""
      : healthy(r, base)
      ? "yes"
      : `no${l.failure ? ` (${l.failure.slice(0, 80)})` : ""}`;
    console.log(
      `| ${r.subject} | ${r.sleeps} | ${
        l.limitMib === Infinity ? "none" : `${l.limitMib} MiB`
      } | ` +
        `${l.scrapesAnswered} | ${l.scans} (of ${l.expectedScans}) | ` +
        `${Number.isNaN(ratio) ? "–" : `${ratio.toFixed(2)}×`} (${r.cpuPercent.toFixed(2)} %) | ` +
        `${l.majorFaults} | ${l.oomKills} | ${l.failcnt} | ${mib(l.peakMib)} | ` +
        `${l.stat.rss.toFixed(1)} / ${l.stat.cache.toFixed(1)} / ${
          l.stat.mapped_file.toFixed(1)
        } MiB | ${verdict} |`,
    );
  }
}

if (calls.length > 0) {
  console.log(
    "\n| subject | sleeps | scans | syscalls per visible process per scan | opens | reads | top calls |",
  );
  console.log("| --- | --: | --: | --: | --: | --: | --- |");
  for (const c of calls) {
    console.log(
      `| ${c.subject} | ${c.sleeps} | ${c.scans} | ${c.total.toFixed(2)} | ` +
        `${c.opens.toFixed(2)} | ${c.reads.toFixed(2)} | ${c.top} |`,
    );
  }
}
for (const line of summary) console.log(`\n${line}`);
