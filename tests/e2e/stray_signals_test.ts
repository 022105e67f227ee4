/**
 * Signals sent to oomhero itself: a stray SIGUSR1 or SIGUSR2 (a second, misconfigured oomhero; a
 * `kill -USR1 -1`) or a SIGHUP must not end it, and SIGUSR1 must not open a V8 inspector on
 * 127.0.0.1:9229, which `deno run` of Deno 2.9.2 and later does. Every form we run from source
 * (the argv of scripts/runtime_flags.ts that tests and benchmarks use, and `deno task start`)
 * starts Deno under the launcher `env --block-signal=SIGUSR1`: the signal stays pending, and
 * neither Deno's inspector listener nor oomhero's own handler ever sees it. The compiled binary
 * has no such listener (README, Security), and there oomhero's handler logs it.
 */
import assert from "node:assert/strict";
import {
  oomheroArgv,
  ROOT,
  RUNTIME_ENV,
  RUNTIME_LAUNCHER,
  runtimeArgv,
} from "../../scripts/runtime_flags.ts";
import { freePort, metricValue, startOomhero, waitFor } from "../support/live_oomhero.ts";

/** The inspector port Deno would open on SIGUSR1. */
const INSPECTOR_PORT = 9229;
/** SIGUSR1's bit in the masks of /proc/<pid>/status. */
const SIGUSR1_BIT = 1n << 9n;
/**
 * `deno run` installs its SIGUSR1 listener 500 ms after start (GRACE_PERIOD in cli/worker.rs): a
 * signal sent earlier would prove nothing, so signals go to a process at least this old.
 */
const LISTENER_GRACE_MS = 1000;

/** The TCP ports `pid` listens on: its socket inodes matched to the LISTEN rows of /proc/net. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`));
      if (m !== null) inodes.add(m[1]);
    } catch { /* closed meanwhile */ }
  }
  const ports: number[] = [];
  for (const table of ["tcp", "tcp6"]) {
    const rows = Deno.readTextFileSync(`/proc/${pid}/net/${table}`).trim().split("\n").slice(1);
    for (const row of rows) {
      const f = row.trim().split(/\s+/);
      // f[1] is local address:port in hex, f[3] the state (0A = LISTEN), f[9] the inode.
      if (f[3] === "0A" && inodes.has(f[9])) ports.push(parseInt(f[1].split(":")[1], 16));
    }
  }
  return ports.sort((a, b) => a - b);
}

/** A signal mask of /proc/<pid>[/task/<tid>]/status (SigBlk, ShdPnd, …) as a bit set. */
function mask(statusFile: string, field: string): bigint {
  const m = new RegExp(`^${field}:\\s+([0-9a-f]+)$`, "m").exec(Deno.readTextFileSync(statusFile));
  if (m === null) throw new Error(`no ${field} in ${statusFile}`);
  return BigInt(`0x${m[1]}`);
}

/** Whether every thread of `pid` blocks SIGUSR1: a signal goes to any thread that does not. */
function blockedInEveryThread(pid: number): boolean {
  const threads = [...Deno.readDirSync(`/proc/${pid}/task`)];
  assert.ok(threads.length > 1, "Deno runs several threads");
  return threads.every((t) =>
    (mask(`/proc/${pid}/task/${t.name}/status`, "SigBlk") & SIGUSR1_BIT) !== 0n
  );
}

/** The pids whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) {
        children.push(Number(entry.name));
      }
    } catch { /* exited meanwhile */ }
  }
  return children;
}

/** Waits until `pid` has lived {@link LISTENER_GRACE_MS}. */
async function olderThanGrace(pid: number): Promise<void> {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  const uptime = () => Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]);
  const clockTicks = 100; // USER_HZ
  await waitFor(
    "the process to outlive Deno's listener grace period",
    () => (uptime() - ticks / clockTicks) * 1000 >= LISTENER_GRACE_MS ? true : undefined,
  );
}

/** Sends SIGUSR1 and waits until the kernel shows it pending for the process (ShdPnd). */
async function sendBlockedSigusr1(pid: number): Promise<void> {
  assert.ok(blockedInEveryThread(pid), `SIGUSR1 is not blocked in every thread of ${pid}`);
  await olderThanGrace(pid);
  Deno.kill(pid, "SIGUSR1");
  await waitFor(
    "SIGUSR1 pending",
    () => (mask(`/proc/${pid}/status`, "ShdPnd") & SIGUSR1_BIT) !== 0n ? true : undefined,
  );
}

Deno.test({
  name:
    "SIGUSR1 stays blocked and pending, SIGUSR2 and SIGHUP are logged and ignored; no inspector",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const oomhero = await startOomhero([
      "--warning=memory_usage > 75",
      "--critical=memory_usage > 90",
      "--include=^no-process-has-this-name$",
      "--loop-interval=100ms",
    ]);
    try {
      assert.deepEqual(listeningPorts(oomhero.pid), [oomhero.port]);
      await sendBlockedSigusr1(oomhero.pid);
      for (const signal of ["SIGUSR2", "SIGHUP"] as const) {
        Deno.kill(oomhero.pid, signal);
        await oomhero.waitForLog(new RegExp(` INFO  ignoring signal signal=${signal}$`));
      }
      // Still scanning after all three, and the metrics port is the only listener.
      const scans = metricValue(await oomhero.scrape(), "oomhero_scans_total");
      await oomhero.waitForMetrics(
        "more scans",
        (text) => metricValue(text, "oomhero_scans_total") > scans + 2 ? true : undefined,
      );
      assert.equal((await oomhero.get("/healthz")).status, 200);
      const ports = listeningPorts(oomhero.pid);
      assert.ok(!ports.includes(INSPECTOR_PORT), `listening on ${ports.join(", ")}`);
      assert.deepEqual(ports, [oomhero.port]);
      assert.ok(
        // " signal=": the startup line's warning_signal=SIGUSR1 is the configuration.
        !oomhero.log.some((l) => / signal=SIGUSR1|inspector|Debugger/i.test(l)),
        oomhero.describe(),
      );
    } finally {
      const status = await oomhero.stop();
      assert.equal(status.code, 0, oomhero.describe());
    }
  },
});

Deno.test({
  name: "deno task start runs oomhero under the launcher: SIGUSR1 blocked, the runtime env set",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const port = freePort();
    const task = new Deno.Command(`${ROOT}scripts/deno`, {
      args: [
        "task",
        "-q",
        "start",
        "--warning=memory_usage > 75",
        "--critical=memory_usage > 90",
        "--include=^no-process-has-this-name$",
        `--metrics-address=127.0.0.1:${port}`,
      ],
      cwd: ROOT,
      stdin: "null",
      stdout: "null",
      stderr: "null",
      env: { NO_COLOR: "1" },
    }).spawn();
    let pid: number | undefined;
    try {
      // The task runner's one child is oomhero: the launcher and scripts/deno exec, not fork.
      pid = await waitFor("oomhero under deno task", async () => {
        const children = childrenOf(task.pid);
        if (children.length !== 1) return undefined;
        const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        await response?.body?.cancel();
        let cmdline: string;
        try {
          cmdline = Deno.readTextFileSync(`/proc/${children[0]}/cmdline`);
        } catch {
          // Exited since it was listed: a passing child of the task's shell (`$(cat …)`).
          return undefined;
        }
        return response?.ok && cmdline.includes("src/main.ts") ? children[0] : undefined;
      });
      const environ = Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0");
      for (const pair of RUNTIME_ENV) assert.ok(environ.includes(pair), `${pair} not set`);
      await sendBlockedSigusr1(pid);
      const ready = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(ready.status, 200, await ready.text());
      assert.deepEqual(listeningPorts(pid), [port]);
    } finally {
      if (pid !== undefined) Deno.kill(pid, "SIGTERM");
      else task.kill("SIGKILL");
      await task.status;
    }
  },
});

Deno.test({
  name: "control: without the launcher, this Deno's `deno run` opens an inspector on SIGUSR1",
  // Deno 2.9.1 and older have no SIGUSR1 listener: nothing to show there.
  ignore: Deno.build.os !== "linux" || !listensOnSigusr1(Deno.version.deno),
  fn: async () => {
    // The argv oomhero runs with, minus the launcher: its KEY=VALUE pairs go to the environment.
    const [bin, ...args] = runtimeArgv(`${ROOT}bench/idle.ts`, [])
      .slice(RUNTIME_LAUNCHER.length + RUNTIME_ENV.length);
    const env = Object.fromEntries(RUNTIME_ENV.map((p) => p.split("=", 2)));
    const child = new Deno.Command(bin, {
      args,
      env,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr: string[] = [];
    const drained = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        stderr.push(chunk);
      }
    })();
    try {
      await olderThanGrace(child.pid);
      Deno.kill(child.pid, "SIGUSR1");
      // Either it listens on 9229, or another process on this machine holds the port and Deno
      // says it failed to start the server: the listener exists either way.
      await waitFor(
        "the inspector to open",
        () =>
          listeningPorts(child.pid).includes(INSPECTOR_PORT) ||
            /Debugger listening|Failed to start inspector server/.test(stderr.join(""))
            ? true
            : undefined,
      );
    } finally {
      child.kill("SIGKILL");
      await child.status;
      await drained;
    }
  },
});

/** Whether `deno run` of this version opens an inspector on SIGUSR1 (2.9.2 and later). */
function listensOnSigusr1(version: string): boolean {
  const [major, minor, patch] = version.split(".").map(Number);
  return major > 2 || (major === 2 && (minor > 9 || (minor === 9 && patch >= 2)));
}

// oomheroArgv is what startOomhero runs; this keeps the launcher in front of it.
Deno.test("the argv every test and benchmark runs starts with the launcher", () => {
  assert.deepEqual(oomheroArgv([]).slice(0, 2), ["env", "--block-signal=SIGUSR1"]);
});
