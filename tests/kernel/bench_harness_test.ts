/**
 * The benchmark harness measures what it claims: the C floor samples the same processes as the
 * collector, the real processes it starts are where it says, and gone after, and a contained
 * oomhero is one process charged for its own runtime.
 */
import assert from "node:assert/strict";
import { Collector } from "../../src/collect/collector.ts";
import { Logger } from "../../src/base/log.ts";
import { generateTree, removeTree } from "../../bench/fixture_tree.ts";
import { Container } from "../../bench/container.ts";
import { floorBinary } from "../../bench/floor.ts";
import { scanFiles } from "../../bench/reads.ts";
import { NO_NEEDS } from "../../src/collect/needs.ts";
import { SleepingProcesses } from "../../bench/real_processes.ts";

Deno.test("the C floor samples exactly the processes the collector samples", () => {
  const tree = generateTree({ processes: 30, pods: 2, containersPerPod: 3 });
  try {
    // A kernel thread: no command line, skipped by both.
    Deno.mkdirSync(`${tree.procfs}/2`);
    Deno.writeTextFileSync(
      `${tree.procfs}/2/stat`,
      "2 (kthreadd) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 3 0 0\n",
    );
    Deno.writeTextFileSync(`${tree.procfs}/2/cmdline`, "");
    const collector = new Collector({
      procfs: tree.procfs,
      cgroupfs: tree.cgroupfs,
      log: new Logger("error"),
    });
    const out = new Deno.Command(floorBinary(), {
      args: ["--procfs", tree.procfs, "--cgroupfs", tree.cgroupfs, "scan", "1"],
    }).outputSync();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const floor = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(collector.scan().length, 30);
    assert.equal(floor.processes, 30);
  } finally {
    removeTree(tree);
  }
});

Deno.test("deno-reads reads the files a scan of memory_usage thresholds reads", () => {
  const tree = generateTree({ processes: 12, pods: 2, containersPerPod: 2 });
  const openSync = Deno.openSync;
  try {
    const collector = new Collector({
      procfs: tree.procfs,
      cgroupfs: tree.cgroupfs,
      log: new Logger("error"),
    });
    // What thresholds on memory_usage (the benchmark's) and the metrics' memory gauges read.
    const needs = { ...NO_NEEDS, memory: true };
    collector.scan(undefined, needs);
    const opened = new Set<string>();
    Deno.openSync = (path, options) => {
      const file = openSync(path, options);
      opened.add(String(path));
      return file;
    };
    assert.equal(collector.scan(undefined, needs).length, 12);
    Deno.openSync = openSync;
    // A fixture tree keeps no descriptor, so the collector reads each stat to know a process
    // again, where the kernel's procfs lets it keep the cgroup file's; loadavg, which tells that
    // no pid was allocated since, is read only in a PID namespace of its own.
    const identifying = /\/(stat|cmdline)$/;
    const scanned = [...opened].filter((path) => !identifying.test(path)).sort();
    const reads = scanFiles(tree.procfs, tree.cgroupfs).map((f) => f.path);
    assert.equal(reads[0], `${tree.procfs}/loadavg`);
    assert.deepEqual(reads.slice(1).sort(), scanned);
  } finally {
    Deno.openSync = openSync;
    removeTree(tree);
  }
});

Deno.test("SleepingProcesses spreads real sleeps over memory cgroups and removes them", async () => {
  const sleepers = await SleepingProcesses.start(7, 3);
  let dirs: string[] = [];
  try {
    dirs = sleepers.cgroups.map((cgroup) => cgroup.dir);
    assert.equal(sleepers.cgroups.length, 3);
    const perGroup = sleepers.cgroups.map((cgroup) =>
      Deno.readTextFileSync(`${cgroup.dir}/cgroup.procs`).split("\n").filter(Boolean).length
    );
    assert.deepEqual(perGroup, [3, 2, 2]);
    for (const pid of sleepers.pids()) {
      assert.equal(Deno.readTextFileSync(`/proc/${pid}/comm`).trim(), "sleep");
    }
  } finally {
    await sleepers.stop();
  }
  for (const dir of dirs) assert.throws(() => Deno.statSync(dir), Deno.errors.NotFound);
});

Deno.test({
  name: "Container runs oomhero alone in a memory cgroup of its own, from a cold copy of Deno",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    // Outside a PID namespace this machine may run thousands of processes: watch none of them.
    const container = await Container.start(Infinity, "100ms", {}, {
      args: ["--include=^no-process-has-this-name$"],
    });
    const dir = container.cgroup.dir;
    let exe = "";
    try {
      assert.equal(container.failure, "");
      const pid = container.subject!.child.pid;
      // One process, the Deno copy itself: the wrapper's sh and the launcher exec'd into it.
      assert.deepEqual(container.pids(), [pid]);
      exe = Deno.readLinkSync(`/proc/${pid}/exe`);
      assert.match(exe, /^\/var\/tmp\/oomhero-bench-deno-[^/]+\/deno$/);
      const status = Deno.readTextFileSync(`/proc/${pid}/status`);
      assert.ok((BigInt(`0x${/^SigBlk:\s+(\w+)$/m.exec(status)![1]}`) & (1n << 9n)) !== 0n);
      // The runtime's pages it touched are charged here: they were in no page cache before.
      assert.ok(container.figures().mappedFileMib > 10, JSON.stringify(container.figures()));
    } finally {
      await container.stop();
    }
    assert.throws(() => Deno.statSync(dir), Deno.errors.NotFound);
    assert.throws(() => Deno.statSync(exe), Deno.errors.NotFound);
  },
});
