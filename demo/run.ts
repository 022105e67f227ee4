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

/** Prints oomhero's signal events briefly, and its warnings and errors as they are. */
function showOomheroLine(line: string): void {
  try {
    const e = JSON.parse(line);
    if (e.msg === "signal sent" || e.msg.startsWith("would send")) {
      const dry = e.msg === "signal sent" ? "" : " (dry run)";
      console.log(
        `  [oomhero] ${e.severity}: ${e.signal} to pid ${e.pid}${dry}, memory_usage=${
          Number(e.memory_usage ?? e.memory_current).toFixed(1)
        }`,
      );
    } else if (e.level !== "info" && e.level !== "debug") console.log(`  [oomhero] ${line}`);
  } catch {
    console.log(`  [oomhero] ${line}`);
  }
}

function describe(r: ScenarioResult, limitBytes: number): string {
  const peak = `peak ${(r.peakBytes / MIB).toFixed(0)} MiB of ${limitBytes / MIB} MiB`;
  const signals = `${r.handled.warning} warnings and ${r.handled.critical} criticals handled`;
  return r.oomKills === 0 && r.exitCode === 0
    ? `survived: ${signals}, ${peak}, OOM kills 0`
    : `killed by ${r.exitSignal ?? `exit ${r.exitCode}`} after ${r.seconds.toFixed(1)}s: ` +
      `${signals}, ${peak}, OOM kills ${r.oomKills}`;
}

async function inCgroup(title: string, oomheroArgs?: string[]): Promise<ScenarioResult | string> {
  const cgroup = MemoryCgroup.create(`oomhero-demo-${Deno.pid}`, LIMIT_MIB * MIB);
  if (typeof cgroup === "string") return cgroup;
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

/** Without a cgroup of our own: oomhero in dry-run against the app, in our own cgroup. */
async function dryRun(why: string): Promise<void> {
  console.log(`No memory cgroup for the demo (${why}): showing oomhero's evaluation in dry-run.`);
  const [obin, ...oargs] = oomheroArgv([
    "--warning=memory_working_set > 64Mi",
    "--critical=memory_working_set > 96Mi",
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

console.log(
  `oomhero demo: an app leaks 60 MiB/s inside a ${LIMIT_MIB} MiB memory limit.\n` +
    `It drops half its cache on SIGUSR2 and nine tenths on SIGHUP (SIGUSR1 would open Deno's inspector).\n` +
    `oomhero: --warning "${WARNING}" --critical "${CRITICAL}" --loop-interval 100ms`,
);
const watched = await inCgroup("With oomhero watching", OOMHERO_ARGS);
if (typeof watched === "string") {
  await dryRun(watched);
} else {
  const alone = await inCgroup("The same app and limit, without oomhero");
  const saved = typeof alone !== "string" && watched.oomKills === 0 && alone.oomKills > 0;
  console.log(
    saved
      ? "\nWith oomhero the app survived; without it the kernel's OOM killer ended it."
      : "\nThe contrast did not show this time; see the figures above.",
  );
}
