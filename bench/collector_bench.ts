/**
 * How long the collector takes: one full scan over the live /proc, one over a generated cgroup v2
 * tree of 1,000 processes in 50 cgroups (10 pods of 5 containers), the same with only 10 of them
 * watched (as `--include` narrows it), and one process of that tree.
 * Run with `./scripts/deno task bench`.
 */
import { Collector } from "../src/collect/collector.ts";
import { Logger } from "../src/base/log.ts";
import { DEFAULT_SHAPE, generateTree, removeTree } from "./fixture_tree.ts";

const tree = generateTree();
globalThis.addEventListener("unload", () => removeTree(tree));

const log = new Logger("error");
const generated = new Collector({ procfs: tree.procfs, cgroupfs: tree.cgroupfs, log });
if (generated.scan().length !== DEFAULT_SHAPE.processes) {
  throw new Error("the generated tree is incomplete");
}
const live = new Collector({ procfs: "/proc", cgroupfs: "/sys/fs/cgroup", log });
const onePid = tree.pids[tree.pids.length >> 1];

Deno.bench("scan: live /proc", () => {
  live.scan();
});

Deno.bench("scan: 1,000 processes in 50 cgroups (generated cgroup v2 tree)", () => {
  generated.scan();
});

// Ids 0, 100, …, 900: ten processes, one in each pod.
const tenWatched = (cmdline: string) => / --id (0|\d00)$/.test(cmdline);
if (generated.scan(tenWatched).length !== 10) throw new Error("the filter does not watch 10");

Deno.bench("scan: the same tree, 10 of its processes watched (--include)", () => {
  generated.scan(tenWatched);
});

Deno.bench("collect: one process of the generated tree", () => {
  if (generated.collect(onePid) === undefined) throw new Error(`pid ${onePid} not collected`);
});
