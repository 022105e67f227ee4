/**
 * The product's reason to exist, on the real kernel: an app that listens to oomhero survives a
 * memory limit that kills the same app without it. Asserts the kernel's own OOM-kill counters.
 */
import assert from "node:assert/strict";
import { type MemoryCgroup, withMemoryCgroup } from "../../demo/memory_cgroup.ts";
import { runScenario } from "../../demo/scenario.ts";

const MIB = 1024 * 1024;
/**
 * Leaks 40 MiB/s: without help it reaches the 192 MiB limit in about four seconds. Between the
 * critical threshold and the limit lie 29 MiB, some 700 ms of growth: room for a 100 ms loop
 * and the app's own reaction on a busy machine.
 */
const APP = ["--step-mib", "2", "--every-ms", "50", "--seconds", "36"];
const OOMHERO = [
  "--warning=memory_usage > 70",
  "--critical=memory_usage > 85",
  "--loop-interval=100ms",
  "--cooldown-interval=3s",
  // This test's app alone, not another test's or the soak's.
  `--include=demo/app\\.ts ${APP.join(" ")}$`,
  "--metrics-address=",
];

function inCgroup<T>(fn: (cg: MemoryCgroup) => Promise<T>): Promise<T> {
  return withMemoryCgroup("oomhero-test", 192 * MIB, fn);
}

Deno.test("an app watched by oomhero survives 10+ warning/critical cycles without an OOM kill", async () => {
  const r = await inCgroup((cg) => runScenario(cg, { appArgs: APP, oomheroArgs: OOMHERO }));
  assert.equal(r.oomKills, 0, "the kernel's oom_kill counter");
  assert.equal(r.exitCode, 0);
  // A cycle: the app grows past a threshold, is signalled, sheds and grows again.
  assert.ok(r.handled.warning >= 1, `warnings handled: ${r.handled.warning}`);
  assert.ok(r.handled.critical >= 1, `criticals handled: ${r.handled.critical}`);
  assert.ok(r.handled.warning + r.handled.critical >= 10, `cycles: ${JSON.stringify(r.handled)}`);
});

Deno.test("the same app and limit without oomhero is OOM-killed", async () => {
  const r = await inCgroup((cg) => runScenario(cg, { appArgs: APP }));
  assert.ok(r.oomKills >= 1, "the kernel's oom_kill counter");
  assert.equal(r.exitSignal, "SIGKILL");
});
