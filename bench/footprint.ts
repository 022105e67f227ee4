/**
 * Footprint side by side: steady-state RSS (VmRSS, peak VmHWM) and CPU time of oomhero at a
 * 100 ms loop with metrics on and scraped once a second, against the runtime's floor (a Deno
 * process that only sleeps, same flags), the syscall floor (bench/floor.c reading the same files
 * at the same interval) and the tools users would pick instead: earlyoom and nohang, polling
 * at their closest to 100 ms, acting on nothing. Each watches 10, then 1,000 `sleep`s in 50
 * memory cgroups, in a PID namespace of its own. Figures come from /proc/<pid>/status and stat.
 *
 *   scripts/bench-footprint [--seconds 120] [--warmup 10] [--counts 10,1000] [--only a,b]
 *
 * `--v8-flags F` runs oomhero and deno-idle with the V8 flags F instead of those of
 * scripts/runtime-flags, to weigh a setting. Subjects: oomhero, deno-idle, floor-c, earlyoom,
 * nohang. Needs root, a writable cgroupfs,
 * `unshare`, `cc`, and `apt-get install -y earlyoom nohang`.
 * @module
 */
import { parseArgs } from "node:util";
import { floorBinary } from "./floor.ts";
import { runtimeFlags, scrape, startOomhero } from "./oomhero_subject.ts";
import { enterPidNamespace } from "./pid_namespace.ts";
import { SleepingProcesses } from "./real_processes.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "120" },
    warmup: { type: "string", default: "10" },
    counts: { type: "string", default: "10,1000" },
    only: { type: "string", default: "oomhero,deno-idle,floor-c,earlyoom,nohang" },
    "v8-flags": { type: "string" },
  },
});
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const COUNTS = values.counts.split(",").map(Number);
const ONLY = values.only.split(",");
const V8_FLAGS = values["v8-flags"];
/** Clock ticks per second of /proc/<pid>/stat's utime and stime: USER_HZ, 100 on Linux. */
const CLK_TCK = Number(new TextDecoder().decode(
  new Deno.Command("getconf", { args: ["CLK_TCK"] }).outputSync().stdout,
));
/** earlyoom polls every 100 ms only within 600 MiB of its threshold: put it 500 MiB away. */
const EARLYOOM_HEADROOM_KIB = 500 * 1024;

await enterPidNamespace();

/** A running subject: its process, and the metrics port to scrape, if it has one. */
interface Running {
  child: Deno.ChildProcess;
  port?: number;
}

/** How to start each subject. */
const SUBJECTS: Record<string, () => Running | Promise<Running>> = {
  "oomhero": () => startOomhero("100ms", V8_FLAGS),
  "deno-idle": () =>
    spawn([
      Deno.execPath(),
      "run",
      ...runtimeFlags(V8_FLAGS),
      new URL("idle.ts", import.meta.url).pathname,
    ]),
  "floor-c": () => spawn([floorBinary(), "loop", "100"]),
  "earlyoom": () => spawn(["earlyoom", "--dryrun", "-m", earlyoomPercent()]),
  "nohang": () => spawn(["nohang", "--monitor", "-c", nohangConfig()]),
};

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

/** utime + stime of `pid` in seconds (fields 14 and 15 of its stat). */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Runs `seconds` of once-a-second ticks, scraping the subject's metrics on each. */
async function ticks(running: Running, seconds: number, each?: () => void): Promise<void> {
  const start = performance.now();
  for (let s = 1; s <= seconds; s++) {
    if (running.port !== undefined) await scrape(running.port);
    each?.();
    await new Promise((r) => setTimeout(r, Math.max(0, start + s * 1000 - performance.now())));
  }
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
}

async function measure(name: string, sleeps: number): Promise<Figures> {
  const running = await SUBJECTS[name]();
  const pid = running.child.pid;
  try {
    await ticks(running, WARMUP);
    const cpuStart = cpuSeconds(pid);
    const rss: number[] = [];
    await ticks(running, SECONDS, () => rss.push(memory(pid).rss));
    const cpu = cpuSeconds(pid) - cpuStart;
    const end = memory(pid);
    rss.sort((a, b) => a - b);
    return {
      subject: name,
      sleeps,
      rssMib: end.rss,
      rssMedianMib: rss[rss.length >> 1],
      hwmMib: end.hwm,
      cpuSeconds: cpu,
      cpuPercent: cpu / SECONDS * 100,
    };
  } finally {
    running.child.kill("SIGTERM");
    await running.child.status;
  }
}

const results: Figures[] = [];
for (const count of COUNTS) {
  const sleepers = await SleepingProcesses.start(count);
  try {
    for (const name of ONLY) {
      if (!(name in SUBJECTS)) throw new Error(`unknown subject ${name}`);
      const figures = await measure(name, count);
      results.push(figures);
      console.error(JSON.stringify(figures));
    }
  } finally {
    await sleepers.stop();
  }
}

console.log(
  `| subject | sleeps | VmRSS | median VmRSS | VmHWM | CPU over ${SECONDS} s | % of one core ` +
    "| RSS above deno-idle |",
);
console.log("| --- | --: | --: | --: | --: | --: | --: | --: |");
for (const r of results) {
  const idle = results.find((i) => i.subject === "deno-idle" && i.sleeps === r.sleeps);
  const versus = idle === undefined ? "" : `${(r.rssMib - idle.rssMib).toFixed(1)} MiB`;
  console.log(
    `| ${r.subject} | ${r.sleeps} | ${r.rssMib.toFixed(1)} MiB | ${
      r.rssMedianMib.toFixed(1)
    } MiB | ` +
      `${r.hwmMib.toFixed(1)} MiB | ` +
      `${r.cpuSeconds.toFixed(2)} s | ${r.cpuPercent.toFixed(2)} % | ${versus} |`,
  );
}
