import assert from "node:assert/strict";
import {
  ancestors,
  type CgroupLayout,
  detectLayout,
  findSameDirectory,
  joinCgroupPath,
  layoutMounts,
  layoutVersion,
  locateHierarchy,
  memoryPath,
  parseHierarchicalLimit,
  parseInactiveFile,
  parseMemoryBytes,
  parseMemoryLimit,
  type PathState,
  resolveUnder,
} from "../../../src/kernel/cgroup.ts";
import { fixture } from "../../support/fixture_paths.ts";

Deno.test("parseMemoryBytes reads a byte count", () => {
  assert.equal(parseMemoryBytes("134217728\n"), 134217728);
  assert.equal(parseMemoryBytes("0\n"), 0);
  for (const bad of ["", "max\n", "-1\n", "12k\n"]) {
    assert.throws(() => parseMemoryBytes(bad), /not a byte count/, JSON.stringify(bad));
  }
});

Deno.test("parseMemoryLimit reads v2 memory.max", () => {
  assert.equal(parseMemoryLimit("536870912\n"), 536870912);
  assert.equal(parseMemoryLimit("max\n"), Infinity);
});

Deno.test("parseMemoryLimit reads v1's page-rounded 2^63-1 and anything from 2^62 as no limit", () => {
  assert.equal(parseMemoryLimit("9223372036854771712\n"), Infinity);
  assert.equal(parseMemoryLimit("9223372036854775807\n"), Infinity);
  assert.equal(parseMemoryLimit("4611686018427387904\n"), Infinity);
  assert.equal(parseMemoryLimit("4611686018427383808\n"), 4611686018427383808);
  assert.throws(() => parseMemoryLimit("unlimited\n"), /not a byte count/);
});

const V1_STAT = "cache 100\ninactive_file 4096\nactive_file 8192\n" +
  "hierarchical_memory_limit 9223372036854771712\ntotal_inactive_file 65536\n";

Deno.test("parseInactiveFile prefers v1's total_inactive_file, which counts child cgroups", () => {
  assert.equal(parseInactiveFile(V1_STAT, 1), 65536);
  assert.equal(parseInactiveFile("cache 1\ninactive_file 4096\n", 1), 4096);
});

Deno.test("parseInactiveFile reads v2's inactive_file and ignores total_ keys", () => {
  assert.equal(parseInactiveFile(V1_STAT, 2), 4096);
  assert.equal(parseInactiveFile("anon 1\ninactive_file 33554432\nfile 2\n", 2), 33554432);
});

Deno.test("parseInactiveFile rejects a missing or garbled inactive_file", () => {
  assert.throws(() => parseInactiveFile("anon 1\n", 2), /no inactive_file$/);
  assert.throws(() => parseInactiveFile("", 1), /no total_inactive_file or inactive_file/);
  assert.throws(() => parseInactiveFile("inactive_file lots\n", 2), /inactive_file is "lots"/);
  assert.throws(() => parseInactiveFile("inactive_file\n", 2), /inactive_file is ""/);
});

Deno.test("joinCgroupPath maps the root path to the mount itself", () => {
  assert.equal(joinCgroupPath("/sys/fs/cgroup", "/"), "/sys/fs/cgroup");
  assert.equal(joinCgroupPath("/sys/fs/cgroup", "/a/b"), "/sys/fs/cgroup/a/b");
  assert.equal(joinCgroupPath("/sys/fs/cgroup/memory", "/a/"), "/sys/fs/cgroup/memory/a");
});

Deno.test("ancestors walks up to and including the root, and no further", () => {
  assert.deepEqual(ancestors("/cg/a/b", "/cg"), ["/cg/a/b", "/cg/a", "/cg"]);
  assert.deepEqual(ancestors("/cg", "/cg"), ["/cg"]);
  assert.deepEqual(ancestors("/other/a", "/cg"), ["/other/a"]);
  assert.deepEqual(ancestors("/cgroup2/a", "/cg"), ["/cgroup2/a"]);
});

Deno.test("detectLayout tells v2, v1 and hybrid apart from the filesystem", () => {
  assert.equal(detectLayout(fixture("v2-host").cgroupfs), "v2");
  assert.equal(detectLayout(fixture("v2-container").cgroupfs), "v2");
  assert.equal(detectLayout(fixture("v1-container").cgroupfs), "v1");
  assert.equal(detectLayout(fixture("hybrid-host").cgroupfs), "hybrid");
  assert.equal(detectLayout(fixture("v2-host").procfs), undefined);
  assert.equal(detectLayout("/nonexistent"), undefined);
});

Deno.test("layoutMounts places the hierarchies of each layout", () => {
  assert.deepEqual(layoutMounts("v2", "/c"), { memory: "/c", unified: "/c" });
  assert.deepEqual(layoutMounts("v1", "/c"), { memory: "/c/memory", unified: undefined });
  assert.deepEqual(layoutMounts("hybrid", "/c"), { memory: "/c/memory", unified: "/c/unified" });
});

Deno.test("layoutVersion: hybrid keeps memory on v1", () => {
  const layouts: CgroupLayout[] = ["v2", "v1", "hybrid"];
  assert.deepEqual(layouts.map(layoutVersion), [2, 1, 1]);
});

Deno.test("memoryPath picks the 0:: line on v2 and the memory line on v1", () => {
  const cgroups = { memory: "/m", unified: "/u" };
  assert.equal(memoryPath(2, cgroups), "/u");
  assert.equal(memoryPath(1, cgroups), "/m");
  assert.equal(memoryPath(1, { unified: "/u" }), undefined);
});

Deno.test("parseHierarchicalLimit: the smaller of v1's memory and memory+swap limits", () => {
  const stat = "cache 1\nhierarchical_memory_limit 314572800\nhierarchical_memsw_limit " +
    "9223372036854771712\ntotal_cache 1\n";
  assert.equal(parseHierarchicalLimit(stat), 314572800);
  assert.equal(
    parseHierarchicalLimit("hierarchical_memory_limit 400\nhierarchical_memsw_limit 300\n"),
    300,
  );
  assert.equal(parseHierarchicalLimit("hierarchical_memory_limit 9223372036854771712\n"), Infinity);
  // v2's memory.stat has neither key.
  assert.equal(parseHierarchicalLimit("anon 1\ninactive_file 2\n"), undefined);
  assert.throws(() => parseHierarchicalLimit("hierarchical_memory_limit lots\n"), /is "lots"/);
});

Deno.test("resolveUnder: a cgroup path below a mount's root, never above it", () => {
  const whole = { dir: "/sys/fs/cgroup", root: "/" };
  assert.equal(resolveUnder(whole, "/"), "/sys/fs/cgroup");
  assert.equal(resolveUnder(whole, "/a/b/"), "/sys/fs/cgroup/a/b");
  // A path outside our cgroup namespace is not in our tree.
  assert.equal(resolveUnder(whole, "/../app"), undefined);
  // A container's mount of its own cgroup, as a sidecar in a cgroup namespace beside it sees it.
  const app = { dir: "/proc/7/root/sys/fs/cgroup", root: "/../app" };
  assert.equal(resolveUnder(app, "/../app"), app.dir);
  assert.equal(resolveUnder(app, "/../app/sub"), `${app.dir}/sub`);
  assert.equal(resolveUnder(app, "/../application"), undefined);
  assert.equal(resolveUnder(app, "/../other"), undefined);
  assert.equal(resolveUnder(app, "/"), undefined);
});

Deno.test("resolveUnder: through the host's whole tree, given our namespace root's names", () => {
  const host = { dir: "/host/sys/fs/cgroup", root: "/../../.." };
  const above = ["kubepods", "pod1", "sidecar"];
  assert.equal(
    resolveUnder(host, "/../app/sub", above),
    "/host/sys/fs/cgroup/kubepods/pod1/app/sub",
  );
  assert.equal(resolveUnder(host, "/", above), "/host/sys/fs/cgroup/kubepods/pod1/sidecar");
  assert.equal(
    resolveUnder(host, "/../../../system.slice", above),
    "/host/sys/fs/cgroup/system.slice",
  );
  // Without the names the meeting point is unknown.
  assert.equal(resolveUnder(host, "/../app"), undefined);
  // Higher than the names reach: not under the mount.
  assert.equal(
    resolveUnder({ dir: "/d", root: "/../.." }, "/../../../x", ["pod1", "sidecar"]),
    undefined,
  );
});

Deno.test("findSameDirectory finds a directory by inode, a given depth down", () => {
  const top = Deno.makeTempDirSync({ prefix: "oomhero-same-" });
  try {
    for (const dir of ["a/x", "a/y", "b/x"]) Deno.mkdirSync(`${top}/${dir}`, { recursive: true });
    assert.deepEqual(findSameDirectory(top, 2, Deno.statSync(`${top}/b/x`)), ["b", "x"]);
    assert.equal(findSameDirectory(top, 1, Deno.statSync(`${top}/b/x`)), undefined);
    assert.deepEqual(findSameDirectory(top, 0, Deno.statSync(top)), []);
  } finally {
    Deno.removeSync(top, { recursive: true });
  }
});

/** A path-state function over a fixed set of present and denied directories. */
function states(present: string[], denied: string[] = []): (path: string) => PathState {
  return (path) => present.includes(path) ? "present" : denied.includes(path) ? "denied" : "absent";
}

const OURS = [{ dir: "/sys/fs/cgroup", root: "/" }];
const APP_MOUNT = [{ dir: "/proc/7/root/sys/fs/cgroup", root: "/../app" }];
const notCalled = () => {
  throw new Error("the container view was read although the host view had the cgroup");
};

Deno.test("locateHierarchy: the host view first, without reading the process's mounts", () => {
  assert.deepEqual(
    locateHierarchy(
      "memory",
      "/kubepods/a",
      OURS,
      notCalled,
      states(["/sys/fs/cgroup/kubepods/a"]),
    ),
    { view: "host", dir: "/sys/fs/cgroup/kubepods/a", root: "/sys/fs/cgroup" },
  );
  // Our own container's cgroup, bind-mounted as our /sys/fs/cgroup (runc on v1).
  const bound = [{ dir: "/sys/fs/cgroup/memory", root: "/kubepods/pod1/sidecar" }];
  assert.deepEqual(
    locateHierarchy(
      "memory",
      "/kubepods/pod1/sidecar/sub",
      bound,
      notCalled,
      states(["/sys/fs/cgroup/memory/sub"]),
    ),
    { view: "host", dir: "/sys/fs/cgroup/memory/sub", root: "/sys/fs/cgroup/memory" },
  );
});

Deno.test("locateHierarchy: the container view follows the process below its mount's root", () => {
  const sub = "/proc/7/root/sys/fs/cgroup/sub";
  assert.deepEqual(
    locateHierarchy("memory", "/../app/sub", OURS, () => APP_MOUNT, states([sub])),
    { view: "container", dir: sub, root: APP_MOUNT[0].dir },
  );
});

Deno.test("locateHierarchy names the real cause when the cgroup cannot be read", () => {
  assert.throws(
    () => locateHierarchy("memory", "/../app/gone", OURS, () => APP_MOUNT, states([])),
    {
      message: "cgroup /../app/gone: /proc/7/root/sys/fs/cgroup/gone not found " +
        "(removed, or the process moved on)",
    },
  );
  assert.throws(
    () =>
      locateHierarchy("memory", "/../app", OURS, () => APP_MOUNT, states([], [APP_MOUNT[0].dir])),
    { message: "/proc/7/root/sys/fs/cgroup: permission denied" },
  );
  assert.throws(
    () => locateHierarchy("memory", "/../other", OURS, () => APP_MOUNT, states([])),
    {
      message: "cgroup /../other is outside the process's own memory cgroup mount " +
        "(/proc/7/root/sys/fs/cgroup, the cgroup /../app)",
    },
  );
  // The host's whole tree, mounted by a process in the host's namespaces, seen from a private one.
  assert.throws(
    () =>
      locateHierarchy(
        "memory",
        "/../pause",
        OURS,
        () => [{ dir: "/proc/1/root/x", root: "/../.." }],
        states([]),
      ),
    /they meet above our cgroup namespace, whose names it hides/,
  );
  assert.throws(
    () => locateHierarchy("memory", "/../app", OURS, () => [], states([])),
    { message: "cgroup /../app: the process's mount namespace has no memory cgroup mount" },
  );
  // What reading the process's mounts found wrong is the message.
  assert.throws(
    () =>
      locateHierarchy("memory", "/../app", OURS, () => {
        throw new Error("/proc/7/root: permission denied: oomhero lacks CAP_SYS_PTRACE");
      }, states([])),
    /CAP_SYS_PTRACE/,
  );
});
