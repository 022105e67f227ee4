/**
 * Predictive thresholds on the real kernel: a leak in a memory-limited cgroup is warned about
 * where it is heading (memory_seconds_to_limit) while memory_usage is still far from the
 * critical 90 %, the app sheds memory, and the kernel's OOM killer never fires. Needs root and a
 * writable cgroupfs, as tests/kernel/survival_test.ts does.
 */
import assert from "node:assert/strict";
import { withMemoryCgroup } from "../../demo/memory_cgroup.ts";
import { appArgv, lines, runScenario } from "../../demo/scenario.ts";
import { NEVER_SECONDS } from "../../src/collect/trend.ts";
import { runOomhero } from "../support/oomhero_process.ts";

const MIB = 1024 * 1024;
const LIMIT = 192 * MIB;
/** 1 MiB every 50 ms: from the app's start to the limit in well under 10 s. */
const LEAK = ["--step-mib", "1", "--every-ms", "50", "--seconds", "10"];

Deno.test("kernel: a 20 MiB/s leak is warned by memory_seconds_to_limit well before 90 %, and survives", async () => {
  const logs: Record<string, unknown>[] = [];
  const r = await withMemoryCgroup("oomhero-trend", LIMIT, (cgroup) =>
    runScenario(cgroup, {
      appArgs: LEAK,
      oomheroArgs: [
        // `memory_usage > 0` holds whenever seconds-to-limit is measured (that needs a limit);
        // it is there so that the signal's log line carries memory_usage.
        "--warning=memory_seconds_to_limit < 20 && memory_usage > 0",
        "--critical=memory_usage > 90",
        "--trend-window=5s",
        "--loop-interval=100ms",
        "--cooldown-interval=2s",
        // This app only, by its arguments: other demo apps may run on the machine.
        `--include=demo/app\\.ts ${LEAK.join(" ")}$`,
        "--metrics-address=",
        "--log-format=json",
      ],
      onOomheroLine: (line) => logs.push(JSON.parse(line)),
    }));
  const signals = logs.filter((l) => l.msg === "signal sent");
  const first = signals[0];
  assert.ok(
    first,
    `no signal sent; oomhero logged:\n${logs.map((l) => JSON.stringify(l)).join("\n")}`,
  );
  assert.equal(first.severity, "warning", JSON.stringify(first));
  assert.ok((first.memory_seconds_to_limit as number) < 20, JSON.stringify(first));
  assert.ok((first.memory_usage as number) < 80, `warned only at ${first.memory_usage} %`);
  assert.ok(r.handled.warning >= 1, `warnings handled: ${r.handled.warning}`);
  assert.equal(r.oomKills, 0, "the kernel's oom_kill counter");
  assert.equal(r.exitCode, 0);
});

Deno.test("kernel: inspect --sample measures a growing process against its cgroup's limit", async () => {
  await withMemoryCgroup("oomhero-trend", LIMIT, async (cgroup) => {
    // 10 MiB/s: far from the limit for the whole run.
    const [bin, ...args] = cgroup.wrap(
      appArgv(["--step-mib", "1", "--every-ms", "100", "--seconds", "60"]),
    );
    const app = new Deno.Command(bin, { args, stdin: "null", stdout: "piped", stderr: "inherit" })
      .spawn();
    const output = lines(app.stdout);
    try {
      // The app's first line says it has started growing.
      const first = await output.next();
      assert.match(first.done ? "" : first.value, /growing/);
      const r = await runOomhero(["inspect", "--format=json", "--sample=2s", `--pid=${app.pid}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /sampling to measure the growth variables sample=2s/);
      const [p] = JSON.parse(r.stdout);
      assert.equal(p.pid, app.pid);
      assert.equal(p.memory_max, LIMIT);
      assert.ok(p.memory_growth_rate > 0, `rate ${p.memory_growth_rate}`);
      assert.ok(
        p.memory_growth_rate < 2 * 10 * MIB,
        `rate ${p.memory_growth_rate}: over 2× the leak`,
      );
      assert.ok(p.memory_usage_delta_10s > 0);
      assert.ok(p.memory_seconds_to_limit < NEVER_SECONDS);
      const left = (p.memory_max - p.memory_current) / p.memory_growth_rate;
      assert.ok(Math.abs(p.memory_seconds_to_limit - left) < 1e-6 * left);
    } finally {
      app.kill("SIGKILL");
      await app.status;
      for await (const _ of output) { /* drain */ }
    }
  });
});
