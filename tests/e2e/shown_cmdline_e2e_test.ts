/**
 * Through the real CLI, a process whose 2 KB command line carries a JSON blob of environment
 * values: the signal line (at warn, in dry run) and `inspect --format json` show it bounded, the
 * secret at its end in neither, and the `inspect` table shows the program's base name and
 * arguments. The startup line names the signals.
 */
import assert from "node:assert/strict";
import { startOomhero, waitFor } from "../support/live_oomhero.ts";
import { stopNamed } from "../support/named_process.ts";
import { runOomhero } from "../support/oomhero_process.ts";
import { SHOWN_TAIL_MAX } from "../../src/base/shown_cmdline.ts";

const SECRET = `s3cr3t-${crypto.randomUUID().slice(0, 8)}`;
const MARKER = `oomhero-shown-cmdline-${crypto.randomUUID().slice(0, 8)}`;
const BLOB = JSON.stringify({ PAD: "x".repeat(2000), DB_PASSWORD: SECRET });

/**
 * A Deno process that handles the signals the test names (a dry run sends none anyway), with the
 * marker and the blob as its arguments.
 */
async function target(): Promise<Deno.ChildProcess> {
  const code = 'Deno.addSignalListener("SIGUSR2", () => {});' +
    'Deno.addSignalListener("SIGHUP", () => {}); setInterval(() => {}, 1e6);';
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code, MARKER, "--env", BLOB],
    stdin: "null",
    stdout: "null",
  }).spawn();
  await waitFor("the target's command line", () => {
    try {
      return Deno.readTextFileSync(`/proc/${child.pid}/cmdline`).includes(MARKER) || undefined;
    } catch {
      return undefined;
    }
  });
  return child;
}

Deno.test("cli shows a 2 KB command line bounded in logs and inspect, the startup line the signals", async () => {
  const child = await target();
  try {
    const oomhero = await startOomhero([
      "--warning=memory_current >= 0",
      "--critical=memory_current < 0",
      // Only the target: its arguments hold the marker.
      `--include=${MARKER} --env`,
      "--warning-signal=SIGUSR2",
      "--critical-signal=SIGHUP",
      "--loop-interval=50ms",
      "--dry-run",
    ], { metrics: false });
    try {
      const line = await oomhero.waitForLog(/would send signal/);
      assert.match(line, / WARN {2}would send signal \(dry run\) pid=\d+ cmdline="/);
      assert.ok(!line.includes(SECRET), line);
      const cmdline = JSON.parse(/ cmdline=("(?:[^"\\]|\\.)*")/.exec(line)![1]);
      assert.ok(cmdline.startsWith(`${Deno.execPath()} eval `), cmdline);
      assert.match(cmdline, /…\(\+\d+ chars\)$/);
      assert.ok(cmdline.length < Deno.execPath().length + SHOWN_TAIL_MAX + 20, cmdline);
      const started = oomhero.log.find((l) => l.includes("oomhero started")) ?? "";
      assert.match(started, / warning_signal=SIGUSR2 critical_signal=SIGHUP( |$)/);
    } finally {
      assert.equal((await oomhero.stop()).code, 0);
    }

    const json = await runOomhero(["inspect", `--pid=${child.pid}`, "--format=json", "--sample=0"]);
    assert.equal(json.code, 0, json.stderr);
    assert.ok(!json.stdout.includes(SECRET), json.stdout);
    const [shown] = JSON.parse(json.stdout);
    assert.match(shown.cmdline, new RegExp(`^\\S+/deno eval .*…\\(\\+\\d+ chars\\)$`));

    const table = await runOomhero(["inspect", `--pid=${child.pid}`, "--sample=0"]);
    assert.equal(table.code, 0, table.stderr);
    const row = table.stdout.split("\n")[1];
    assert.match(
      row,
      new RegExp(`^\\s*${child.pid}  deno eval Deno\\.addSignalListener\\("SIGUS…  `),
    );
  } finally {
    await stopNamed(child);
  }
});
