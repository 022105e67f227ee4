/**
 * `deno task demo`: oomhero saving a leaking app from the OOM killer, then the same app without
 * oomhero for contrast. Uses a real memory cgroup where it can (root, writable cgroupfs);
 * elsewhere it shows oomhero's evaluation in dry-run mode.
 * @module
 */
import { MemoryCgroup } from "./memory_cgroup.ts";
import { oomheroArgv } from "../scripts/runtime_flags.ts";
import { APP_SIGNAL_FLAGS, appArgv, lines, runScenario, type ScenarioResult } from "./scenario.ts";

const MIB = 1024 * 1024;
const LIMIT_MIB = 192;
const WARNING = "memory_usage > 70";
const CRITICAL = "memory_usage > 85";
const APP_ARGS = ["--step-mib", "3", "--every-ms", "50", "--seconds", "12"];
const OOMHERO_ARGS = [
  `--warning=${WARNING}`,
  `--critical=${CRITICAL}`,
  "--loop-interval=100ms",
  "--cooldown-interval=2s",
  "--include=demo/app\\.ts",
  "--metrics-address=",
  "--log-format=json",
];

/** The fields of a signal's log line that are not the figures its expression references. */
const EVENT_FIELDS = new Set(["time", "level", "msg", "pid", "cmdline", "severity", "signal"]);

/**
 * Prints oomhero's signal events briefly, with the figures the expression referenced (what the
 * log line carries), and its other warnings and errors as they are.
 */
function showOomheroLine(line: string): void {
  try {
    const e = JSON.parse(line);
    if (e.msg === "signal sent" || e.msg.startsWith("would send")) {
      const dry = e.msg === "signal sent" ? "" : " (dry run)";
      const figures = Object.entries(e).filter(([k]) => !EVENT_FIELDS.has(k))
        .map(([k, v]) => `${k}=${v}`).join(" ");
      console.log(`  [oomhero] ${e.severity}: ${e.signal} to pid ${e.pid}${dry}, ${figures}`);
    } else if (e.level !== "info" && e.level !== "debug") console.log(`  [oomhero] ${line}`);
  } catch {
    console.log(`  [oomhero] ${line}`);
  }
}

/** How oomhero is run, as the banner shows it. */
function oomheroLine(warning: string, critical: string, rest: string): string {
  return `oomhero: --warning "${warning}" --critical "${critical}" ${rest}`;
}

function describe(r: ScenarioResult, limitBytes: number): string {
  const peak = `peak ${(r.peakBytes / MIB).toFixed(0)} MiB of ${limitBytes / MIB} MiB`;
  const signals = `${r.handled.warning} warnings and ${r.handled.critical} criticals handled`;
  return r.oomKills === 0 && r.exitCode === 0
    ? `survived: ${signals}, ${peak}, OOM kills 0`
    : `killed by ${r.exitSignal ?? `exit ${r.exitCode}`} after ${r.seconds.toFixed(1)}s: ` +
      `${signals}, ${peak}, OOM kills ${r.oomKills}`;
}

/** A memory cgroup for one run, or why there is none. */
function demoCgroup(): MemoryCgroup | string {
  return MemoryCgroup.create(`oomhero-demo-${Deno.pid}`, LIMIT_MIB * MIB);
}

/** Runs the app in `cgroup` (removed after), with oomhero when `oomheroArgs` are given. */
async function inCgroup(
  cgroup: MemoryCgroup,
  title: string,
  oomheroArgs?: string[],
): Promise<ScenarioResult> {
  console.log(`\n== ${title} ==`);
  try {
    const result = await runScenario(cgroup, {
      appArgs: APP_ARGS,
      oomheroArgs,
      onAppLine: (l) => console.log(`  ${l}`),
      onOomheroLine: showOomheroLine,
    });
    console.log(`  => ${describe(result, cgroup.limitBytes())}`);
    return result;
  } finally {
    cgroup.remove();
  }
}

const DRY_WARNING = "memory_working_set > 64Mi";
const DRY_CRITICAL = "memory_working_set > 96Mi";

/** Without a cgroup of our own: oomhero in dry-run against the app, in our own cgroup. */
async function dryRun(why: string): Promise<void> {
  console.log(
    `No memory cgroup for the demo (${why}): oomhero evaluates the app in --dry-run mode.\n` +
      "The app grows 2 MiB every 100 ms for 8 s in the cgroup the demo was started in: no limit\n" +
      "of the demo's, other processes in it too, so the thresholds apply to that whole cgroup.\n" +
      oomheroLine(DRY_WARNING, DRY_CRITICAL, "--loop-interval 100ms --dry-run"),
  );
  const [obin, ...oargs] = oomheroArgv([
    `--warning=${DRY_WARNING}`,
    `--critical=${DRY_CRITICAL}`,
    ...OOMHERO_ARGS.slice(2),
    ...APP_SIGNAL_FLAGS,
    "--dry-run",
  ]);
  const oomhero = new Deno.Command(obin, { args: oargs, stdout: "null", stderr: "piped" }).spawn();
  const shown = (async () => {
    for await (const l of lines(oomhero.stderr)) showOomheroLine(l);
  })();
  const [bin, ...args] = appArgv(["--step-mib", "2", "--every-ms", "100", "--seconds", "8"]);
  const app = new Deno.Command(bin, { args, stdout: "inherit", stderr: "inherit" }).spawn();
  await app.status;
  oomhero.kill("SIGTERM");
  await oomhero.status;
  await shown;
}

const first = demoCgroup();
if (typeof first === "string") {
  await dryRun(first);
} else {
  console.log(
    `oomhero demo: an app leaks 60 MiB/s inside a ${LIMIT_MIB} MiB memory limit.\n` +
      `It drops half its cache on SIGUSR2 and nine tenths on SIGHUP (SIGUSR1 would open Deno's inspector).\n` +
      oomheroLine(WARNING, CRITICAL, "--loop-interval 100ms"),
  );
  const watched = await inCgroup(first, "With oomhero watching", OOMHERO_ARGS);
  const second = demoCgroup();
  const alone = typeof second === "string"
    ? second
    : await inCgroup(second, "The same app and limit, without oomhero");
  const saved = typeof alone !== "string" && watched.oomKills === 0 && alone.oomKills > 0;
  console.log(
    typeof alone === "string"
      ? `\nNo second memory cgroup for the contrast: ${alone}.`
      : saved
      ? "\nWith oomhero the app survived; without it the kernel's OOM killer ended it."
      : "\nThe contrast did not show this time; see the figures above.",
  );
}
