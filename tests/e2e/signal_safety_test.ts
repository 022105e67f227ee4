/**
 * A warning never kills: oomhero, run for real, sends SIGUSR1 only to Python processes that catch
 * it, withholds it (logged once, counted) from one without a handler and from one that ignores
 * it, sends it to a process that installs its handler later, and still sends SIGTERM as the
 * critical signal to a process without a handler. `--include` matches only these processes.
 */
import assert from "node:assert/strict";
import { lines } from "../../demo/scenario.ts";
import { metricValue, startOomhero, waitFor } from "../support/live_oomhero.ts";
import { python, running, waitForExec } from "../support/named_process.ts";
import { runOomhero } from "../support/oomhero_process.ts";

/**
 * argv[1] is the mode: `handler` catches SIGUSR1, `ignore` sets SIG_IGN, `none` leaves the
 * default. A `handle` line on stdin installs the handler later. Each signal caught is a line.
 */
const SUBJECT = `
import signal, sys
def caught(number, frame):
    print("got " + signal.Signals(number).name, flush=True)
mode = sys.argv[1]
if mode == "handler":
    signal.signal(signal.SIGUSR1, caught)
elif mode == "ignore":
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() == "handle":
        signal.signal(signal.SIGUSR1, caught)
        print("handling", flush=True)
`;

/** A Python test subject and the lines it printed. */
interface Subject {
  child: Deno.ChildProcess;
  out: string[];
  stdin: WritableStreamDefaultWriter<Uint8Array>;
  drained: Promise<void>;
}

/**
 * A unique tag for this run's subjects, and the `--include` that matches it: the bracket keeps
 * the pattern from matching oomhero's own command line, which holds the pattern.
 */
function tagged(): { tag: string; include: string } {
  const id = crypto.randomUUID().slice(0, 8);
  return { tag: `sigsafe-${id}`, include: `--include=sigsafe[-]${id}` };
}

async function startSubject(mode: string, tag: string): Promise<Subject> {
  const child = new Deno.Command(python(), {
    args: ["-c", SUBJECT, mode, tag],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out: string[] = [];
  const drained = (async () => {
    for await (const line of lines(child.stdout)) out.push(line);
  })();
  const subject = { child, out, stdin: child.stdin.getWriter(), drained };
  await waitForExec(child.pid, python().slice(python().lastIndexOf("/") + 1));
  await waitFor(`${mode} subject to be ready`, () => out.includes("ready") || undefined);
  return subject;
}

async function stopSubject(subject: Subject): Promise<void> {
  try {
    subject.child.kill("SIGKILL");
  } catch { /* exited */ }
  await subject.child.status;
  await subject.stdin.close().catch(() => {});
  await subject.drained;
}

Deno.test("SIGUSR1: sent to a handler, withheld without one, sent to a late one", async () => {
  const { tag, include } = tagged();
  const subjects = await Promise.all(
    ["handler", "none", "ignore", "later"].map((mode) => startSubject(mode, tag)),
  );
  const [handler, none, ignore, later] = subjects;
  const oomhero = await startOomhero(["--warning=1", "--critical=0", include]);
  try {
    await waitFor(
      "the handler to catch SIGUSR1",
      () => handler.out.includes("got SIGUSR1") || undefined,
      {
        describe: oomhero.describe,
      },
    );
    await oomhero.waitForLog(
      new RegExp(`does not handle SIGUSR1; not sent pid=${none.child.pid} `),
    );
    await oomhero.waitForLog(new RegExp(`ignores SIGUSR1; not sent pid=${ignore.child.pid} `));
    // Withheld signals are retried about once a second: two rounds for each, logged once.
    const withheld = (reason: string) => (exposition: string) => {
      const n = metricValue(exposition, "oomhero_signals_withheld_total", {
        severity: "warning",
        signal: "SIGUSR1",
        reason,
      });
      return n >= 4 ? n : undefined;
    };
    await oomhero.waitForMetrics("two withheld rounds for none and later", withheld("not_handled"));
    const ignored = await oomhero.scrape();
    assert.ok(metricValue(ignored, "oomhero_signals_withheld_total", { reason: "ignored" }) >= 1);
    for (const s of [none, ignore, later]) assert.ok(await running(s.child), "still running");
    const notices = (pid: number) =>
      oomhero.log.filter((l) => l.includes("not sent") && l.includes(`pid=${pid} `));
    assert.equal(notices(none.child.pid).length, 1, oomhero.describe());
    assert.match(
      notices(none.child.pid)[0],
      // The command line is the bounded one of every log line: the program, then a short tail.
      /^\S+ WARN .* cmdline="\S*python\S* .* reason=not_handled/,
    );
    assert.match(notices(ignore.child.pid)[0], /reason=ignored/);
    assert.equal(notices(later.child.pid).length, 1, oomhero.describe());
    // No sticky verdict: the next try after the handler is installed sends it.
    await later.stdin.write(new TextEncoder().encode("handle\n"));
    await waitFor(
      "the late handler to catch SIGUSR1",
      () => later.out.includes("got SIGUSR1") || undefined,
      {
        timeoutMs: 10_000,
        describe: oomhero.describe,
      },
    );
    assert.ok(!none.out.includes("got SIGUSR1"));
  } finally {
    await oomhero.stop();
    await Promise.all(subjects.map(stopSubject));
  }
});

Deno.test("SIGTERM as the critical signal still reaches a process without a handler", async () => {
  const { tag, include } = tagged();
  const none = await startSubject("none", tag);
  const oomhero = await startOomhero([
    "--warning=0",
    "--critical=1",
    "--critical-signal=SIGTERM",
    include,
  ]);
  try {
    const status = await none.child.status;
    assert.equal(status.signal, "SIGTERM");
    await oomhero.waitForLog(new RegExp(`signal sent pid=${none.child.pid} .*signal=SIGTERM`));
  } finally {
    await oomhero.stop();
    await stopSubject(none);
  }
});

Deno.test("inspect shows how each process treats the configured signals", async () => {
  const { tag, include } = tagged();
  const subjects = await Promise.all(
    ["handler", "none", "ignore"].map((mode) => startSubject(mode, tag)),
  );
  try {
    const json = await runOomhero(["inspect", "--format=json", "--sample=0", include]);
    assert.equal(json.code, 0, json.stderr);
    const byPid = new Map(
      (JSON.parse(json.stdout) as { pid: number; signals: Record<string, string> }[])
        .map((p) => [p.pid, p.signals]),
    );
    const [handler, none, ignore] = subjects.map((s) => byPid.get(s.child.pid));
    assert.deepEqual(handler, { SIGUSR1: "caught", SIGUSR2: "not_handled" });
    assert.deepEqual(none, { SIGUSR1: "not_handled", SIGUSR2: "not_handled" });
    assert.deepEqual(ignore, { SIGUSR1: "ignored", SIGUSR2: "not_handled" });
    const table = await runOomhero([
      "inspect",
      "--sample=0",
      "--critical-signal=SIGTERM",
      include,
    ]);
    assert.equal(table.code, 0, table.stderr);
    const pid = subjects[0].child.pid;
    const row = table.stdout.split("\n").find((l) => l.trimStart().startsWith(`${pid} `));
    assert.ok(row, table.stdout);
    assert.match(row, /USR1:caught TERM:not_handled$/);
  } finally {
    await Promise.all(subjects.map(stopSubject));
  }
});
