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

/** What a stat of a path found: a permission error is not a missing directory. */
export type PathState = "present" | "absent" | "denied";

/** Stats `path`: `denied` for EACCES/EPERM (another container's `/proc/<pid>/root`). */
export function pathState(path: string): PathState {
  try {
    Deno.statSync(path);
    return "present";
  } catch (err) {
    return err instanceof Deno.errors.PermissionDenied ? "denied" : "absent";
  }
}

/**
 * Detects the layout of the cgroupfs mounted at `root`: cgroup2 is recognised by its
 * `cgroup.controllers`, the v1 memory controller by `memory/memory.usage_in_bytes`.
 * Returns undefined when neither a cgroup2 root nor a v1 memory controller is there.
 */
export function detectLayout(root: string): CgroupLayout | undefined {
  const exists = (path: string) => pathState(path) === "present";
  if (exists(`${root}/cgroup.controllers`)) return "v2";
  if (!exists(`${root}/memory/${MEMORY_FILES[1].current}`)) return undefined;
  return exists(`${root}/unified/cgroup.controllers`) ? "hybrid" : "v1";
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
 * The limit the kernel enforces on a v1 memory cgroup, ancestors included, from `memory.stat`:
 * the smaller of `hierarchical_memory_limit` and `hierarchical_memsw_limit` (memory plus swap,
 * so memory alone cannot pass it either). Infinity when unlimited, undefined when the file has
 * neither line (cgroup v2, whose memory.stat has no such key).
 */
export function parseHierarchicalLimit(memoryStat: string): number | undefined {
  let limit: number | undefined;
  for (const key of ["hierarchical_memory_limit", "hierarchical_memsw_limit"]) {
    const value = keyedValue(memoryStat, key);
    if (value === undefined) continue;
    if (!/^\d+$/.test(value)) throw new Error(`${key} is ${quote(value)}`);
    limit = Math.min(limit ?? Infinity, parseMemoryLimit(value));
  }
  return limit;
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

/** The path of the memory controller's cgroup: v2's `0::` line, or v1's `memory` line. */
export function memoryPath(version: CgroupVersion, cgroups: ProcCgroup): string | undefined {
  return version === 2 ? cgroups.unified : cgroups.memory;
}

/** One cgroup hierarchy as one mount namespace mounts it. */
export interface HierarchyMount {
  /** The mount's directory as we reach it: our cgroupfs, or `/proc/<pid>/root/<mount point>`. */
  dir: string;
  /** The cgroup at the mount's root, in `/proc/<pid>/cgroup` terms (relative to our namespace). */
  root: string;
}

function segments(path: string): string[] {
  return path.split("/").filter((s) => s !== "" && s !== ".");
}

/** How many levels a cgroup path climbs above our cgroup namespace's root. */
function climbs(parts: readonly string[]): number {
  let ups = 0;
  while (parts[ups] === "..") ups++;
  return ups;
}

/**
 * `path` from the anchor `above.length` levels over our namespace's root, whose names down to
 * that root are `above`; undefined when it climbs higher than that.
 */
function fromAnchor(parts: readonly string[], above: readonly string[]): string[] | undefined {
  const ups = climbs(parts);
  if (ups > above.length) return undefined;
  return [...above.slice(0, above.length - ups), ...parts.slice(ups)];
}

/**
 * The directory of cgroup `path` under `mount`, or undefined when the path is not below the
 * mount's root: `/../app/sub` under a mount of `/../app` is `<dir>/sub`. Paths are relative to
 * our cgroup namespace and shortened through the nearest common ancestor, so `/../pause` lies
 * under a mount of the host's whole tree (`/../..`) only given the names of our namespace's
 * root and its ancestors: `above`, from {@link findSameDirectory}.
 */
export function resolveUnder(
  mount: HierarchyMount,
  path: string,
  above: readonly string[] = [],
): string | undefined {
  let root = segments(mount.root);
  let parts = segments(path);
  const [anchoredRoot, anchoredPath] = [fromAnchor(root, above), fromAnchor(parts, above)];
  if (anchoredRoot !== undefined && anchoredPath !== undefined) {
    [root, parts] = [anchoredRoot, anchoredPath];
  }
  if (parts.length < root.length || root.some((s, i) => parts[i] !== s)) return undefined;
  const rest = parts.slice(root.length);
  if (rest.includes("..")) return undefined;
  return rest.length === 0 ? mount.dir : `${mount.dir}/${rest.join("/")}`;
}

/** Where one hierarchy of a process's cgroup is, as seen from our mount namespace. */
export interface HierarchyLocation {
  /** `host`: under our cgroupfs; `container`: under the process's own mount, via /proc/<pid>/root. */
  view: "host" | "container";
  /** The cgroup's directory. */
  dir: string;
  /** The mount's directory: the highest one this view shows, where a limit walk stops. */
  root: string;
}

/**
 * Finds the directory of cgroup `path` of one hierarchy: under our own mount first (the host
 * view, which also finds the processes of our own container through our mount's root), then
 * under the process's own mount (the container view; `theirs` reads its mountinfo and throws,
 * naming the cause, when that cannot be done). A directory that is not there is not replaced by
 * any other: the process moved on, or its cgroup was removed. `what` names the hierarchy in
 * messages, e.g. `memory`.
 */
export function locateHierarchy(
  what: string,
  path: string,
  ours: readonly HierarchyMount[],
  theirs: () => readonly HierarchyMount[],
  state: (path: string) => PathState = pathState,
  above: readonly string[] = [],
): HierarchyLocation {
  for (const mount of ours) {
    const dir = resolveUnder(mount, path, above);
    if (dir !== undefined && state(dir) === "present") {
      return { view: "host", dir, root: mount.dir };
    }
  }
  const mounts = theirs();
  if (mounts.length === 0) {
    throw new Error(`cgroup ${path}: the process's mount namespace has no ${what} cgroup mount`);
  }
  for (const mount of mounts) {
    const dir = resolveUnder(mount, path, above);
    if (dir === undefined) continue;
    switch (state(dir)) {
      case "present":
        return { view: "container", dir, root: mount.dir };
      case "denied":
        throw new Error(`${dir}: permission denied`);
      case "absent":
        throw new Error(`cgroup ${path}: ${dir} not found (removed, or the process moved on)`);
    }
  }
  const [first] = mounts;
  // A mount of an ancestor of our namespace's root (`/../..`: the host's whole tree) holds a
  // path that meets ours below that ancestor, through names our namespace does not show.
  const rootParts = segments(first.root);
  if (rootParts.every((s) => s === "..") && climbs(rootParts) > climbs(segments(path))) {
    throw new Error(
      `cgroup ${path} cannot be found under the process's ${what} cgroup mount ` +
        `(${first.dir}, the cgroup ${first.root}): they meet above our cgroup namespace, ` +
        "whose names it hides; mount the host's cgroupfs beside ours to see them",
    );
  }
  throw new Error(
    `cgroup ${path} is outside the process's own ${what} cgroup mount ` +
      `(${first.dir}, the cgroup ${first.root})`,
  );
}

/** The most directories {@link findSameDirectory} looks at: a node's whole tree, bounded. */
const SEARCH_LIMIT = 20_000;

/**
 * The names of the directory `depth` levels below `top` that is `target` itself (same device
 * and inode: one cgroup seen through two mounts), or undefined. This is how a process in a
 * private cgroup namespace with the host's tree mounted learns where its namespace's root is in
 * that tree: the kernel shows every path relative to the namespace, never the names above it.
 */
export function findSameDirectory(
  top: string,
  depth: number,
  target: { dev: number; ino: number | null },
): string[] | undefined {
  let level: string[][] = [[]];
  let seen = 0;
  for (let d = 0; d < depth; d++) {
    const next: string[][] = [];
    for (const names of level) {
      try {
        for (const entry of Deno.readDirSync([top, ...names].join("/"))) {
          // A kernfs tree has no links; a copied one may link a directory in.
          if (!entry.isDirectory && !entry.isSymlink) continue;
          if (++seen > SEARCH_LIMIT) return undefined;
          next.push([...names, entry.name]);
        }
      } catch {
        // Removed meanwhile, or not ours to read: not the one.
      }
    }
    level = next;
  }
  return level.find((names) => {
    try {
      const info = Deno.statSync([top, ...names].join("/"));
      return info.dev === target.dev && info.ino !== null && info.ino === target.ino;
    } catch {
      return false;
    }
  });
}
