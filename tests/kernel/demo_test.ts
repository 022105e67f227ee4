/**
 * `deno task demo` as a non-root user, where it cannot make a memory cgroup and shows oomhero's
 * evaluation in dry-run mode instead: its banner names the expressions that mode uses, and each
 * signal line shows the figures those expressions read, never NaN.
 */
import assert from "node:assert/strict";
import { asNobody, nobodyUnavailable } from "../support/as_nobody.ts";
import { ROOT } from "../support/oomhero_process.ts";

const unavailable = nobodyUnavailable();

Deno.test({
  name: "demo as non-root: the dry-run banner and signal lines say what oomhero evaluates",
  ignore: unavailable !== undefined,
  fn() {
    const nobody = asNobody();
    try {
      // The demo's oomhero watches only the demo's own app (--include=demo/app\.ts), in dry run.
      const out = new Deno.Command(nobody.prefix[0], {
        args: [...nobody.prefix.slice(1), Deno.execPath(), "run", "--allow-all", "demo/run.ts"],
        cwd: ROOT,
        env: { ...nobody.env, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).outputSync();
      const stdout = new TextDecoder().decode(out.stdout);
      const report = `${stdout}\n${new TextDecoder().decode(out.stderr)}`;
      assert.ok(out.success, report);
      assert.match(stdout, /^No memory cgroup for the demo \(not running as root\)/, report);
      assert.ok(
        stdout.includes(
          'oomhero: --warning "memory_working_set > 64Mi" ' +
            '--critical "memory_working_set > 96Mi" --loop-interval 100ms --dry-run',
        ),
        report,
      );
      // The expressions of the cgroup run are not the ones used here.
      assert.ok(!stdout.includes("memory_usage > 70"), report);
      assert.ok(!stdout.includes("NaN"), report);
      // The app adds 160 MiB to its cgroup's working set: the critical threshold is crossed.
      const signals = stdout.split("\n").filter((l) => l.includes("[oomhero] "));
      assert.ok(signals.some((l) => l.includes("critical:")), report);
      for (const line of signals) {
        assert.match(
          line,
          /^ {2}\[oomhero\] (warning|critical): SIG\w+ to pid \d+ \(dry run\), memory_working_set=\d+$/,
          report,
        );
      }
    } finally {
      nobody.cleanup();
    }
  },
});
