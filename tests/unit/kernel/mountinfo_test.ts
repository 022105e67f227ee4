import assert from "node:assert/strict";
import { parseCgroupMounts } from "../../../src/kernel/mountinfo.ts";

/** A container's mountinfo as a sidecar in a cgroup namespace beside it reads it (hybrid). */
const CONTAINER = `22 27 0:21 / /proc rw,relatime - proc proc rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 /../.. /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 /../.. /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
67 50 0:41 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw
68 67 0:32 /../app /sys/fs/cgroup/memory rw,relatime shared:5 - cgroup cgroup rw,memory
69 67 0:38 /../app /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
70 1 0:30 / /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup ro,cpu,cpuacct
`;

Deno.test("parseCgroupMounts: the cgroup mounts still visible, with their roots", () => {
  assert.deepEqual(parseCgroupMounts(CONTAINER), [
    // The inherited ones (35, 41) are hidden by the tmpfs mounted over /sys/fs/cgroup (67).
    {
      fsType: "cgroup",
      controllers: ["memory"],
      root: "/../app",
      mountPoint: "/sys/fs/cgroup/memory",
    },
    { fsType: "cgroup2", controllers: [], root: "/../app", mountPoint: "/sys/fs/cgroup/unified" },
    {
      fsType: "cgroup",
      controllers: ["cpu", "cpuacct"],
      root: "/",
      mountPoint: "/sys/fs/cgroup/cpu,cpuacct",
    },
  ]);
});

Deno.test("parseCgroupMounts: octal escapes in paths, and malformed lines", () => {
  const line = "9 1 0:29 /a\\040b /mnt/my\\040cgroup rw - cgroup2 cgroup2 rw\n";
  assert.deepEqual(parseCgroupMounts(line), [
    { fsType: "cgroup2", controllers: [], root: "/a b", mountPoint: "/mnt/my cgroup" },
  ]);
  assert.deepEqual(parseCgroupMounts(""), []);
  assert.throws(
    () => parseCgroupMounts("9 1 0:29 / /sys/fs/cgroup rw cgroup2\n"),
    /malformed line/,
  );
});
