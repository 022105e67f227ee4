/**
 * The memory cgroup of a process: how cgroupfs is laid out (v1, v2 or hybrid), the parsers for
 * its memory files, and where a process's cgroup directory is from where we stand.
 * @module
 */
import { finiteNumber, quote } from "./kernel_text.ts";
import type { ProcCgroup } from "./procfs.ts";

/**
 * How cgroupfs is mounted: `v2` (unified, cgroup2 at the root), `v1` (one mount per controller)
 * or `hybrid` (v1 controllers plus a cgroup2 tree at `unified/` that holds the PSI files).
 */
export type CgroupLayout = "v1" | "v2" | "hybrid";

/** The cgroup version whose memory controller a layout uses. */
export type CgroupVersion = 1 | 2;

/** Where one cgroupfs root keeps the two hierarchies we read. */
export interface CgroupMounts {
  /** The root of the memory controller's hierarchy. */
  memory: string;
  /** The root of the cgroup2 hierarchy (PSI files), if the layout has one. */
  unified: string | undefined;
}

/** The memory controller's files per cgroup version. */
export const MEMORY_FILES: Readonly<Record<CgroupVersion, { current: string; limit: string }>> = {
  1: { current: "memory.usage_in_bytes", limit: "memory.limit_in_bytes" },
  2: { current: "memory.current", limit: "memory.max" },
};

/** Limits at or above 2^62 mean none: v1 writes "unlimited" as 2^63-1 rounded down to a page. */
const UNLIMITED_THRESHOLD = 2 ** 62;

/** Whether a path exists; `locateCgroup` takes another one so a scan can remember answers. */
export function pathExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    // Not found, or not ours to see (/proc/<pid>/root of another user): either way, not here.
    return false;
  }
}

/**
 * Whether two paths are the same directory (same device and inode, as through a bind mount);
 * false when either cannot be seen.
 */
export function sameDirectory(a: string, b: string): boolean {
  try {
    const [x, y] = [Deno.statSync(a), Deno.statSync(b)];
    return x.dev === y.dev && x.ino !== null && x.ino === y.ino;
  } catch {
    return false;
  }
}

/**
 * Detects the layout of the cgroupfs mounted at `root`: cgroup2 is recognised by its
 * `cgroup.controllers`, the v1 memory controller by `memory/memory.usage_in_bytes`.
 * Returns undefined when neither a cgroup2 root nor a v1 memory controller is there.
 */
export function detectLayout(root: string): CgroupLayout | undefined {
  if (pathExists(`${root}/cgroup.controllers`)) return "v2";
  if (!pathExists(`${root}/memory/${MEMORY_FILES[1].current}`)) return undefined;
  return pathExists(`${root}/unified/cgroup.controllers`) ? "hybrid" : "v1";
}

/** The version of the memory controller in `layout`: hybrid keeps memory on v1. */
export function layoutVersion(layout: CgroupLayout): CgroupVersion {
  return layout === "v2" ? 2 : 1;
}

/** Where the hierarchies of `layout` are under a cgroupfs mounted at `root`. */
export function layoutMounts(layout: CgroupLayout, root: string): CgroupMounts {
  if (layout === "v2") return { memory: root, unified: root };
  return { memory: `${root}/memory`, unified: layout === "hybrid" ? `${root}/unified` : undefined };
}

/** Joins a cgroup path from `/proc/<pid>/cgroup` (absolute, "/" for the root) to a mount. */
export function joinCgroupPath(mount: string, path: string): string {
  const relative = path.replace(/^\/+|\/+$/g, "");
  return relative === "" ? mount : `${mount}/${relative}`;
}

/** Parses a byte count: `memory.current`, `memory.usage_in_bytes`. */
export function parseMemoryBytes(text: string): number {
  const value = text.trim();
  if (!/^\d+$/.test(value)) throw new Error(`not a byte count: ${quote(value)}`);
  return finiteNumber(value);
}

/**
 * Parses a limit: `memory.max` (`max` or bytes) or `memory.limit_in_bytes`.
 * Returns Infinity when there is no limit.
 */
export function parseMemoryLimit(text: string): number {
  if (text.trim() === "max") return Infinity;
  const value = parseMemoryBytes(text);
  return value >= UNLIMITED_THRESHOLD ? Infinity : value;
}

/**
 * Returns the inactive page cache from `memory.stat`, the part of usage the kernel reclaims first.
 * v1 prefers `total_inactive_file`, which counts the child cgroups as v2's `inactive_file` does.
 */
export function parseInactiveFile(memoryStat: string, version: CgroupVersion): number {
  const keys = version === 1 ? ["total_inactive_file", "inactive_file"] : ["inactive_file"];
  for (const key of keys) {
    const value = keyedValue(memoryStat, key);
    if (value === undefined) continue;
    if (!/^\d+$/.test(value)) throw new Error(`${key} is ${quote(value)}`);
    return finiteNumber(value);
  }
  throw new Error(`no ${keys.join(" or ")}`);
}

/**
 * The value of the `key value` line of `key`, "" when the line has none, undefined when there is
 * no such line. Searched for rather than split into lines: v1's memory.stat has some forty, and
 * each memory cgroup's is read every scan.
 */
function keyedValue(text: string, key: string): string | undefined {
  for (let at = text.indexOf(key); at >= 0; at = text.indexOf(key, at + 1)) {
    const after = at + key.length;
    const next = text[after];
    if (
      (at === 0 || text[at - 1] === "\n") && (next === undefined || next === " " || next === "\n")
    ) {
      const end = text.indexOf("\n", after);
      return text.slice(after, end < 0 ? undefined : end).split(" ")[1] ?? "";
    }
  }
  return undefined;
}

/** `dir` and its ancestors up to and including `root`, nearest first. */
export function ancestors(dir: string, root: string): string[] {
  const out = [dir];
  if (!dir.startsWith(`${root}/`)) return out;
  for (let cur = dir; cur !== root;) {
    cur = cur.slice(0, cur.lastIndexOf("/"));
    out.push(cur);
  }
  return out;
}

/** Where a process's cgroup directories are, as seen from our mount namespace. */
export interface CgroupLocation {
  /** The version of the memory controller. */
  version: CgroupVersion;
  /** `host`: the path under our cgroupfs; `container`: the process's own /sys/fs/cgroup. */
  view: "host" | "container";
  /** The memory cgroup path from `/proc/<pid>/cgroup`. */
  path: string;
  /** The directory with the memory files. */
  memoryDir: string;
  /** The highest directory of the hierarchy visible to us: where the limit walk stops. */
  memoryRoot: string;
  /** The cgroup2 directory with the `*.pressure` files, if there is one. */
  pressureDir: string | undefined;
}

/** The path of the memory controller's cgroup: v2's `0::` line, or v1's `memory` line. */
export function memoryPath(version: CgroupVersion, cgroups: ProcCgroup): string | undefined {
  return version === 2 ? cgroups.unified : cgroups.memory;
}

/** Whether a cgroup path climbs out of our cgroup namespace (`/../cri-containerd-<id>.scope`). */
function climbsOut(path: string): boolean {
  return path.split("/").includes("..");
}

/** The directory of `path` under `mount` when it exists and stays inside our namespace. */
function hostDir(
  mount: string | undefined,
  path: string | undefined,
  exists: (path: string) => boolean,
): string | undefined {
  if (mount === undefined || path === undefined || climbsOut(path)) return undefined;
  const dir = joinCgroupPath(mount, path);
  return exists(dir) ? dir : undefined;
}

/**
 * Finds a process's cgroup. Host view: its path from `/proc/<pid>/cgroup` under our mounts.
 * Otherwise the container view: the cgroupfs in the process's own mount namespace
 * (`containerRoot` = `<procfs>/<pid>/root/sys/fs/cgroup`), where its cgroup namespace makes its
 * cgroup the root. Memory and pressure are resolved apart, as a hybrid mount has two paths.
 * A process in our own mount namespace sees our cgroupfs there: its cgroup, absent from it, was
 * removed (the process moved on mid-scan), and the root there is not its cgroup.
 * Throws when the memory cgroup is in neither place.
 */
export function locateCgroup(
  layout: CgroupLayout,
  cgroupfs: string,
  containerRoot: string,
  cgroups: ProcCgroup,
  exists: (path: string) => boolean = pathExists,
  same: (a: string, b: string) => boolean = sameDirectory,
): CgroupLocation {
  const version = layoutVersion(layout);
  const host = layoutMounts(layout, cgroupfs);
  const container = layoutMounts(layout, containerRoot);
  const path = memoryPath(version, cgroups);
  if (path === undefined) {
    throw new Error(`no cgroup v${version} memory line in /proc/<pid>/cgroup`);
  }
  const pressureDir = hostDir(host.unified, cgroups.unified, exists) ??
    (container.unified !== undefined && exists(container.unified) ? container.unified : undefined);
  const memoryDir = hostDir(host.memory, path, exists);
  if (memoryDir !== undefined) {
    return {
      version,
      view: "host",
      path,
      memoryDir,
      memoryRoot: host.memory,
      pressureDir,
    };
  }
  if (exists(container.memory) && !same(container.memory, host.memory)) {
    return {
      version,
      view: "container",
      path,
      memoryDir: container.memory,
      memoryRoot: container.memory,
      pressureDir,
    };
  }
  throw new Error(`cgroup ${path} is neither under ${host.memory} nor at ${container.memory}`);
}
