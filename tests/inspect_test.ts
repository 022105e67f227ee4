import assert from "node:assert/strict";
import { inspect, type InspectOptions } from "../src/inspect.ts";
import { Logger } from "../src/log.ts";
import { UsageError } from "../src/usage_error.ts";
import { VARIABLE_NAMES } from "../src/variables.ts";
import { fixture, type FixtureLayout } from "./fixture_paths.ts";

function options(layout: FixtureLayout, rest: Partial<InspectOptions> = {}): InspectOptions {
  return { ...fixture(layout), format: "json", pids: [], include: [], ...rest };
}

const QUIET = new Logger("error");

Deno.test("inspect --format json: one object per process with exactly the variables", () => {
  const out = JSON.parse(inspect(options("v2-container"), QUIET));
  assert.deepEqual(out.map((p: { pid: number }) => p.pid), [1, 20, 30, 31]);
  for (const p of out) {
    assert.deepEqual(Object.keys(p), ["pid", "cmdline", "start_time", "cgroup", ...VARIABLE_NAMES]);
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
});

Deno.test("inspect --pid narrows to those processes and warns about missing ones", () => {
  const lines: string[] = [];
  const log = new Logger("warn", "json", (l) => lines.push(l));
  const out = JSON.parse(inspect(options("v2-host", { pids: [103, 4242, 2, 100, 103] }), log));
  assert.deepEqual(out.map((p: { pid: number }) => p.pid), [100, 103]);
  const missing = lines.map((l) => JSON.parse(l)).filter((l) =>
    l.msg === "no such process, or a kernel thread"
  );
  assert.deepEqual(missing.map((l) => l.pid), [2, 4242]);
});

Deno.test("inspect --include matches regular expressions on the full command line", () => {
  const run = (include: RegExp[], pids: number[] = []) =>
    JSON.parse(inspect(options("v2-host", { include, pids }), QUIET)).map((p: { pid: number }) =>
      p.pid
    );
  assert.deepEqual(run([/app\.jar$/]), [100]);
  assert.deepEqual(run([/^java /, /sleep 1000/]), [100, 101]);
  assert.deepEqual(run([/sleep/], [100, 101]), [101]);
  assert.deepEqual(run([/nothing matches this/]), []);
});

Deno.test("inspect --format table: aligned rows, then where each cgroup's numbers came from", () => {
  const { procfs, cgroupfs } = fixture("hybrid-host");
  const expected = [
    "PID  CMDLINE            MEM_CURRENT  MEM_MAX  MEM_USAGE  WS_USAGE  OOM_SCORE  OOM_ADJ  " +
    "MEM_PSI_SOME10  MEM_PSI_FULL10",
    "  1  /sbin/init              2.0GiB       0B       0.0%      0.0%          0        0  " +
    "          0.10            0.01",
    " 60  python3 worker.py     256.0MiB   1.0GiB      25.0%     18.8%        700      200  " +
    "          8.00            4.00",
    "",
    "cgroup / (v1, host view): pid 1",
    `  memory dir       ${cgroupfs}/memory`,
    "  limit dir        (none)",
    `  pressure source  ${procfs}/pressure`,
    "  no memory limit: memory_max and memory_usage read 0",
    "",
    "cgroup /user.slice/app (v1, host view): pid 60",
    `  memory dir       ${cgroupfs}/memory/user.slice/app`,
    `  limit dir        ${cgroupfs}/memory/user.slice`,
    `  pressure source  ${cgroupfs}/unified/user.slice/app.scope`,
  ].join("\n");
  assert.equal(inspect(options("hybrid-host", { format: "table" }), QUIET), expected);
});

Deno.test("inspect --format table groups the processes of one cgroup", () => {
  const out = inspect(options("v2-host", { format: "table", pids: [100, 101] }), QUIET);
  const blocks = out.split("\n\n");
  assert.equal(blocks.length, 2);
  assert.match(
    blocks[1],
    /^cgroup \/kubepods\.slice\/kubepods-pod1\.slice\/cri-containerd-aaa\.scope \(v2, host view\): pids 100, 101\n/,
  );
  const long = inspect(options("v2-container", { format: "table", pids: [20] }), QUIET);
  assert.match(long, /\(v2, container view\): pid 20\n/);
});

Deno.test("inspect --format table truncates long command lines and blanks control characters", () => {
  const table = inspect(options("v2-host", { format: "table", pids: [103] }), QUIET);
  assert.ok(
    table.split("\n")[1].startsWith("103  /opt/nostat/bin/nostat --motd=a b --con…  "),
    table,
  );
  const json = JSON.parse(inspect(options("v2-host", { pids: [103] }), QUIET));
  assert.equal(
    json[0].cmdline,
    "/opt/nostat/bin/nostat --motd=a\nb --config=/etc/nostat/conf.d/main.yaml",
  );
});

Deno.test("inspect with nothing to show", () => {
  assert.equal(inspect(options("v2-host", { include: [/^$/] }), QUIET), "[]");
  assert.equal(
    inspect(options("v2-host", { format: "table", include: [/^$/] }), QUIET),
    "no matching processes",
  );
});

Deno.test("inspect reports a procfs or cgroupfs that is not mounted where given", () => {
  const { procfs } = fixture("v2-host");
  assert.throws(
    () => inspect(options("v2-host", { procfs: "/nope" }), QUIET),
    (e: unknown) =>
      e instanceof UsageError &&
      e.message === "oomhero: --procfs: /nope is not a procfs mount (no /nope/self/stat)",
  );
  assert.throws(
    () => inspect(options("v2-host", { cgroupfs: procfs }), QUIET),
    (e: unknown) => e instanceof UsageError && e.input === "--cgroupfs",
  );
});
