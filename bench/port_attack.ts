/**
 * The metrics port attacked, before → after in one run: oomhero from each source tree given
 * (e.g. a `git archive` of an older commit) and from this one, each at a 100 ms loop in dry-run
 * mode in a PID namespace of its own (it watches nothing, so the cadence shows the clients'
 * cost alone), flooded with `--silent` silent connections, `--slow` slow
 * clients and `--scrapers` scrapers (tests/support/port_attack.ts). Prints, per tree, oomhero's
 * VmRSS, open files and TCP connections before and during the flood, the share of scans on cadence and
 * the scrapes' slowest answer and failures.
 *
 *   deno run --allow-all bench/port_attack.ts [--before DIR]... [--silent 5000] [--slow 200]
 *     [--scrapers 10] [--hold 10] [--nofile N]
 *
 * `--nofile N` runs oomhero under `prlimit --nofile=N:N`. Needs root (the benchmark raises its
 * own open-file limit), `unshare` and `prlimit`.
 * @module
 */
import { benchArgs } from "./args.ts";
import { fileURLToPath } from "node:url";
import { connectionCap } from "../src/report/fd_budget.ts";
import { freePort, RUNTIME_FLAGS } from "../scripts/runtime_flags.ts";
import { delay, LiveOomhero } from "../tests/support/live_oomhero.ts";
import {
  flood,
  holding,
  namespacedPid,
  ownNamespacePrefix,
  raiseOwnFileLimit,
} from "../tests/support/port_attack.ts";

const values = benchArgs(import.meta.url, {
  before: { type: "string", multiple: true, default: [] },
  silent: { type: "string", default: "5000" },
  slow: { type: "string", default: "200" },
  scrapers: { type: "string", default: "10" },
  hold: { type: "string", default: "10" },
  nofile: { type: "string" },
});
const SILENT = Number(values.silent);
const SLOW = Number(values.slow);
const LOOP_INTERVAL_MS = 100;
const MIB = 1024 * 1024;
const THIS_TREE = fileURLToPath(new URL("..", import.meta.url));

await raiseOwnFileLimit(SILENT + SLOW + 1_000);

/** Starts oomhero from the source tree `root` and waits for its first scrape to answer. */
async function start(root: string): Promise<{ live: LiveOomhero; pid: number }> {
  const port = freePort();
  const prefix = ownNamespacePrefix(
    values.nofile === undefined ? undefined : Number(values.nofile),
  );
  const argv = [
    ...prefix,
    Deno.execPath(),
    "run",
    ...RUNTIME_FLAGS,
    `${root}/src/main.ts`,
    "--warning=memory_usage > 1000",
    "--critical=memory_usage > 2000",
    `--loop-interval=${LOOP_INTERVAL_MS}ms`,
    "--dry-run",
    `--metrics-address=127.0.0.1:${port}`,
  ];
  const process = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const live = new LiveOomhero(process, port);
  await live.waitForLog(/oomhero started/);
  return { live, pid: await namespacedPid(process.pid) };
}

const rows: string[] = [];
for (const root of [...values.before, THIS_TREE]) {
  const { live: oomhero, pid } = await start(root);
  try {
    // Settled after start: what the idle process holds.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const idle = holding(pid);
    const name = root === THIS_TREE ? "this tree" : root;
    const f = await flood(
      { port: oomhero.port, pid, scrape: () => oomhero.scrape() },
      {
        silent: SILENT,
        slow: SLOW,
        scrapers: Number(values.scrapers),
        holdMs: Number(values.hold) * 1000,
        loopIntervalMs: LOOP_INTERVAL_MS,
        cap: connectionCap(values.nofile === undefined ? undefined : Number(values.nofile)),
      },
    ).catch(async (error) => {
      // oomhero itself ended under the flood: say how.
      const status = await Promise.race([oomhero.process.status, delay(1_000)]);
      rows.push(
        `| ${name} | ${(idle.rssBytes / MIB).toFixed(1)} MiB | ended: ${
          status === undefined ? String(error) : `exit ${status.code}, signal ${status.signal}`
        } |`,
      );
      console.error(rows.at(-1), "\n", oomhero.log.slice(-5).join("\n"));
      return undefined;
    });
    if (f === undefined) continue;
    const mib = (b: number) => `${(b / MIB).toFixed(1)} MiB`;
    const errors = oomhero.log.filter((l) => / (WARN|ERROR) /.test(l) && !/at the cap/.test(l));
    rows.push(
      `| ${name} | ${mib(idle.rssBytes)} | ` +
        `${mib(f.max.rssBytes)} | ${idle.fds} | ${f.max.fds} | ${f.maxConnections} | ` +
        `${f.connectionsAtEnd} | ${(f.onCadence * 100).toFixed(1)} % | ${f.scrapes.scrapes} | ` +
        `${f.scrapes.maxMs.toFixed(0)} ms | ${f.scrapes.failures.length} | ${errors.length} | ` +
        `${f.refused} | ${f.seconds.toFixed(1)} s |`,
    );
    console.error(rows.at(-1));
    if (f.scrapes.failures.length > 0) console.error(f.scrapes.failures.slice(0, 3));
    if (errors.length > 0) console.error(errors.slice(0, 3));
    if (oomhero.log.length > 0) console.error(oomhero.log.slice(-3));
  } finally {
    try {
      Deno.kill(pid, "SIGTERM");
    } catch { /* it ended */ }
    await oomhero.stop();
  }
}
console.log(
  `Flood: ${SILENT} silent, ${SLOW} slow, ${values.scrapers} scrapers every 250 ms, held ` +
    `${values.hold} s; oomhero open-file limit ${values.nofile ?? "inherited"}.\n`,
);
console.log(
  "| oomhero | VmRSS idle | VmRSS max | fds idle | fds max | connections max | at end " +
    "| scans on cadence | scrapes | slowest | failed | log warnings | connects refused " +
    "| flood lasted |",
);
console.log(`| --- ${"| --: ".repeat(13)}|`);
for (const row of rows) console.log(row);
