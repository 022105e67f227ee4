/**
 * oomhero's own memory limit, read from its own cgroup at startup (fixtures of both cgroup
 * versions), warned about below what it was measured to need. tests/kernel/own_limit_test.ts runs
 * it for real.
 */
import assert from "node:assert/strict";
import { Collector } from "../../../src/collect/collector.ts";
import { Logger } from "../../../src/base/log.ts";
import { checkOwnLimit, NEEDED_MEMORY_BYTES } from "../../../src/report/own_limit.ts";
import { fixture, type FixtureLayout } from "../../support/fixture_paths.ts";

const MIB = 1024 * 1024;

/** checkOwnLimit on the fixture's oomhero (`self`), with what it logged. */
function check(layout: FixtureLayout, self: number): { limit: number; logs: string[] } {
  const logs: string[] = [];
  const log = new Logger("debug", "text", (l) => logs.push(l));
  const collector = new Collector({ ...fixture(layout), log: new Logger("error"), selfPid: self });
  return { limit: checkOwnLimit(collector.collect(self), log), logs };
}

Deno.test("a v2 limit below what oomhero needs warns once with the figure to set", () => {
  // The v2 container fixture: oomhero (pid 31) in a pod cgroup limited to 64 MiB.
  const { limit, logs } = check("v2-container", 31);
  assert.equal(limit, 64 * MIB);
  assert.equal(logs.length, 1);
  assert.match(
    logs[0],
    new RegExp(
      "WARN +oomhero's memory limit is below what it needs: it may stall or be OOM-killed " +
        'limit=64Mi needed=80Mi .*fix="set oomhero.s memory limit \\(resources.limits.memory\\) ' +
        'to at least 80Mi"',
    ),
  );
  assert.equal(NEEDED_MEMORY_BYTES, 80 * MIB);
});

Deno.test("a cgroup v1 limit that is enough, or none, is no warning", () => {
  const v1 = check("v1-container", 50);
  assert.equal(v1.limit, 256 * MIB);
  assert.deepEqual(v1.logs.filter((l) => / WARN /.test(l)), []);
  const none = check("v2-host", 105);
  assert.equal(none.limit, 0);
  assert.match(none.logs.join("\n"), /DEBUG oomhero runs without a memory limit/);
});

Deno.test("an unreadable own limit is a warning with its cause, and NaN", () => {
  const logs: string[] = [];
  const log = new Logger("debug", "text", (l) => logs.push(l));
  assert.ok(Number.isNaN(checkOwnLimit(undefined, log)));
  assert.match(logs[0], /WARN +cannot read oomhero's own memory limit error=/);
  const collector = new Collector({ ...fixture("v2-host"), log: new Logger("error") });
  // Any sample will do: its limit is made unreadable here.
  const broken = collector.collect(102);
  assert.ok(broken !== undefined);
  broken.variables.memory_max = NaN;
  broken.unreadable = ["/x/memory.max: permission denied"];
  assert.ok(Number.isNaN(checkOwnLimit(broken, log)));
  assert.match(logs[1], /error="\/x\/memory.max: permission denied"/);
});
