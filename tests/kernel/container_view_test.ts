/**
 * The sidecar's container view of a pod, on v1, v2 and hybrid trees (tests/support/pod_fixture.ts):
 * a limit set on the pod only, a pod limit smaller than the container's, a process moved into a
 * sub-cgroup, to a sibling, out of its container or into a removed cgroup, a /proc/<pid>/root
 * we may not read, oomhero's own container and a host process. Each reads the kernel's figures,
 * or says precisely that it cannot, and never reads 0 for what it could not see.
 */
import assert from "node:assert/strict";
import { inspect } from "../../src/scan/inspect.ts";
import { Logger } from "../../src/base/log.ts";
import { asNobody, nobodyUnavailable, openToNobody } from "../support/as_nobody.ts";
import { ROOT } from "../support/oomhero_process.ts";
import { runtimeArgv } from "../../scripts/runtime_flags.ts";
import type { Scans } from "../support/collector_scans.ts";
import {
  APP_PID,
  buildPod,
  HOST_PID,
  type Pod,
  type PodLayout,
  type PodSpec,
  PSI_TAG,
  SHELL_PID,
} from "../support/pod_fixture.ts";

const MIB = 1024 * 1024;
const LAYOUTS: readonly PodLayout[] = ["v1", "v2", "hybrid"];

function withPod(spec: PodSpec, fn: (pod: Pod) => void | Promise<void>): Promise<void> {
  const pod = buildPod(spec);
  return (async () => {
    try {
      await fn(pod);
    } finally {
      pod.remove();
    }
  })();
}

/** The per-process warnings as [pid, reason]. */
function warned(lines: Record<string, unknown>[]): [unknown, unknown][] {
  return lines.filter((l) => l.level === "warn" && l.pid !== undefined).map((l) => [
    l.pid,
    l.reason,
  ]);
}

for (const layout of LAYOUTS) {
  const v1Memory = layout !== "v2";

  Deno.test(`${layout} container view: a limit set only on the pod`, () =>
    withPod({ layout, podLimit: 300 * MIB }, (pod) => {
      const lines: Record<string, unknown>[] = [];
      const app = pod.scan(pod.collector(lines)).get(APP_PID)!;
      assert.equal(app.source.view, "container");
      assert.equal(app.source.memoryDir, pod.appMount);
      assert.equal(app.variables.memory_current, 150 * MIB);
      if (v1Memory) {
        // v1 states the limit it enforces, however little of the tree this view shows.
        assert.equal(app.variables.memory_max, 300 * MIB);
        assert.equal(app.variables.memory_usage, 50);
        assert.equal(app.source.memoryMaxScope, "effective");
        assert.match(app.source.limitDir, /above .* hierarchical_memory_limit/);
      } else {
        // v2 hides the pod's cgroup from the container: no limit of its own, and it says so.
        assert.equal(app.variables.memory_max, 0);
        assert.equal(app.source.memoryMaxScope, "own");
        assert.deepEqual(lines.filter((l) => l.level === "warn").map((l) => l.msg), [
          "memory limits set above a container's own cgroup cannot be seen",
        ]);
      }
      assert.deepEqual(warned(lines), []);
    }));

  Deno.test(`${layout} container view: a pod limit smaller than the container's`, () =>
    withPod({ layout, podLimit: 300 * MIB, appLimit: 400 * MIB }, (pod) => {
      const app = pod.scan(pod.collector([])).get(APP_PID)!;
      assert.equal(app.variables.memory_max, v1Memory ? 300 * MIB : 400 * MIB);
      assert.equal(app.source.memoryMaxScope, v1Memory ? "effective" : "own");
      if (!v1Memory) assert.equal(app.source.limitDir, pod.appMount);
    }));

  Deno.test(`${layout} container view: a move into a sub-cgroup shows within one scan`, () =>
    withPod(
      { layout, podLimit: 300 * MIB, appLimit: 400 * MIB, appChildren: { sub: 128 * MIB } },
      (pod) => {
        const lines: Record<string, unknown>[] = [];
        const collector = pod.collector(lines);
        assert.equal(pod.scan(collector).get(APP_PID)!.variables.memory_current, 150 * MIB);
        pod.move("sub");
        const app = pod.scan(collector).get(APP_PID)!;
        assert.equal(app.source.memoryDir, `${pod.appMount}/sub`);
        assert.equal(app.variables.memory_current, 60 * MIB);
        assert.equal(app.variables.memory_max, 128 * MIB);
        assert.equal(app.source.limitDir, `${pod.appMount}/sub`);
        if (layout !== "v1") {
          assert.equal(app.variables.memory_pressure_some_avg10, PSI_TAG.child);
        }
        // And back.
        pod.move("");
        assert.equal(pod.scan(collector).get(APP_PID)!.source.memoryDir, pod.appMount);
        assert.deepEqual(warned(lines), []);
      },
    ));

  Deno.test(`${layout} container view: a move to a sibling cgroup shows within one scan`, () =>
    withPod(
      { layout, podLimit: 300 * MIB, appChildren: { a: undefined, b: 100 * MIB }, appAt: "a" },
      (pod) => {
        const collector = pod.collector([]);
        const before = pod.scan(collector).get(APP_PID)!;
        assert.equal(before.source.memoryDir, `${pod.appMount}/a`);
        assert.equal(before.variables.memory_max, v1Memory ? 300 * MIB : 0);
        pod.move("b");
        const after = pod.scan(collector).get(APP_PID)!;
        assert.equal(after.source.memoryDir, `${pod.appMount}/b`);
        assert.equal(after.variables.memory_max, 100 * MIB);
      },
    ));

  Deno.test(`${layout} container view: a cgroup removed or out of sight is unreadable, never 0`, () =>
    withPod({ layout, podLimit: 300 * MIB }, (pod) => {
      const lines: Record<string, unknown>[] = [];
      const collector = pod.collector(lines);
      pod.scan(collector);
      pod.move("gone");
      const removed = pod.scan(collector).get(APP_PID)!;
      assert.ok(Number.isNaN(removed.variables.memory_current));
      assert.ok(Number.isNaN(removed.variables.memory_max));
      assert.ok(Number.isNaN(removed.variables.memory_usage));
      assert.equal(removed.variables.oom_score, APP_PID);
      const gone = `${pod.appMount}/gone`;
      assert.deepEqual(
        removed.unreadable?.[0],
        `cgroup ${pathOf(layout, "gone")}: ${gone} not found (removed, or the process moved on)`,
      );
      pod.moveOut("other");
      const out = pod.scan(collector).get(APP_PID)!;
      assert.ok(Number.isNaN(out.variables.memory_current));
      assert.match(out.unreadable![0], /is outside the process's own memory cgroup mount/);
      // Pressure is not the system's either, except on v1, which has no other.
      assert.equal(Number.isNaN(out.variables.memory_pressure_some_avg10), layout !== "v1");
      for (const [, reason] of warned(lines)) assert.doesNotMatch(String(reason), /neither/);
    }));

  Deno.test(`${layout}: oomhero's own container is read through its own mount's root`, () =>
    withPod({ layout, podLimit: 300 * MIB }, (pod) => {
      const lines: Record<string, unknown>[] = [];
      const shell = pod.scan(pod.collector(lines)).get(SHELL_PID)!;
      assert.equal(shell.source.view, "host");
      assert.equal(shell.source.memoryDir, v1Memory ? `${pod.cgroupfs}/memory` : pod.cgroupfs);
      assert.equal(shell.variables.memory_current, 30 * MIB);
      assert.equal(shell.variables.memory_max, v1Memory ? 300 * MIB : 0);
      assert.deepEqual(warned(lines), []);
    }));
}

/** The application's path from /proc/<pid>/cgroup in the layout, below its container's. */
function pathOf(layout: PodLayout, below: string): string {
  return `${layout === "v1" ? "/kubepods/pod1/app" : "/../app"}/${below}`;
}

Deno.test("v2: a host process seen from a private cgroup namespace has every limit above it", () =>
  withPod({ layout: "v2", podLimit: 300 * MIB }, (pod) => {
    const lines: Record<string, unknown>[] = [];
    const host = pod.scan(pod.collector(lines)).get(HOST_PID)!;
    const root = `${pod.procfs}/${HOST_PID}/root/sys/fs/cgroup`;
    assert.equal(host.source.memoryDir, `${root}/system.slice/kubelet.service`);
    assert.equal(host.variables.memory_max, 512 * MIB);
    assert.equal(host.source.limitDir, `${root}/system.slice`);
    // The walk reached the real root: nothing above was missed.
    assert.equal(host.source.memoryMaxScope, "effective");
    assert.equal(host.variables.memory_pressure_some_avg10, PSI_TAG.host);
    assert.deepEqual(warned(lines), []);
  }));

Deno.test("v2: with the node's cgroup2 tree mounted beside ours, the pod's limit is seen", () =>
  withPod({ layout: "v2", podLimit: 300 * MIB, hostTree: true }, (pod) => {
    const lines: Record<string, unknown>[] = [];
    const s = pod.scan(pod.collector(lines, `${pod.dir}/host`));
    const app = s.get(APP_PID)!;
    assert.equal(app.source.view, "host");
    assert.equal(app.source.memoryDir, `${pod.dir}/host/kubepods/pod1/app`);
    assert.equal(app.variables.memory_max, 300 * MIB);
    assert.equal(app.variables.memory_usage, 50);
    assert.equal(app.source.limitDir, `${pod.dir}/host/kubepods/pod1`);
    assert.equal(app.source.memoryMaxScope, "effective");
    assert.equal(app.variables.memory_pressure_some_avg10, PSI_TAG.app);
    // Our own container, through the same tree.
    assert.equal(s.get(SHELL_PID)!.source.memoryDir, `${pod.dir}/host/kubepods/pod1/sidecar`);
    assert.equal(s.get(SHELL_PID)!.variables.memory_max, 300 * MIB);
    assert.deepEqual(lines.filter((l) => l.level === "warn"), []);
  }));

Deno.test("inspect says what a v2 container view cannot see, in words and in JSON", async () => {
  await withPod({ layout: "v2", podLimit: 300 * MIB }, async (pod) => {
    const options = {
      procfs: pod.procfs,
      cgroupfs: pod.cgroupfs,
      pids: [APP_PID],
      include: [],
      sampleMs: 0,
    };
    const quiet = new Logger("error");
    const table = await inspect({ ...options, format: "table" }, quiet);
    assert.match(
      table,
      /limit scope {6}own: only the container's own cgroup and below can be seen from this view; a smaller limit set above it \(the pod's\) would not show/,
    );
    assert.match(table, /no memory limit of its own: memory_max and memory_usage read 0/);
    const [app] = JSON.parse(await inspect({ ...options, format: "json" }, quiet));
    assert.equal(app.memory_max_scope, "own");
    assert.equal(app.memory_max, 0);
  });
});

const NOBODY_SKIP = nobodyUnavailable();

for (const layout of LAYOUTS) {
  Deno.test({
    name: `${layout}: /proc/<pid>/root refused is a missing CAP_SYS_PTRACE, figures unreadable`,
    ignore: NOBODY_SKIP !== undefined,
    fn: () =>
      withPod({ layout, podLimit: 300 * MIB }, (pod) => {
        openToNobody(pod.dir);
        pod.lockRoot();
        const scans = scanAsNobody(pod);
        const app = scans.scans[1].find((s) => s.pid === APP_PID)!;
        const reason = `${pod.procfs}/${APP_PID}/root: permission denied: oomhero lacks ` +
          "CAP_SYS_PTRACE, which reading another container's cgroup through /proc/<pid>/root needs";
        assert.deepEqual(app.unreadable, [reason]);
        // NaN arrives as null through JSON: unreadable, not 0 and not the system's pressure.
        assert.equal(app.variables.memory_max, null);
        assert.equal(app.variables.memory_current, null);
        assert.equal(app.variables.memory_pressure_some_avg10, layout === "v1" ? 0.1 : null);
        assert.equal(app.variables.oom_score, APP_PID);
        // Once, across both scans.
        assert.deepEqual(
          scans.warnings.filter((w) => w.pid === APP_PID).map((w) => w.reason),
          [reason],
        );
      }),
  });
}

/** Two scans of the pod by a collector running as nobody, where file modes apply. */
function scanAsNobody(pod: Pod): Scans {
  const nobody = asNobody();
  try {
    const out = new Deno.Command(nobody.prefix[0], {
      args: [
        ...nobody.prefix.slice(1),
        ...runtimeArgv(`${ROOT}tests/support/collector_scans.ts`, [
          pod.procfs,
          pod.cgroupfs,
          "20",
          "2",
        ]),
      ],
      env: { ...nobody.env, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    const dec = new TextDecoder();
    assert.ok(out.success, dec.decode(out.stderr));
    return JSON.parse(dec.decode(out.stdout));
  } finally {
    nobody.cleanup();
  }
}
