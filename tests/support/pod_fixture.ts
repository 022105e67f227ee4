/**
 * Procfs and cgroupfs trees of a Kubernetes pod as oomhero's sidecar container sees them, built
 * in a temporary directory for each layout: the pod's cgroup (`/kubepods/pod1`, maybe limited)
 * holds the application's container cgroup (`app`, maybe limited, maybe with children) and
 * oomhero's (`sidecar`). Each container mounts only its own cgroup at /sys/fs/cgroup:
 *
 * - `v2`: containerd on a cgroup v2 node, every container in a private cgroup namespace, so
 *   paths read `/../app` from the sidecar and a container sees nothing above its own cgroup;
 * - `hybrid`: the same with v1's memory controller and the cgroup2 tree (PSI) at `unified/`;
 * - `v1`: runc on a v1 node, the host cgroup namespace and bind mounts: paths read
 *   `/kubepods/pod1/app`, and oomhero's own /sys/fs/cgroup/memory is its cgroup bind-mounted.
 *
 * Every file holds what the kernel would write there: v1's `hierarchical_memory_limit` is the
 * smallest limit of the cgroup and all its ancestors, whether the view shows them or not.
 * @module
 */
import { Collector } from "../../src/collect/collector.ts";
import { Logger } from "../../src/base/log.ts";
import type { ProcessSample } from "../../src/collect/sample.ts";

/** The layouts a pod can have. */
export type PodLayout = "v1" | "v2" | "hybrid";

const MIB = 1024 * 1024;
/** v1's "unlimited": 2^63 - 1 rounded down to a page. */
const V1_UNLIMITED = "9223372036854771712";
/** The pids: oomhero itself, a shell in its container, the application, a host process. */
export const SELF_PID = 20;
export const SHELL_PID = 21;
export const APP_PID = 10;
export const HOST_PID = 30;

/** A cgroup of the pod with its limit (undefined: none), usage and children. */
interface CgroupSpec {
  limit?: number;
  current: number;
  children?: Record<string, CgroupSpec>;
}

/** What to build. */
export interface PodSpec {
  layout: PodLayout;
  /** The pod cgroup's limit; none when undefined. */
  podLimit?: number;
  /** The application container's own limit; none when undefined. */
  appLimit?: number;
  /** Child cgroups of the application's container cgroup, e.g. `{ sub: 128 MiB }`. */
  appChildren?: Record<string, number | undefined>;
  /** Where the application process is, below its container's cgroup: "" or a child's name. */
  appAt?: string;
  /**
   * v2 only: the node's whole cgroup2 tree is also mounted into oomhero's container, at
   * `<dir>/host`, with the pod's and the containers' cgroups in it as they are.
   */
  hostTree?: boolean;
}

/** A built pod; `dir` holds both trees. */
export interface Pod {
  spec: PodSpec;
  procfs: string;
  cgroupfs: string;
  dir: string;
  /** The application's container cgroup, as the application's own mount shows it. */
  appMount: string;
  /** Moves the application to another cgroup below its container's ("" for its own). */
  move(to: string): void;
  /** Moves it right out of its container, to `/kubepods/pod1/<name>`. */
  moveOut(name: string): void;
  /** Makes /proc/<app>/root refuse us, as the kernel does without CAP_SYS_PTRACE. */
  lockRoot(): void;
  /** A collector over the trees (our cgroupfs or another), logging to `lines`. */
  collector(lines: Record<string, unknown>[], cgroupfs?: string): Collector;
  /** One scan, by pid. */
  scan(collector: Collector): Map<number, ProcessSample>;
  /** Removes the trees. */
  remove(): void;
}

/** The usage of each cgroup: distinct, so a figure tells where it was read. */
const USAGE = { pod: 180 * MIB, app: 150 * MIB, child: 60 * MIB, sidecar: 30 * MIB };
/** Inactive page cache, a tenth of usage, so the working set is 90 % of it. */
const inactive = (current: number) => current / 10;

/** The smallest of some limits, undefined when none is set. */
function smallest(...limits: (number | undefined)[]): number | undefined {
  const set = limits.filter((l): l is number => l !== undefined);
  return set.length === 0 ? undefined : Math.min(...set);
}

function write(path: string, text: string): void {
  Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  Deno.writeTextFileSync(path, text);
}

/** The memory files of one v1 cgroup directory. */
function v1Memory(
  dir: string,
  own: number | undefined,
  effective: number | undefined,
  current: number,
) {
  write(`${dir}/memory.usage_in_bytes`, `${current}\n`);
  write(`${dir}/memory.limit_in_bytes`, `${own ?? V1_UNLIMITED}\n`);
  write(
    `${dir}/memory.stat`,
    `cache ${inactive(current)}\ninactive_file 0\n` +
      `hierarchical_memory_limit ${effective ?? V1_UNLIMITED}\n` +
      `hierarchical_memsw_limit ${V1_UNLIMITED}\ntotal_inactive_file ${inactive(current)}\n`,
  );
}

/** The PSI files of one cgroup2 directory: the avg10 of memory `some` is `tag`, to tell them apart. */
function psi(dir: string, tag: number) {
  for (const resource of ["memory", "io", "cpu"]) {
    write(
      `${dir}/${resource}.pressure`,
      `some avg10=${tag.toFixed(2)} avg60=0.00 avg300=0.00 total=${tag * 100}\n` +
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
    );
  }
}

/** The files of one cgroup2 directory: memory ones too on v2. */
function v2Dir(dir: string, own: number | undefined, current: number | undefined, tag: number) {
  write(`${dir}/cgroup.type`, "domain\n");
  if (current !== undefined) {
    write(`${dir}/memory.current`, `${current}\n`);
    write(`${dir}/memory.max`, `${own ?? "max"}\n`);
    write(`${dir}/memory.stat`, `anon ${current}\ninactive_file ${inactive(current)}\n`);
  }
  psi(dir, tag);
}

/** The PSI tag of each cgroup, so a test knows whose pressure it read. */
export const PSI_TAG: Record<string, number> = { app: 5, child: 7, sidecar: 1, host: 9 };

/** Writes the cgroup `spec` (and its children) at `dirs` for the layout. */
function cgroupTree(
  layout: PodLayout,
  dirs: { memory: string; unified: string | undefined },
  spec: CgroupSpec,
  above: number | undefined,
  tag: number,
): void {
  const effective = smallest(spec.limit, above);
  if (layout === "v2") v2Dir(dirs.memory, spec.limit, spec.current, tag);
  else {
    v1Memory(dirs.memory, spec.limit, effective, spec.current);
    if (dirs.unified !== undefined) v2Dir(dirs.unified, undefined, undefined, tag);
  }
  for (const [name, child] of Object.entries(spec.children ?? {})) {
    cgroupTree(
      layout,
      {
        memory: `${dirs.memory}/${name}`,
        unified: dirs.unified === undefined ? undefined : `${dirs.unified}/${name}`,
      },
      child,
      effective,
      PSI_TAG.child,
    );
  }
}

const STAT_TAIL = "S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0";

function processDir(procfs: string, pid: number, cmdline: string, cgroup: string) {
  const dir = `${procfs}/${pid}`;
  write(`${dir}/stat`, `${pid} (${cmdline.split(" ")[0]}) ${STAT_TAIL} ${pid * 100} 0 0\n`);
  write(`${dir}/cmdline`, `${cmdline.replaceAll(" ", "\0")}\0`);
  write(`${dir}/oom_score`, `${pid}\n`);
  write(`${dir}/oom_score_adj`, "0\n");
  write(`${dir}/cgroup`, cgroup);
}

/** mountinfo lines of a container whose cgroup mounts have `root`. */
function mountinfo(layout: PodLayout, root: string, at = "/sys/fs/cgroup"): string {
  const head = "1 0 0:40 / / rw - overlay overlay rw\n2 1 0:41 / /proc rw - proc proc rw\n";
  if (layout === "v2") return `${head}3 1 0:29 ${root} ${at} ro - cgroup2 cgroup2 rw\n`;
  return head + `3 1 0:43 / ${at} ro - tmpfs tmpfs rw\n` +
    `4 3 0:32 ${root} ${at}/memory ro - cgroup cgroup rw,memory\n` +
    (layout === "hybrid" ? `5 3 0:38 ${root} ${at}/unified ro - cgroup2 cgroup2 rw\n` : "");
}

/** The /proc/<pid>/cgroup text of a process at `path` (memory) in the layout. */
function procCgroup(layout: PodLayout, path: string): string {
  if (layout === "v2") return `0::${path}\n`;
  return `4:memory:${path}\n` + (layout === "hybrid" ? `0::${path}\n` : "");
}

/** Builds the pod of `spec`. */
export function buildPod(spec: PodSpec): Pod {
  const dir = Deno.realPathSync(Deno.makeTempDirSync({ prefix: "oomhero-pod-" }));
  const procfs = `${dir}/proc`;
  const cgroupfs = `${dir}/cgroup`;
  const { layout } = spec;
  // How paths read from the sidecar: v1 shares the host's cgroup namespace.
  const app = layout === "v1" ? "/kubepods/pod1/app" : "/../app";
  const sidecar = layout === "v1" ? "/kubepods/pod1/sidecar" : "/";
  const appRoot = `${procfs}/${APP_PID}/root/sys/fs/cgroup`;
  const mounts = (base: string) => ({
    memory: layout === "v2" ? base : `${base}/memory`,
    unified: layout === "hybrid" ? `${base}/unified` : undefined,
  });
  const children = Object.fromEntries(
    Object.entries(spec.appChildren ?? {}).map(([name, limit]) => [
      name,
      { limit, current: USAGE.child },
    ]),
  );
  cgroupTree(
    layout,
    mounts(appRoot),
    {
      limit: spec.appLimit,
      current: USAGE.app,
      children,
    },
    spec.podLimit,
    PSI_TAG.app,
  );
  cgroupTree(layout, mounts(cgroupfs), { current: USAGE.sidecar }, spec.podLimit, PSI_TAG.sidecar);
  if (layout !== "v2") write(`${cgroupfs}/memory/cgroup.procs`, `${SELF_PID}\n`);
  else write(`${cgroupfs}/cgroup.controllers`, "memory io cpu\n");
  if (layout === "hybrid") write(`${cgroupfs}/unified/cgroup.controllers`, "memory io cpu\n");

  for (const [name, avg] of [["memory", 0.1], ["io", 0.2], ["cpu", 0.3]] as const) {
    write(`${procfs}/pressure/${name}`, `some avg10=${avg} avg60=0 avg300=0 total=1\n`);
  }
  processDir(procfs, SELF_PID, "oomhero --warning x", procCgroup(layout, sidecar));
  processDir(procfs, SHELL_PID, "sh -c oomhero", procCgroup(layout, sidecar));
  write(`${procfs}/self/stat`, Deno.readTextFileSync(`${procfs}/${SELF_PID}/stat`));
  // Our own mounts: on v1 our cgroup bind-mounted at our cgroupfs.
  const ours = mountinfo(layout, sidecar, cgroupfs);
  write(`${procfs}/self/mountinfo`, ours);
  write(`${procfs}/${SELF_PID}/mountinfo`, ours);
  write(`${procfs}/${SHELL_PID}/mountinfo`, ours);

  const appPath = (below: string) => below === "" ? app : `${app}/${below}`;
  processDir(procfs, APP_PID, "java -jar app.jar", procCgroup(layout, appPath(spec.appAt ?? "")));
  write(`${procfs}/${APP_PID}/mountinfo`, mountinfo(layout, app));

  const pod: Pod = {
    spec,
    procfs,
    cgroupfs,
    dir,
    appMount: mounts(appRoot).memory,
    move: (to) => write(`${procfs}/${APP_PID}/cgroup`, procCgroup(layout, appPath(to))),
    moveOut: (name) =>
      write(
        `${procfs}/${APP_PID}/cgroup`,
        procCgroup(layout, layout === "v1" ? `/kubepods/pod1/${name}` : `/../${name}`),
      ),
    lockRoot: () => {
      // stat follows the link and needs to search `locked`: EACCES, as the kernel's refusal.
      const real = `${dir}/locked/root`;
      Deno.mkdirSync(`${dir}/locked`);
      Deno.renameSync(`${procfs}/${APP_PID}/root`, real);
      Deno.symlinkSync(real, `${procfs}/${APP_PID}/root`);
      Deno.chmodSync(`${dir}/locked`, 0o000);
    },
    collector: (lines, ours = cgroupfs) =>
      new Collector({
        procfs,
        cgroupfs: ours,
        selfPid: SELF_PID,
        log: new Logger("debug", "json", (l) => lines.push(JSON.parse(l))),
      }),
    scan: (collector) => new Map(collector.scan().map((s) => [s.pid, s])),
    remove: () => {
      try {
        Deno.chmodSync(`${dir}/locked`, 0o755);
      } catch {
        // Not locked.
      }
      Deno.removeSync(dir, { recursive: true });
    },
  };
  if (layout === "v2") addHostProcess(pod);
  if (spec.hostTree) addHostTree(pod, appRoot);
  return pod;
}

/**
 * The node's cgroup2 tree at `<dir>/host`, mounted beside our own cgroup (as a hostPath volume
 * would): the pod's cgroup with its limit, and the containers' cgroups, which are the very
 * directories the containers mount (links here, the same inode as in the kernel).
 */
function addHostTree(pod: Pod, appRoot: string): void {
  const host = `${pod.dir}/host`;
  write(`${host}/cgroup.controllers`, "memory io cpu\n");
  v2Dir(`${host}/kubepods`, undefined, USAGE.pod, 0);
  v2Dir(`${host}/kubepods/pod1`, pod.spec.podLimit, USAGE.pod, 0);
  Deno.symlinkSync(appRoot, `${host}/kubepods/pod1/app`);
  Deno.symlinkSync(pod.cgroupfs, `${host}/kubepods/pod1/sidecar`);
  // From our cgroup namespace (rooted at /kubepods/pod1/sidecar) the host's root is /../../..
  Deno.writeTextFileSync(
    `${pod.procfs}/self/mountinfo`,
    `9 1 0:29 /../../.. ${host} ro - cgroup2 cgroup2 rw\n`,
    { append: true },
  );
}

/**
 * A host process as a sidecar in a private cgroup namespace sees it (hostPID): its path climbs
 * out of our namespace, and its own /sys/fs/cgroup is the whole tree, whose root has no limit.
 */
function addHostProcess(pod: Pod): void {
  const root = `${pod.procfs}/${HOST_PID}/root/sys/fs/cgroup`;
  write(`${root}/cgroup.controllers`, "memory io cpu\n");
  v2Dir(`${root}/system.slice`, 512 * MIB, 100 * MIB, 0);
  v2Dir(`${root}/system.slice/kubelet.service`, undefined, 40 * MIB, PSI_TAG.host);
  processDir(
    pod.procfs,
    HOST_PID,
    "kubelet --config x",
    "0::/../../../system.slice/kubelet.service\n",
  );
  write(`${pod.procfs}/${HOST_PID}/mountinfo`, mountinfo("v2", "/../../.."));
}
