import assert from "node:assert/strict";
import {
  ancestors,
  type CgroupLayout,
  detectLayout,
  joinCgroupPath,
  layoutMounts,
  layoutVersion,
  locateCgroup,
  memoryPath,
  parseInactiveFile,
  parseMemoryBytes,
  parseMemoryLimit,
} from "../src/cgroup.ts";
import { fixture } from "./fixture_paths.ts";

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

Deno.test("locateCgroup: v2 host view is the path under our mount", () => {
  const { procfs, cgroupfs } = fixture("v2-host");
  const path = "/kubepods.slice/kubepods-pod1.slice/cri-containerd-aaa.scope";
  assert.deepEqual(
    locateCgroup("v2", cgroupfs, `${procfs}/100/root/sys/fs/cgroup`, { unified: path }),
    {
      version: 2,
      view: "host",
      path,
      memoryDir: `${cgroupfs}${path}`,
      memoryRoot: cgroupfs,
      pressureDir: `${cgroupfs}${path}`,
    },
  );
});

Deno.test("locateCgroup: a path climbing out of our namespace is the container view", () => {
  const { procfs, cgroupfs } = fixture("v2-container");
  const root = `${procfs}/20/root/sys/fs/cgroup`;
  assert.deepEqual(
    locateCgroup("v2", cgroupfs, root, { unified: "/../cri-containerd-app.scope" }),
    {
      version: 2,
      view: "container",
      path: "/../cri-containerd-app.scope",
      memoryDir: root,
      memoryRoot: root,
      pressureDir: root,
    },
  );
  // "/" is our own cgroup: the root of our mount.
  assert.equal(
    locateCgroup("v2", cgroupfs, `${procfs}/30/root/sys/fs/cgroup`, { unified: "/" }).memoryDir,
    cgroupfs,
  );
});

Deno.test("locateCgroup: v1 without a cgroup namespace falls back to the container view", () => {
  const { procfs, cgroupfs } = fixture("v1-container");
  const root = `${procfs}/50/root/sys/fs/cgroup`;
  const cgroups = { memory: "/kubepods/burstable/pod-1/app" };
  assert.deepEqual(locateCgroup("v1", cgroupfs, root, cgroups), {
    version: 1,
    view: "container",
    path: "/kubepods/burstable/pod-1/app",
    memoryDir: `${root}/memory`,
    memoryRoot: `${root}/memory`,
    pressureDir: undefined,
  });
});

Deno.test("locateCgroup: hybrid reads memory from v1 and pressure from unified/", () => {
  const { procfs, cgroupfs } = fixture("hybrid-host");
  const cgroups = { memory: "/user.slice/app", unified: "/user.slice/app.scope" };
  assert.deepEqual(locateCgroup("hybrid", cgroupfs, `${procfs}/60/root/sys/fs/cgroup`, cgroups), {
    version: 1,
    view: "host",
    path: "/user.slice/app",
    memoryDir: `${cgroupfs}/memory/user.slice/app`,
    memoryRoot: `${cgroupfs}/memory`,
    pressureDir: `${cgroupfs}/unified/user.slice/app.scope`,
  });
  // A unified path that is not in our tree leaves pressure to the system-wide files.
  const init = locateCgroup("hybrid", cgroupfs, `${procfs}/1/root/sys/fs/cgroup`, {
    memory: "/",
    unified: "/init.scope",
  });
  assert.equal(init.pressureDir, undefined);
});

Deno.test("locateCgroup throws when the cgroup is nowhere to be seen", () => {
  const { procfs, cgroupfs } = fixture("v2-host");
  assert.throws(
    () => locateCgroup("v2", cgroupfs, `${procfs}/999/root/sys/fs/cgroup`, { unified: "/gone" }),
    /cgroup \/gone is neither under .*v2-host\/cgroup nor at .*\/999\/root\/sys\/fs\/cgroup$/,
  );
  assert.throws(
    () => locateCgroup("v1", cgroupfs, `${procfs}/999/root/sys/fs/cgroup`, { unified: "/" }),
    /no cgroup v1 memory line/,
  );
});
