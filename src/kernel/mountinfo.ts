/**
 * The parser for `/proc/<pid>/mountinfo`, kept to the cgroup mounts: where a mount namespace
 * mounts each cgroup hierarchy, and which cgroup is the root of that mount.
 * @module
 */
import { quote } from "./kernel_text.ts";

/** One cgroup mount still visible in its mount namespace. */
export interface CgroupMount {
  /** `cgroup` (v1) or `cgroup2`. */
  fsType: "cgroup" | "cgroup2";
  /** The v1 controllers of the hierarchy (`memory`, …); empty for cgroup2. */
  controllers: string[];
  /**
   * The cgroup at the root of the mount, relative to the reader's cgroup namespace, as
   * `/proc/<pid>/cgroup` paths are: `/` for a whole tree, `/kubepods/pod1/app` for a bind
   * mount or a mount made in a cgroup namespace, `/../app` for one made in a namespace beside ours.
   */
  root: string;
  /** Where it is mounted, relative to the process's root directory. */
  mountPoint: string;
}

/** mountinfo escapes space, tab, newline and backslash as octal (`\040`). */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8)));
}

/** `path` and every directory above it, up to `/`. */
function selfAndAbove(path: string): string[] {
  const out = [path];
  for (let at = path.lastIndexOf("/"); at > 0; at = path.lastIndexOf("/", at - 1)) {
    out.push(path.slice(0, at));
  }
  if (path !== "/") out.push("/");
  return out;
}

/**
 * Parses `/proc/<pid>/mountinfo` into its cgroup mounts that nothing mounted later hides. Format
 * (proc(5)), one mount a line:
 *
 * ```text
 * 68 67 0:32 /../app /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
 * id parent dev root mount-point options [optional fields…] - fstype source super-options
 * ```
 *
 * A container runtime mounts a fresh /sys/fs/cgroup over the one it inherited, so the file also
 * lists the hidden mounts below: a later mount at or above a mount point hides the earlier one.
 */
export function parseCgroupMounts(text: string): CgroupMount[] {
  const all: { mount: CgroupMount | undefined; mountPoint: string }[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const fields = line.split(" ");
    const dash = fields.indexOf("-", 6);
    if (dash < 0 || fields.length < dash + 3) throw new Error(`malformed line ${quote(line)}`);
    const mountPoint = unescape(fields[4]);
    const fsType = fields[dash + 1];
    if (fsType !== "cgroup" && fsType !== "cgroup2") {
      all.push({ mount: undefined, mountPoint });
      continue;
    }
    const controllers = fsType === "cgroup"
      ? fields[dash + 3].split(",").filter((o) => o !== "rw" && o !== "ro")
      : [];
    all.push({ mount: { fsType, controllers, root: unescape(fields[3]), mountPoint }, mountPoint });
  }
  // From the last line back: a mount is hidden when a later one sits at or above it.
  const visible: CgroupMount[] = [];
  const later = new Set<string>();
  for (let i = all.length - 1; i >= 0; i--) {
    const { mount, mountPoint } = all[i];
    if (mount !== undefined && !selfAndAbove(mountPoint).some((p) => later.has(p))) {
      visible.unshift(mount);
    }
    later.add(mountPoint);
  }
  return visible;
}
