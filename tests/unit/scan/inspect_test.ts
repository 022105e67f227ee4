import assert from "node:assert/strict";
import { inspect, type InspectOptions } from "../../../src/scan/inspect.ts";
import { Logger } from "../../../src/base/log.ts";
import { UsageError } from "../../../src/base/usage_error.ts";
import { NO_TREND } from "../../../src/collect/trend.ts";
import { VARIABLE_NAMES } from "../../../src/collect/variables.ts";
import { copyFixture, fixture, type FixtureLayout } from "../../support/fixture_paths.ts";

function options(layout: FixtureLayout, rest: Partial<InspectOptions> = {}): InspectOptions {
  return { ...fixture(layout), format: "json", pids: [], include: [], sampleMs: 0, ...rest };
}

const QUIET = new Logger("error");

Deno.test("inspect --format json: one object per process with exactly the variables", async () => {
  const out = JSON.parse(await inspect(options("v2-container"), QUIET));
  assert.deepEqual(out.map((p: { pid: number }) => p.pid), [1, 20, 30, 31]);
  for (const p of out) {
    assert.deepEqual(Object.keys(p), [
      "pid",
      "cmdline",
      "start_time",
      "cgroup",
      "memory_max_scope",
      ...VARIABLE_NAMES,
      "signals",
    ]);
  }
  const node = out[1];
  assert.deepEqual(
    [node.pid, node.cmdline, node.start_time, node.cgroup],
    [20, "node server.js", 9000, "/../cri-containerd-app.scope"],
  );
  assert.equal(node.memory_current, 314572800);
  assert.equal(node.memory_max, 1073741824);
  assert.equal(node.memory_usage, 29.296875);
  assert.equal(node.memory_working_set_usage, 24.4140625);
  assert.equal(node.cpu_pressure_full_total, 7);
  // v2 in a private cgroup namespace: the container's own limit, a pod limit above unseen.
  assert.equal(node.memory_max_scope, "own");
});

Deno.test("inspect --pid narrows to those processes and warns about missing ones", async () => {
  const lines: string[] = [];
  const log = new Logger("warn", "json", (l) => lines.push(l));
  const out = JSON.parse(
    await inspect(options("v2-host", { pids: [103, 4242, 2, 100, 103] }), log),
  );
  assert.deepEqual(out.map((p: { pid: number }) => p.pid), [100, 103]);
  const missing = lines.map((l) => JSON.parse(l)).filter((l) =>
    l.msg === "no such process, or a kernel thread"
  );
  assert.deepEqual(missing.map((l) => l.pid), [2, 4242]);
});

Deno.test("inspect --include matches regular expressions on the full command line", async () => {
  const run = async (include: RegExp[], pids: number[] = []) =>
    JSON.parse(await inspect(options("v2-host", { include, pids }), QUIET)).map((
      p: { pid: number },
    ) => p.pid);
  assert.deepEqual(await run([/app\.jar$/]), [100]);
  assert.deepEqual(await run([/^java /, /sleep 1000/]), [100, 101]);
  assert.deepEqual(await run([/sleep/], [100, 101]), [101]);
  assert.deepEqual(await run([/nothing matches this/]), []);
});

Deno.test("inspect --format table: aligned rows, then where each cgroup's numbers came from", async () => {
  const { procfs, cgroupfs } = fixture("hybrid-host");
  const expected = [
    "PID  CMDLINE            MEM_CURRENT  MEM_MAX  MEM_USAGE  WS_USAGE  MEM_GROWTH  TO_LIMIT  " +
    "OOM_SCORE  OOM_ADJ  MEM_PSI_SOME10  MEM_PSI_FULL10  SIGNALS",
    // The program's base name: the directory is what tells processes apart least.
    "  1  init                    2.0GiB       0B       0.0%      0.0%        0B/s         -  " +
    "        0        0            0.10            0.01  USR1:not_handled USR2:not_handled",
    " 60  python3 worker.py     256.0MiB   1.0GiB      25.0%     18.8%        0B/s         -  " +
    "      700      200            8.00            4.00  USR1:not_handled USR2:not_handled",
    "",
    "cgroup / (v1, host view): pid 1",
    `  memory dir       ${cgroupfs}/memory`,
    "  limit dir        (none)",
    "  limit scope      effective: every limit above was seen",
    `  pressure source  ${procfs}/pressure (system-wide: no *.pressure files in ` +
    `${cgroupfs}/unified/init.scope (per-cgroup PSI is off))`,
    "  no memory limit: memory_max and memory_usage read 0",
    "",
    "cgroup /user.slice/app (v1, host view): pid 60",
    `  memory dir       ${cgroupfs}/memory/user.slice/app`,
    `  limit dir        ${cgroupfs}/memory/user.slice`,
    "  limit scope      effective: every limit above was seen",
    `  pressure source  ${cgroupfs}/unified/user.slice/app.scope`,
    "",
    "SIGNALS: how each process treats --warning-signal and --critical-signal: caught (a handler),",
    "  ignored (SIG_IGN), blocked (by its main thread, no handler), not_handled, or unreadable. The",
    "  monitor sends a signal only to processes that catch it, unless --signal-unhandled is given",
    "  or it is SIGTERM, SIGINT, SIGQUIT, SIGKILL, SIGSTOP or harmless (SIGCHLD, SIGURG, SIGWINCH,",
    "  SIGCONT)",
    "growth not measured (--sample 0: one scan): MEM_GROWTH reads 0 and TO_LIMIT never",
  ].join("\n");
  assert.equal(await inspect(options("hybrid-host", { format: "table" }), QUIET), expected);
});

Deno.test("inspect --format table groups the processes of one cgroup", async () => {
  const out = await inspect(options("v2-host", { format: "table", pids: [100, 101] }), QUIET);
  const blocks = out.split("\n\n");
  assert.equal(blocks.length, 3, "the rows, one cgroup, the note on growth");
  assert.match(
    blocks[1],
    /^cgroup \/kubepods\.slice\/kubepods-pod1\.slice\/cri-containerd-aaa\.scope \(v2, host view\): pids 100, 101\n/,
  );
  const long = await inspect(options("v2-container", { format: "table", pids: [20] }), QUIET);
  assert.match(long, /\(v2, container view\): pid 20\n/);
});

Deno.test("inspect --format table shows the base name and arguments, cut, control characters blanked", async () => {
  const table = await inspect(options("v2-host", { format: "table", pids: [103] }), QUIET);
  assert.ok(
    table.split("\n")[1].startsWith("103  nostat --motd=a b --config=/etc/nostat/…  "),
    table,
  );
  const json = JSON.parse(await inspect(options("v2-host", { pids: [103] }), QUIET));
  assert.equal(
    json[0].cmdline,
    "/opt/nostat/bin/nostat --motd=a\nb --config=/etc/nostat/conf.d/main.yaml",
  );
});

Deno.test("inspect --format json bounds a long command line as logs do", async () => {
  const { procfs, cgroupfs, dir } = copyFixture("v2-host");
  try {
    const secret = "hunter2-do-not-leak";
    const blob = JSON.stringify({ PAD: "x".repeat(2000), DB_PASSWORD: secret });
    const args = ["/opt/nostat/bin/nostat", "--env", blob];
    await Deno.writeTextFile(`${procfs}/103/cmdline`, args.join("\0") + "\0");
    const json = JSON.parse(
      await inspect({ ...options("v2-host"), procfs, cgroupfs, pids: [103] }, QUIET),
    );
    const cmdline: string = json[0].cmdline;
    assert.ok(!cmdline.includes(secret), cmdline);
    assert.match(cmdline, /^\/opt\/nostat\/bin\/nostat --env \{"PAD":"x+…\(\+\d+ chars\)$/);
    assert.ok(cmdline.length < 400, String(cmdline.length));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inspect with nothing to show", async () => {
  assert.equal(await inspect(options("v2-host", { include: [/^$/] }), QUIET), "[]");
  assert.equal(
    await inspect(options("v2-host", { format: "table", include: [/^$/] }), QUIET),
    "no matching processes",
  );
});

Deno.test("inspect reports a procfs or cgroupfs that is not mounted where given", async () => {
  const { procfs } = fixture("v2-host");
  await assert.rejects(
    () => inspect(options("v2-host", { procfs: "/nope" }), QUIET),
    (e: unknown) =>
      e instanceof UsageError &&
      e.message === "oomhero: --procfs: /nope does not exist",
  );
  await assert.rejects(
    () => inspect(options("v2-host", { cgroupfs: procfs }), QUIET),
    (e: unknown) => e instanceof UsageError && e.input === "--cgroupfs",
  );
});

Deno.test("inspect --sample scans for that long and measures the growth variables", async () => {
  const copy = copyFixture("v2-host");
  const current = `${copy.cgroupfs}/kubepods.slice/kubepods-pod1.slice/cri-containerd-aaa.scope/` +
    "memory.current";
  const base = Number(Deno.readTextFileSync(current));
  const begin = performance.now();
  // The cgroup grows by 10 MiB/s while inspect samples it.
  const writer = setInterval(() => {
    const grown = Math.round(base + 10 * 1024 * 1024 * (performance.now() - begin) / 1000);
    Deno.writeTextFileSync(current, `${grown}\n`);
  }, 20);
  const lines: Record<string, unknown>[] = [];
  const log = new Logger("info", "json", (l) => lines.push(JSON.parse(l)));
  try {
    const sampled = { ...options("v2-host", { pids: [100], sampleMs: 1_000 }), ...copy };
    const [json] = JSON.parse(await inspect(sampled, log));
    assert.ok(json.memory_growth_rate > 0, `${json.memory_growth_rate}`);
    assert.ok(json.memory_usage_delta_10s > 0);
    const left = (json.memory_max - json.memory_current) / json.memory_growth_rate;
    assert.ok(Math.abs(json.memory_seconds_to_limit - left) < 1e-6 * left);
    assert.deepEqual(
      lines.filter((l) => l.msg === "sampling to measure the growth variables")
        .map((l) => [l.sample, l.interval]),
      [["1s", "250ms"]],
    );
    const table = await inspect({ ...sampled, format: "table" }, QUIET);
    assert.match(table.split("\n").at(-1)!, /^growth measured over 1s \(\d+ scans\)/);
    assert.ok(Number(/\((\d+) scans\)/.exec(table)![1]) >= 5, "250 ms apart over 1 s");
    assert.doesNotMatch(table.split("\n")[1], / 0B\/s +- /, "growth shown in the table");
  } finally {
    clearInterval(writer);
    Deno.removeSync(copy.dir, { recursive: true });
  }
});

Deno.test("inspect without --sample measures no trend and says so", async () => {
  const [json] = JSON.parse(await inspect(options("v2-host", { pids: [100] }), QUIET));
  for (const [name, value] of Object.entries(NO_TREND)) assert.equal(json[name], value, name);
});

Deno.test("inspect shows how each process treats the monitor's signals, in JSON and the table", async () => {
  const tree = copyFixture("v2-host");
  try {
    Deno.removeSync(`${tree.procfs}/103/status`);
    const at = { ...tree, pids: [100, 101, 103] };
    const json = JSON.parse(await inspect({ ...options("v2-host"), ...at }, QUIET));
    assert.deepEqual(json.map((p: { signals: unknown }) => p.signals), [
      { SIGUSR1: "caught", SIGUSR2: "ignored" },
      { SIGUSR1: "not_handled", SIGUSR2: "not_handled" },
      { SIGUSR1: "unreadable", SIGUSR2: "unreadable" },
    ]);
    assert.match(json[2].unreadable.join("\n"), /proc\/103\/status: not found/);
    const table = await inspect(
      { ...options("v2-host"), ...at, format: "table", criticalSignal: "SIGINT" },
      QUIET,
    );
    const rows = table.split("\n").filter((l) => /^\s*10[013] /.test(l));
    assert.deepEqual(rows.map((r) => r.slice(r.lastIndexOf("  ") + 2)), [
      "USR1:caught INT:caught",
      "USR1:not_handled INT:ignored",
      "USR1:unreadable INT:unreadable",
    ]);
    assert.match(table, /^ {2}unreadable {7}pid 103: .*103\/status: not found$/m);
    assert.match(
      table,
      /^SIGNALS: how each process treats --warning-signal and --critical-signal/m,
    );
    // Once each when both are the same signal.
    const same = JSON.parse(
      await inspect(
        { ...options("v2-host"), ...at, warningSignal: "SIGHUP", criticalSignal: "SIGHUP" },
        QUIET,
      ),
    );
    assert.deepEqual(same[0].signals, { SIGHUP: "not_handled" });
  } finally {
    Deno.removeSync(tree.dir, { recursive: true });
  }
});
