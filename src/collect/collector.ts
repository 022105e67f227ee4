/**
 * The collector: reads procfs and cgroupfs into one {@link ProcessSample} per process.
 * Reads are small synchronous file reads; nothing is executed and nothing is written.
 * Over 400 lines: one class whose reads share the per-scan cache, the cgroup layout and the mount
 * tables; the file parsers it calls are in src/kernel/.
 * @module
 */
import {
  ancestors,
  type CgroupLayout,
  type CgroupVersion,
  detectLayout,
  findSameDirectory,
  type HierarchyLocation,
  type HierarchyMount,
  layoutMounts,
  layoutVersion,
  locateHierarchy,
  MEMORY_FILES,
  memoryPath,
  parseHierarchicalLimit,
  parseInactiveFile,
  parseMemoryBytes,
  parseMemoryLimit,
  type PathState,
  pathState,
} from "../kernel/cgroup.ts";
import { KERNEL_FILE_BUFFER_BYTES, readKernelFile } from "../kernel/kernel_file.ts";
import { KEPT_FILES_CAP, KeptFiles } from "../kernel/kept_files.ts";
import { parseLoadavgLastPid } from "../kernel/loadavg.ts";
import type { Logger } from "../base/log.ts";
import { type CgroupMount, parseCgroupMounts } from "../kernel/mountinfo.ts";
import { ALL_NEEDS, type Needs } from "./needs.ts";
import {
  parsePressure,
  type Pressure,
  PRESSURE_RESOURCES,
  PRESSURE_SEVERITIES,
  PRESSURE_WINDOWS,
  type PressureResource,
  type PressureSeverity,
  type PressureWindow,
} from "../kernel/pressure.ts";
import {
  parseCmdline,
  parseOomScore,
  parseProcCgroup,
  parseSignalMasks,
  parseStatPpid,
  parseStatStartTime,
  type ProcCgroup,
  type SignalMasks,
} from "../kernel/procfs.ts";
import type { CgroupSource, MemoryMaxScope, ProcessSample } from "./sample.ts";
import { UsageError } from "../base/usage_error.ts";
import { pressureVariable, type Variables } from "./variables.ts";
import { ProcessWarnings } from "./warnings.ts";

/** Options of a {@link Collector}. */
export interface CollectorOptions {
  /** Where procfs is mounted, e.g. `/proc`. */
  procfs: string;
  /** Where cgroupfs is mounted, e.g. `/sys/fs/cgroup`. */
  cgroupfs: string;
  /** Where warnings about unreadable files go. */
  log: Logger;
  /** Our own pid in `procfs`, left out of scans; `Deno.pid` by default. */
  selfPid?: number;
  /** Most kernel files kept open between scans; {@link KEPT_FILES_CAP} by default (main.ts
   * passes a share of the open-file limit). */
  keptFiles?: number;
  /** The clock that paces the command line's re-reads, milliseconds; `performance.now()`. */
  now?: () => number;
}

/** The most of a command line read: enough to match on, and a 10 MB one costs no memory. */
const CMDLINE_LIMIT = KERNEL_FILE_BUFFER_BYTES;
/** The share of the kept-file budget a process's scores and command line may fill. */
const SECONDARY_SHARE = 1 / 2;

/**
 * How often a known process's command line is read again: it changes only when the process
 * execs (or rewrites its title), and its pid and start time stay the same when it does.
 */
const CMDLINE_RECHECK_MS = 1_000;
/** A process's first scans read its command line every time: a fresh child often execs. */
const CMDLINE_SETTLE_SCANS = 10;

/** A process's files that may be kept open: its cgroup (read every scan), command line, scores. */
const PROCESS_FILES = ["cgroup", "cmdline", "oom_score", "oom_score_adj"] as const;

/** The paths of {@link PROCESS_FILES}, built once per process (a kept string keeps its hash). */
type ProcessPaths = Record<typeof PROCESS_FILES[number], string>;

function processPaths(dir: string): ProcessPaths {
  return {
    cgroup: `${dir}/cgroup`,
    cmdline: `${dir}/cmdline`,
    oom_score: `${dir}/oom_score`,
    oom_score_adj: `${dir}/oom_score_adj`,
  };
}

/**
 * What rarely changes about a process, kept between scans per pid with the start time it was
 * read under. A kept descriptor of its cgroup file is re-read every scan (its cgroup moves, and
 * a read fails with ESRCH once the process is gone, even when its pid is reused); without one
 * (past the budget, or a fixture tree) its stat file is read to tell it is the same process.
 */
interface KnownProcess {
  startTime: number;
  paths: ProcessPaths;
  /** The raw command line; "" for kernel threads and zombies. */
  raw: string;
  cmdline: string;
  firstArg: string;
  /** When the command line was last read, and how many scans have read it. */
  cmdlineReadAt: number;
  cmdlineReads: number;
  /** The cgroup file as last read (undefined: unreadable), and what it says: parsed again only
   * when it changes. */
  cgroupText: string | undefined;
  /** The scan that last read the cgroup file. */
  cgroupReadIn: number;
  /** The memory cgroup directory its figures were last read from. */
  memoryDir: string | undefined;
  cgroups: ProcCgroup | undefined;
}

/** The memory figures of one cgroup, shared by its processes within a scan; NaN: unreadable. */
interface MemoryReading {
  current: number;
  /** NaN when unreadable or not read (memory.stat is read only when something uses it). */
  workingSet: number;
  /** The effective limit, 0 when there is none, NaN when a limit file could not be read. */
  max: number;
  limitDir: string;
  scope: MemoryMaxScope;
  problems: string[];
}

/** One limit file; a missing one (the v2 root, no memory controller) is no limit. */
interface LimitReading {
  /** Infinity for none, NaN when unreadable. */
  limit: number;
  missing: boolean;
  problem: string | undefined;
}

/** The three PSI files of one source, shared by its processes within a scan. */
interface PressureReading {
  source: string;
  /** Why the figures are system-wide, "" when they are the cgroup's own. */
  note: string;
  /** Every variable: the pressure figures (NaN where unreadable), the rest unset. */
  variables: Readonly<Variables>;
  /** Whether any of the three files exists: a cgroup without them falls back to system-wide. */
  found: boolean;
  problems: string[];
}

/** Our cgroupfs mounts, and where our cgroup namespace's root is in the widest tree we see. */
interface OwnMounts {
  memory: HierarchyMount[];
  unified: HierarchyMount[];
  above: { memory: string[]; unified: string[] };
  /**
   * Whether our v1 memory mount is the hierarchy's root (it has `cgroup.sane_behavior`, which
   * only the root has, whatever the cgroup namespace): a walk up it sees every limit.
   */
  wholeMemoryTree: boolean;
}

/** The cgroup mounts of one process's mount namespace, or why they cannot be used. */
type ProcessMounts = { memory: HierarchyMount[]; unified: HierarchyMount[] } | { error: string };

/** What one scan has read so far, keyed by directory: many processes share a cgroup. */
class ScanCache {
  readonly memory = new Map<string, MemoryReading>();
  readonly limits = new Map<string, LimitReading>();
  readonly pressure = new Map<string, PressureReading>();
  /** The pids in each cgroup directory's `cgroup.procs`; undefined where it cannot be read. */
  readonly procs = new Map<string, ReadonlySet<number> | undefined>();
  /** How many watched processes each memory cgroup directory held, read without a problem. */
  readonly watched = new Map<string, number>();
  readonly #states = new Map<string, PathState>();

  /** Records that directory `path` is there: a file in it has just been read. */
  present(path: string): void {
    this.#states.set(path, "present");
  }

  /** {@link pathState}, asked once per path and scan. */
  state(path: string): PathState {
    let state = this.#states.get(path);
    if (state === undefined) {
      state = pathState(path);
      this.#states.set(path, state);
    }
    return state;
  }
}

/** A short, stable reason for a failed read or parse; stable so it is warned about once. */
function describe(path: string, err: unknown): string {
  if (err instanceof Deno.errors.NotFound) return `${path}: not found`;
  if (err instanceof Deno.errors.PermissionDenied) return `${path}: permission denied`;
  return `${path}: ${err instanceof Error ? err.message : String(err)}`;
}

/** Runs `parse` on what was read from `path`; on failure records why and returns undefined. */
function parsed<T>(path: string, parse: () => T, problems: string[]): T | undefined {
  try {
    return parse();
  } catch (err) {
    problems.push(describe(path, err));
    return undefined;
  }
}

/** Reads and parses one file; on failure records why and returns undefined. */
function readParsed<T>(
  path: string,
  parse: (text: string) => T,
  problems: string[],
): T | undefined {
  return parsed(path, () => parse(readKernelFile(path)), problems);
}

/** The pids of a `cgroup.procs` text: one a line. */
function parsePids(text: string): Set<number> {
  const pids = new Set<number>();
  for (const line of text.split("\n")) if (line !== "") pids.add(Number(line));
  return pids;
}

/**
 * Whether `procfs` is a procfs of our own pid namespace: its `self` names our pid. A fixture tree
 * or another namespace's procfs (our pid there, if any, differs) gives false.
 */
function isOwnNamespace(procfs: string): boolean {
  try {
    return Deno.readLinkSync(`${procfs}/self`) === String(Deno.pid);
  } catch {
    return false;
  }
}

/** The memory variables, all unreadable: a cgroup that cannot be read is not an empty one. */
const UNREADABLE_MEMORY = {
  current: NaN,
  workingSet: NaN,
  max: NaN,
  limitDir: "",
  scope: "own",
  problems: [],
} as const satisfies MemoryReading;

/** The pressure of a scan that does not read it: no figure, from nowhere. */
const UNREAD_PRESSURE: PressureReading = Object.freeze({
  source: "",
  note: "",
  variables: Object.freeze({}),
  found: false,
  problems: [],
});

/** How to see the limits above a container, where this view cannot. */
const OWN_SCOPE_HINT = "for the effective limit, run oomhero in the host view (a DaemonSet with " +
  "hostPID: true and the node's /sys/fs/cgroup) or mount the host's cgroupfs and pass --cgroupfs";

/** Each pressure variable with where it comes from, so a scan builds no names. */
const PRESSURE_VARIABLES: ReadonlyArray<
  readonly [string, PressureResource, PressureSeverity, PressureWindow]
> = PRESSURE_RESOURCES.flatMap((resource) =>
  PRESSURE_SEVERITIES.flatMap((severity) =>
    PRESSURE_WINDOWS.map((window) =>
      [pressureVariable(resource, severity, window), resource, severity, window] as const
    )
  )
);

/**
 * The pressure variables of these figures (an unreadable resource's NaN). Built once per source
 * and scan: a spread copy of a ready object costs a process far less than 24 stores by computed
 * name.
 */
function withPressure(
  pressure: Partial<Record<PressureResource, Pressure>>,
): Readonly<Variables> {
  const variables: Variables = {};
  for (const [name, resource, severity, window] of PRESSURE_VARIABLES) {
    variables[name] = pressure[resource]?.[severity][window] ?? NaN;
  }
  return variables;
}

/** The cgroup mounts of `hierarchy` among `mounts`: v1 `memory`, or the cgroup2 tree. */
function hierarchyMounts(
  mounts: readonly CgroupMount[],
  hierarchy: "memory" | "unified",
  version: CgroupVersion,
): CgroupMount[] {
  return mounts.filter((m) =>
    hierarchy === "memory" && version === 1
      ? m.fsType === "cgroup" && m.controllers.includes("memory")
      : m.fsType === "cgroup2"
  );
}

/** The filter of a scan that watches every process. */
const watchAll = (): boolean => true;

/** Why `path` cannot be a mount point given on the command line, if that is the reason. */
function notADirectory(path: string): string | undefined {
  try {
    return Deno.statSync(path).isDirectory ? undefined : `${path} is not a directory`;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return `${path} does not exist`;
    return `${path} cannot be read (${(e as Error).message})`;
  }
}

/** Reads procfs and cgroupfs into samples, one process at a time or all at once. */
export class Collector {
  readonly #procfs: string;
  readonly #cgroupfs: string;
  readonly #log: Logger;
  readonly #selfPid: number;
  readonly #warnings: ProcessWarnings;
  #layout!: CgroupLayout;
  /** Set when a cgroup read failed: the layout is detected again before the next read. */
  #layoutSuspect = false;
  /**
   * Our own cgroup mounts, the host view, and per hierarchy the names of our cgroup namespace's
   * root under the highest tree we have mounted ({@link findSameDirectory}); rebuilt when the
   * layout changes.
   */
  #ours!: OwnMounts;
  /** Other processes' cgroup mounts by pid and start time: mounts outlive scans, not processes. */
  readonly #mounts = new Map<string, ProcessMounts>();
  /** Whether the "limits above cannot be seen" line was logged: once is enough. */
  #ownScopeLogged = false;
  /** Whether the "pressure is system-wide" line was logged: once too. */
  #systemPressureLogged = false;
  /** The kernel files kept open between scans. */
  readonly #files: KeptFiles;
  /** Processes seen in earlier scans, by pid. */
  readonly #known = new Map<number, KnownProcess>();
  /**
   * The pids of the last listing of procfs, and the last pid allocated in our pid namespace
   * then (`/proc/loadavg`); undefined where that cannot tell (another namespace, a fixture).
   */
  #listed: { pids: number[]; lastPid: number | undefined } | undefined;
  /** Whether no pid has been allocated since the last listing, this scan: see {@link scan}. */
  #pidsStill = false;
  /** Whether procfs is of our own pid namespace, so its loadavg's last pid is of its pids. */
  readonly #ownNamespace: boolean;
  readonly #now: () => number;
  /** Counts scans (and collects), so a process's cgroup file is read once in each. */
  #scanNumber = 0;
  /** The last scan's {@link ScanCache.watched}: where a `cgroup.procs` read serves several. */
  #watchedIn = new Map<string, number>();
  /**
   * Where each process's memory cgroup was found, by its parsed cgroup file (parsed again only
   * when the file changes): later scans check the directory is still there instead of resolving
   * the path again. Emptied with the layout, whose mounts the directories are under.
   */
  #memoryLocations = new WeakMap<ProcCgroup, HierarchyLocation>();

  /** Throws a {@link UsageError} when procfs or cgroupfs is not mounted where given. */
  constructor(options: CollectorOptions) {
    this.#procfs = options.procfs.replace(/(.)\/+$/, "$1");
    this.#cgroupfs = options.cgroupfs.replace(/(.)\/+$/, "$1");
    this.#log = options.log;
    this.#selfPid = options.selfPid ?? Deno.pid;
    this.#warnings = new ProcessWarnings(options.log);
    this.#now = options.now ?? (() => performance.now());
    this.#files = new KeptFiles(options.keptFiles ?? KEPT_FILES_CAP);
    this.#ownNamespace = isOwnNamespace(this.#procfs);
    try {
      Deno.statSync(`${this.#procfs}/self/stat`);
    } catch {
      throw new UsageError(
        "--procfs",
        notADirectory(options.procfs) ??
          `${options.procfs} is not a procfs mount (no ${this.#procfs}/self/stat)`,
      );
    }
    const layout = detectLayout(this.#cgroupfs);
    if (layout === undefined) {
      throw new UsageError(
        "--cgroupfs",
        notADirectory(options.cgroupfs) ??
          `${options.cgroupfs} is not a cgroupfs mount (no cgroup.controllers for cgroup v2, ` +
            `no memory/${MEMORY_FILES[1].current} for cgroup v1)`,
      );
    }
    this.#setLayout(layout);
    this.#log.debug("cgroup layout", { cgroupfs: this.#cgroupfs, layout });
  }

  #setLayout(layout: CgroupLayout): void {
    this.#layout = layout;
    this.#ours = this.#ownMounts();
    this.#memoryLocations = new WeakMap();
  }

  /**
   * Our cgroupfs mounts, each with the cgroup at its root as our mountinfo says: a container's
   * /sys/fs/cgroup is often its own cgroup bind-mounted (runc on v1), so its processes' paths
   * from /proc/<pid>/cgroup are found below that root. Without a mountinfo entry (a copied
   * tree, as in tests) the mount is taken for the whole hierarchy.
   */
  #ownMounts(): OwnMounts {
    let mounts: CgroupMount[] = [];
    try {
      mounts = parseCgroupMounts(readKernelFile(`${this.#procfs}/self/mountinfo`));
    } catch {
      // No mountinfo: a copied tree. Every mount then holds its whole hierarchy.
    }
    const version = layoutVersion(this.#layout);
    const dirs = layoutMounts(this.#layout, this.#cgroupfs);
    const mount = (dir: string | undefined, hierarchy: "memory" | "unified") => {
      if (dir === undefined) return [];
      let real = dir;
      try {
        real = Deno.realPathSync(dir);
      } catch {
        // Checked at startup; a vanished mount shows in the reads.
      }
      const entry = hierarchyMounts(mounts, hierarchy, version).find((m) => m.mountPoint === real);
      return [{ dir, root: entry?.root ?? "/" }];
    };
    const memoryAbove = this.#namespaceRoot(hierarchyMounts(mounts, "memory", version));
    return {
      wholeMemoryTree: version === 1 && dirs.memory !== undefined &&
        pathState(`${dirs.memory}/cgroup.sane_behavior`) === "present",
      memory: mount(dirs.memory, "memory"),
      unified: mount(dirs.unified, "unified"),
      above: {
        memory: memoryAbove,
        // On v2 both are the one cgroup2 tree.
        unified: dirs.unified === undefined
          ? []
          : version === 2
          ? memoryAbove
          : this.#namespaceRoot(hierarchyMounts(mounts, "unified", version)),
      },
    };
  }

  /**
   * Where our cgroup namespace's root is, as names below the widest tree of one hierarchy that
   * we have mounted (the host's, bind-mounted into a private cgroup namespace): found by the
   * inode of our own mount of that root. Empty when we mount no such tree or none of our root.
   */
  #namespaceRoot(mounts: readonly CgroupMount[]): string[] {
    const climbsOnly = (root: string) => root.split("/").every((s) => s === "" || s === "..");
    const own = mounts.find((m) => m.root === "/");
    const widest = mounts.filter((m) => m.root !== "/" && climbsOnly(m.root))
      .sort((a, b) => b.root.length - a.root.length)[0];
    if (own === undefined || widest === undefined) return [];
    let names: string[] | undefined;
    try {
      const depth = widest.root.split("/").filter((s) => s === "..").length;
      names = findSameDirectory(widest.mountPoint, depth, Deno.statSync(own.mountPoint));
    } catch {
      names = undefined;
    }
    this.#log.debug("cgroup namespace root", {
      tree: widest.mountPoint,
      names: names?.join("/") ?? "(not found)",
    });
    return names ?? [];
  }

  /** The cgroup layout in use: `v1`, `v2` or `hybrid`. */
  get layout(): CgroupLayout {
    return this.#layout;
  }

  /**
   * Samples every process in procfs whose command line `watched` accepts, except kernel threads,
   * processes that exit meanwhile and oomhero itself. Problems are logged once per process and
   * reason. A process `watched` rejects costs three reads when it appears (then see
   * {@link Collector.#identify}) and is never warned about: with `--include java` on a node, the
   * other processes are none of oomhero's business.
   */
  scan(
    watched: (cmdline: string, pid: number) => boolean = watchAll,
    needs: Readonly<Needs> = ALL_NEEDS,
  ): ProcessSample[] {
    this.#redetectIfSuspect();
    this.#scanNumber++;
    const cache = new ScanCache();
    const live = new Map<number, number | undefined>();
    const samples: ProcessSample[] = [];
    for (const pid of this.#pids()) {
      if (pid === this.#selfPid) continue;
      const sample = this.#sample(pid, cache, live, watched, needs);
      if (sample !== undefined) samples.push(sample);
    }
    this.#warnings.retain(live);
    // forEach, not `for…of` over the entries: that made a pair a process every scan.
    this.#known.forEach((known, pid) => {
      if (live.get(pid) !== known.startTime) this.#forget(pid);
    });
    this.#files.endScan();
    this.#watchedIn = cache.watched;
    for (const key of this.#mounts.keys()) {
      const [pid, startTime] = key.split(":").map(Number);
      if (live.get(pid) !== startTime) this.#mounts.delete(key);
    }
    return samples;
  }

  /** Samples one process; undefined when it does not exist or is a kernel thread. */
  collect(pid: number): ProcessSample | undefined {
    this.#redetectIfSuspect();
    this.#scanNumber++;
    // One pid, not a listing: who it is must be read.
    this.#pidsStill = false;
    return this.#sample(pid, new ScanCache(), new Map(), watchAll, ALL_NEEDS);
  }

  /** How many kernel files are kept open between scans. */
  get keptFiles(): number {
    return this.#files.size;
  }

  /** The start time of `pid` now (field 22 of its stat), undefined when it is gone. */
  readStartTime(pid: number): number | undefined {
    try {
      return parseStatStartTime(readKernelFile(`${this.#procfs}/${pid}/stat`));
    } catch {
      return undefined;
    }
  }

  /**
   * The signal masks of `pid` now, from `/proc/<pid>/status`: read only before a signal is sent
   * and by `inspect`, never by a scan.
   * @throws {Error} naming the file and what is wrong with it.
   */
  readSignalMasks(pid: number): SignalMasks {
    const path = `${this.#procfs}/${pid}/status`;
    try {
      return parseSignalMasks(readKernelFile(path));
    } catch (err) {
      throw new Error(describe(path, err));
    }
  }

  /**
   * oomhero's ancestors (parent, grandparent, … up to but not including pid 1), each as pid and
   * start time. Their command lines often repeat oomhero's own flags (`deno task start
   * --include java`, a shell, `timeout`), so an `--include` that matches oomhero matches them too.
   */
  ancestors(): { pid: number; startTime: number }[] {
    const out: { pid: number; startTime: number }[] = [];
    // Each stat file is read once: it gives the process's start time and its parent's pid.
    let ppid = this.#statPpid(this.#selfPid);
    // The bound only guards against a malformed procfs; real chains are a handful long.
    while (ppid !== undefined && ppid > 1 && out.length < 64) {
      let stat: string;
      try {
        stat = readKernelFile(`${this.#procfs}/${ppid}/stat`);
        out.push({ pid: ppid, startTime: parseStatStartTime(stat) });
      } catch {
        break;
      }
      ppid = parseStatPpid(stat);
    }
    return out;
  }

  /** The parent pid of `pid`, undefined when its stat cannot be read. */
  #statPpid(pid: number): number | undefined {
    try {
      return parseStatPpid(readKernelFile(`${this.#procfs}/${pid}/stat`));
    } catch {
      return undefined;
    }
  }

  #redetectIfSuspect(): void {
    if (!this.#layoutSuspect) return;
    this.#layoutSuspect = false;
    const layout = detectLayout(this.#cgroupfs);
    if (layout === undefined || layout === this.#layout) return;
    this.#log.info("cgroup layout changed", { from: this.#layout, to: layout });
    this.#setLayout(layout);
    this.#mounts.clear();
  }

  /**
   * The pids in procfs. Listing procfs is the dearest part of a scan of a few processes; while no
   * pid has been allocated since the last listing (loadavg's last pid: it moves with every
   * process and thread created in our namespace and those below), no process can have appeared
   * and no pid been reused, so the last listing stands, less the processes found gone.
   */
  #pids(): number[] {
    const lastPid = this.#lastPid();
    this.#pidsStill = lastPid !== undefined && this.#listed?.lastPid === lastPid;
    if (this.#pidsStill) return this.#listed!.pids;
    const pids: number[] = [];
    for (const entry of Deno.readDirSync(this.#procfs)) {
      if (entry.isDirectory && /^\d+$/.test(entry.name)) pids.push(Number(entry.name));
    }
    pids.sort((a, b) => a - b);
    this.#listed = { pids, lastPid };
    return pids;
  }

  /** The last pid allocated in our namespace; undefined when procfs is not of it. */
  #lastPid(): number | undefined {
    if (!this.#ownNamespace) return undefined;
    try {
      return parseLoadavgLastPid(this.#files.read(`${this.#procfs}/loadavg`));
    } catch {
      return undefined;
    }
  }

  /** Makes the next scan list procfs again: a process in the last listing is gone. */
  #relist(): void {
    if (this.#listed !== undefined) this.#listed.lastPid = undefined;
  }

  /** Samples one process; records its start time in `live` so its warnings are kept. */
  #sample(
    pid: number,
    cache: ScanCache,
    live: Map<number, number | undefined>,
    watched: (cmdline: string, pid: number) => boolean,
    needs: Readonly<Needs>,
  ): ProcessSample | undefined {
    const known = this.#identify(pid, live);
    if (known === undefined) return undefined;
    live.set(pid, known.startTime);
    // Kernel threads (and zombies) have no command line and no memory of their own.
    if (known.raw === "" || !watched(known.cmdline, pid)) return undefined;
    // Watched: its cgroup is read every scan, a move shows at once, and an exit too.
    if (known.cgroupReadIn !== this.#scanNumber && !this.#stillIn(known, pid, cache, needs)) {
      const before = known.cgroupText;
      try {
        this.#setCgroupText(known, this.#files.readProcessFile(known.paths.cgroup));
        known.cgroupReadIn = this.#scanNumber;
        // Moved, or exiting (a zombie leaves its cgroups): its command line says which.
        if (known.cgroupText !== before) {
          this.#readCmdline(known);
          if (known.raw === "" || !watched(known.cmdline, pid)) return undefined;
        } else if (before !== undefined && known.memoryDir !== undefined) {
          // Still a member: a cgroup with a member cannot be removed, so no stat of its directory.
          cache.present(known.memoryDir);
        }
      } catch {
        if (this.readStartTime(pid) !== known.startTime) {
          this.#log.debug("process vanished", { pid });
          this.#forget(pid);
          this.#relist();
          return undefined;
        }
        // Unreadable but there: read by path and reported below.
        this.#setCgroupText(known, undefined);
      }
    }
    const { startTime } = known;
    const problems: string[] = [];
    const sample = this.#read(pid, known, cache, problems, needs);
    if (problems.length === 0) return sample;
    // A process that exits mid-read takes its files, and maybe its cgroup, with it: not a problem.
    if (this.readStartTime(pid) !== startTime) {
      this.#log.debug("process vanished", { pid });
      this.#forget(pid);
      this.#relist();
      return undefined;
    }
    // One moved to another cgroup mid-read may find the old one removed: read it next scan.
    if (
      sample !== undefined && this.#cgroupPath(pid, sample.source.version) !== sample.source.path
    ) {
      this.#log.debug("process changed cgroup", { pid });
      return undefined;
    }
    for (const problem of problems) this.#warnings.warn(pid, startTime, problem);
    return sample;
  }

  /**
   * The process at `pid` as known from earlier scans, its cgroup file read again; or found
   * afresh when it is new, gone or its pid reused. Undefined when it is gone or its stat cannot
   * be read (then warned about, as that pid without a start time).
   */
  #identify(pid: number, live: Map<number, number | undefined>): KnownProcess | undefined {
    const dir = `${this.#procfs}/${pid}`;
    const known = this.#known.get(pid);
    if (known !== undefined && this.#pidsStill) {
      // No pid allocated since it was identified: the same process, or gone (then its cgroup
      // file, read if it is watched, fails, or its next command line read does).
      try {
        if (this.#cmdlineDue(known)) this.#readCmdline(known);
        return known;
      } catch {
        this.#forget(pid);
        this.#relist();
        return undefined;
      }
    }
    if (known !== undefined) {
      const kept = this.#files.has(known.paths.cgroup);
      if (kept || this.readStartTime(pid) === known.startTime) {
        try {
          this.#setCgroupText(known, this.#files.readProcessFile(known.paths.cgroup));
          known.cgroupReadIn = this.#scanNumber;
          if (this.#cmdlineDue(known)) this.#readCmdline(known);
          return known;
        } catch {
          // Gone (ESRCH through the kept descriptor), or its pid reused: found afresh below.
        }
      }
      this.#forget(pid);
    }
    // The cgroup file is opened before the stat is read: a kept descriptor is then never of a
    // process younger than the start time it is filed under.
    const paths = processPaths(dir);
    let cgroupReadIn = -1;
    let cgroupText: string | undefined;
    try {
      cgroupText = this.#files.readProcessFile(paths.cgroup);
      cgroupReadIn = this.#scanNumber;
    } catch {
      // Read again, and reported, when a scan watches the process.
    }
    const statPath = `${dir}/stat`;
    let stat: string;
    try {
      stat = readKernelFile(statPath);
    } catch (err) {
      this.#files.closeAll(Object.values(paths));
      // A process that is gone takes its files with it (NotFound, or ESRCH while it exits).
      if (!(err instanceof Deno.errors.PermissionDenied)) {
        this.#log.debug("process vanished", { pid });
        this.#relist();
        return undefined;
      }
      live.set(pid, undefined);
      this.#warnings.warn(pid, undefined, describe(statPath, err));
      return undefined;
    }
    let startTime: number;
    try {
      startTime = parseStatStartTime(stat);
    } catch (err) {
      this.#files.closeAll(Object.values(paths));
      live.set(pid, undefined);
      this.#warnings.warn(pid, undefined, describe(statPath, err));
      return undefined;
    }
    const found: KnownProcess = {
      startTime,
      paths,
      raw: "",
      cmdline: "",
      firstArg: "",
      cmdlineReadAt: 0,
      cmdlineReads: 0,
      cgroupText: undefined,
      cgroups: undefined,
      cgroupReadIn,
      memoryDir: undefined,
    };
    try {
      this.#readCmdline(found);
    } catch (err) {
      this.#files.closeAll(Object.values(paths));
      live.set(pid, startTime);
      this.#warnings.warn(pid, startTime, describe(`${dir}/cmdline`, err));
      return undefined;
    }
    this.#setCgroupText(found, cgroupText);
    this.#known.set(pid, found);
    return found;
  }

  /**
   * Whether a known process is where its figures were last read from, as that memory cgroup's
   * `cgroup.procs` says (read once per cgroup and scan): one read for all the processes of a
   * cgroup instead of each one's cgroup file, which the kernel renders for every hierarchy. Only
   * while no pid has been allocated (the pid in the list is the same process), and where the
   * memory cgroup tells all (cgroup v2's one tree, or no pressure read from v1's second tree).
   */
  #stillIn(known: KnownProcess, pid: number, cache: ScanCache, needs: Readonly<Needs>): boolean {
    const dir = known.memoryDir;
    if (!this.#pidsStill || dir === undefined) return false;
    if (needs.pressure && layoutVersion(this.#layout) === 1) return false;
    // Alone there last scan: its own cgroup file through its kept descriptor costs less (5 µs
    // against 10 µs for a v1 cgroup.procs opened afresh).
    if ((this.#watchedIn.get(dir) ?? 0) < 2) return false;
    let procs = cache.procs.get(dir);
    if (!cache.procs.has(dir)) {
      const path = `${dir}/cgroup.procs`;
      try {
        // v1 keeps an open cgroup.procs' list of pids and hands it out again while it is read
        // often: only a fresh open lists them as they are now. v2 lists afresh from offset 0.
        procs = parsePids(
          layoutVersion(this.#layout) === 1 ? readKernelFile(path) : this.#files.read(path),
        );
        // Read just now: locating the cgroup this scan needs no stat of its directory.
        cache.present(dir);
      } catch {
        procs = undefined;
      }
      cache.procs.set(dir, procs);
    }
    return procs?.has(pid) === true;
  }

  /** Whether the command line of a known process is due to be read again. */
  #cmdlineDue(known: KnownProcess): boolean {
    return known.cmdlineReads < CMDLINE_SETTLE_SCANS ||
      this.#now() - known.cmdlineReadAt >= CMDLINE_RECHECK_MS;
  }

  /**
   * Reads the command line into `known`, through a kept descriptor in the first half of the
   * budget, as the scores (it holds no kernel buffer, and a read sees an exec's new command line
   * as one by path does); throws what the read throws.
   */
  #readCmdline(known: KnownProcess): void {
    const raw = this.#files.readProcessFile(known.paths.cmdline, CMDLINE_LIMIT, SECONDARY_SHARE);
    known.cmdlineReadAt = this.#now();
    known.cmdlineReads++;
    if (raw === known.raw) return;
    known.raw = raw;
    ({ cmdline: known.cmdline, firstArg: known.firstArg } = raw === ""
      ? { cmdline: "", firstArg: "" }
      : parseCmdline(raw));
  }

  /** Files the cgroup file's text, parsed again only when it changed. */
  #setCgroupText(known: KnownProcess, text: string | undefined): void {
    if (text === known.cgroupText) return;
    known.cgroupText = text;
    known.cgroups = undefined;
  }

  /** Forgets a process and closes its kept files. */
  #forget(pid: number): void {
    const known = this.#known.get(pid);
    if (known === undefined) return;
    this.#known.delete(pid);
    this.#files.closeAll(Object.values(known.paths));
  }

  /** The memory cgroup path of `pid` now, as {@link CgroupSource} `path` holds it. */
  #cgroupPath(pid: number, version: 1 | 2): string | undefined {
    try {
      const cgroups = parseProcCgroup(readKernelFile(`${this.#procfs}/${pid}/cgroup`));
      return memoryPath(version, cgroups) ?? "";
    } catch {
      return undefined;
    }
  }

  /**
   * A process's score file, through a kept descriptor; NaN, with the cause, when unreadable.
   * Scores keep descriptors only in the first half of the budget: the rest is for the cgroup
   * files that tell every process apart.
   */
  #score(path: string, problems: string[]): number {
    const read = () => this.#files.readProcessFile(path, undefined, SECONDARY_SHARE);
    return parsed(path, () => parseOomScore(read()), problems) ?? NaN;
  }

  /**
   * Reads what `needs` asks for beyond the stat and command line; undefined when the cgroup
   * file cannot be read or parsed.
   */
  #read(
    pid: number,
    known: KnownProcess,
    cache: ScanCache,
    problems: string[],
    needs: Readonly<Needs>,
  ): ProcessSample | undefined {
    const dir = `${this.#procfs}/${pid}`;
    if (known.cgroups === undefined) {
      const text = known.cgroupText;
      known.cgroups = text === undefined
        ? readParsed(`${dir}/cgroup`, parseProcCgroup, problems)
        : parsed(`${dir}/cgroup`, () => parseProcCgroup(text), problems);
      // Unreadable or garbled: parsed again next scan, whatever the text then.
      if (known.cgroups === undefined) {
        known.cgroupText = undefined;
        return undefined;
      }
    }
    const cgroups = known.cgroups;
    const { startTime, cmdline, firstArg } = known;
    const { paths } = known;
    const oomScore = needs.oomScore ? this.#score(paths.oom_score, problems) : NaN;
    const oomScoreAdj = needs.oomScoreAdj ? this.#score(paths.oom_score_adj, problems) : NaN;
    const { source, variables } = this.#readCgroup(
      pid,
      startTime,
      cgroups,
      cache,
      problems,
      needs,
    );
    if (needs.oomScore) variables.oom_score = oomScore;
    if (needs.oomScoreAdj) variables.oom_score_adj = oomScoreAdj;
    // Where a later scan may check it is still (see #stillIn): read without a problem only.
    known.memoryDir = source.memoryDir !== "" && problems.length === 0
      ? source.memoryDir
      : undefined;
    if (known.memoryDir !== undefined) {
      cache.watched.set(known.memoryDir, (cache.watched.get(known.memoryDir) ?? 0) + 1);
    }
    const sample: ProcessSample = { pid, startTime, cmdline, firstArg, source, variables };
    if (problems.length > 0) sample.unreadable = [...new Set(problems)];
    return sample;
  }

  /** The variables read from the process's cgroup (NaN where unreadable), and where from. */
  #readCgroup(
    pid: number,
    startTime: number,
    cgroups: ProcCgroup,
    cache: ScanCache,
    problems: string[],
    needs: Readonly<Needs>,
  ): { source: CgroupSource; variables: Variables } {
    const version = layoutVersion(this.#layout);
    const path = memoryPath(version, cgroups);
    const theirs = (hierarchy: "memory" | "unified") => () => {
      const mounts = this.#processMounts(pid, startTime, cache);
      if ("error" in mounts) throw new Error(mounts.error);
      return mounts[hierarchy];
    };
    let location: HierarchyLocation | undefined;
    if (!needs.memory) {
      // Not read: nothing this scan looks at the memory figures (they stay NaN).
    } else if (path === undefined) {
      problems.push(`no cgroup v${version} memory line in ${this.#procfs}/${pid}/cgroup`);
    } else {
      location = this.#memoryLocations.get(cgroups);
      if (location === undefined || cache.state(location.dir) !== "present") {
        location = this.#locate("memory", path, theirs("memory"), cache, problems);
        if (location !== undefined) this.#memoryLocations.set(cgroups, location);
      }
    }
    const memory = location === undefined
      ? UNREADABLE_MEMORY
      : this.#memory(location, version, cache, needs);
    problems.push(...memory.problems);
    const pressure = needs.pressure
      ? this.#pressure(pid, cgroups.unified, theirs("unified"), cache)
      : UNREAD_PRESSURE;
    problems.push(...pressure.problems);
    const source: CgroupSource = {
      version,
      view: location?.view ?? "host",
      path: path ?? "",
      memoryDir: location?.dir ?? "",
      limitDir: memory.limitDir,
      memoryMaxScope: memory.scope,
      pressureSource: pressure.source,
      pressureNote: pressure.note,
    };
    // Only the figures read: a process's object is the smaller, and nothing reads the rest.
    const variables: Variables = needs.pressure ? { ...pressure.variables } : {};
    if (needs.memory) {
      variables.memory_current = memory.current;
      variables.memory_max = memory.max;
      // No limit: 0, as the original tool reads it; an unreadable figure stays NaN.
      const limited = memory.max > 0 || Number.isNaN(memory.max);
      variables.memory_usage = limited ? memory.current / memory.max * 100 : 0;
      if (needs.workingSet) {
        variables.memory_working_set = memory.workingSet;
        variables.memory_working_set_usage = limited ? memory.workingSet / memory.max * 100 : 0;
      }
    }
    if (memory.scope === "own" && location !== undefined) this.#logOwnScope(source);
    return { source, variables };
  }

  /** Says once that limits above the containers cannot be seen, and how to see them. */
  #logOwnScope(source: CgroupSource): void {
    if (this.#ownScopeLogged) return;
    this.#ownScopeLogged = true;
    this.#log.warn("memory limits set above a container's own cgroup cannot be seen", {
      why: `cgroup v${source.version} in a private cgroup namespace shows only the ` +
        `container's own cgroup and below (${source.memoryDir})`,
      effect: "memory_max and memory_usage use the container's own limit",
      fix: OWN_SCOPE_HINT,
    });
  }

  /** {@link locateHierarchy}; undefined, with the cause among `problems`, when it fails. */
  #locate(
    what: "memory" | "cgroup2",
    path: string,
    theirs: () => readonly HierarchyMount[],
    cache: ScanCache,
    problems: string[],
  ): HierarchyLocation | undefined {
    const hierarchy = what === "memory" ? "memory" : "unified";
    try {
      return locateHierarchy(
        what,
        path,
        this.#ours[hierarchy],
        theirs,
        (p) => cache.state(p),
        this.#ours.above[hierarchy],
      );
    } catch (err) {
      this.#layoutSuspect = true;
      problems.push(err instanceof Error ? err.message : String(err));
      return undefined;
    }
  }

  /**
   * The cgroup mounts of `pid`'s own mount namespace, under `<procfs>/<pid>/root`: its
   * mountinfo, read once per process (mounts do not move under a running container), and
   * whether we may look through its root at all (another container's needs CAP_SYS_PTRACE).
   */
  #processMounts(pid: number, startTime: number, cache: ScanCache): ProcessMounts {
    const key = `${pid}:${startTime}`;
    const cached = this.#mounts.get(key);
    if (cached !== undefined) return cached;
    const root = `${this.#procfs}/${pid}/root`;
    let mounts: ProcessMounts;
    if (cache.state(root) === "denied") {
      mounts = {
        error: `${root}: permission denied: oomhero lacks CAP_SYS_PTRACE, which reading ` +
          "another container's cgroup through /proc/<pid>/root needs",
      };
    } else {
      try {
        const all = parseCgroupMounts(readKernelFile(`${this.#procfs}/${pid}/mountinfo`));
        const version = layoutVersion(this.#layout);
        const under = (hierarchy: "memory" | "unified") =>
          hierarchyMounts(all, hierarchy, version).map((m) => ({
            dir: `${root}${m.mountPoint === "/" ? "" : m.mountPoint}`,
            root: m.root,
          }));
        mounts = { memory: under("memory"), unified: under("unified") };
      } catch (err) {
        mounts = { error: describe(`${this.#procfs}/${pid}/mountinfo`, err) };
      }
    }
    this.#mounts.set(key, mounts);
    return mounts;
  }

  /**
   * The memory figures of a cgroup, once per scan, as far as `needs` asks: memory.stat only for
   * the working set, or on v1 for the limit it states where our view does not reach the tree's
   * top. The limit files up the tree are read where memory.stat does not state the limit, and
   * for `limitSource` (where the limit is set).
   */
  #memory(
    location: HierarchyLocation,
    version: CgroupVersion,
    cache: ScanCache,
    needs: Readonly<Needs>,
  ): MemoryReading {
    const memoryDir = location.dir;
    const cached = cache.memory.get(memoryDir);
    if (cached !== undefined) return cached;
    const files = MEMORY_FILES[version];
    const problems: string[] = [];
    const currentPath = `${memoryDir}/${files.current}`;
    const current =
      parsed(currentPath, () => parseMemoryBytes(this.#files.read(currentPath)), problems) ?? NaN;
    if (Number.isNaN(current)) this.#layoutSuspect = true;
    // A walk up a whole v1 tree sees every limit: the one memory.stat would state.
    const wholeTree = version === 1 && location.view === "host" &&
      this.#ours.wholeMemoryTree;
    const statPath = `${memoryDir}/memory.stat`;
    const stat = needs.workingSet || (version === 1 && !wholeTree)
      ? parsed(statPath, () => this.#files.read(statPath), problems)
      : undefined;
    // Without inactive_file the working set is taken as all of usage: the cautious figure.
    const inactive = stat === undefined
      ? 0
      : parsed(statPath, () => parseInactiveFile(stat, version), problems) ?? 0;
    // v1 states the limit it enforces, ancestors included, however few of them we can see.
    const hierarchical = version === 1 && stat !== undefined
      ? parsed(statPath, () => parseHierarchicalLimit(stat), problems)
      : undefined;
    let limit = Infinity;
    let limitDir = "";
    let unreadable = false;
    let top: LimitReading | undefined;
    const walk = hierarchical === undefined || needs.limitSource;
    for (const dir of walk ? ancestors(memoryDir, location.root) : []) {
      top = this.#limit(`${dir}/${files.limit}`, cache);
      if (top.problem !== undefined) {
        unreadable = true;
        problems.push(top.problem);
      }
      if (top.limit < limit) {
        limit = top.limit;
        limitDir = dir;
      }
    }
    let scope: MemoryMaxScope;
    if (hierarchical !== undefined) {
      scope = "effective";
      unreadable = false;
      // Not walked: where the limit is set was not asked for ("").
      if (walk && hierarchical < limit) {
        limitDir = `an ancestor above ${location.root} (memory.stat hierarchical_memory_limit)`;
      }
      limit = hierarchical;
    } else {
      // The v2 root has no memory.max and no cgroup.type: a walk that reached it saw every limit.
      const reachedRoot = wholeTree || version === 2 && top?.missing === true &&
          cache.state(`${location.root}/cgroup.type`) === "absent";
      scope = reachedRoot ? "effective" : "own";
    }
    if (!Number.isFinite(limit)) limitDir = "";
    const reading: MemoryReading = {
      current,
      workingSet: needs.workingSet ? Math.max(0, current - inactive) : NaN,
      max: unreadable ? NaN : Number.isFinite(limit) ? limit : 0,
      limitDir,
      scope,
      problems,
    };
    cache.memory.set(memoryDir, reading);
    return reading;
  }

  /** Reads a shared file that may legitimately be absent. */
  #readIfExists(path: string): string | undefined {
    try {
      return this.#files.read(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    }
  }

  #limit(path: string, cache: ScanCache): LimitReading {
    const cached = cache.limits.get(path);
    if (cached !== undefined) return cached;
    let reading: LimitReading;
    try {
      const text = this.#readIfExists(path);
      reading = {
        limit: text === undefined ? Infinity : parseMemoryLimit(text),
        missing: text === undefined,
        problem: undefined,
      };
    } catch (err) {
      reading = { limit: NaN, missing: false, problem: describe(path, err) };
    }
    cache.limits.set(path, reading);
    return reading;
  }

  /**
   * The cgroup's PSI files. System-wide ones only where the kernel keeps none for the cgroup
   * (cgroup v1, or a cgroup2 directory without `*.pressure` files), and then `note` says so; a
   * cgroup that cannot be found or read has unreadable pressure, never the whole system's.
   */
  #pressure(
    pid: number,
    path: string | undefined,
    theirs: () => readonly HierarchyMount[],
    cache: ScanCache,
  ): PressureReading {
    if (this.#ours.unified.length === 0) {
      return this.#systemPressure("cgroup v1 keeps no pressure figures per cgroup", cache);
    }
    if (path === undefined) {
      return this.#systemPressure(`no cgroup2 line in ${this.#procfs}/${pid}/cgroup`, cache);
    }
    const problems: string[] = [];
    const location = this.#locate("cgroup2", path, theirs, cache, problems);
    if (location === undefined) {
      return { source: "", note: "", variables: withPressure({}), found: false, problems };
    }
    const dir = location.dir;
    const reading = this.#readPressure(dir, (r) => `${dir}/${r}.pressure`, "", cache);
    if (reading.found) return reading;
    return this.#systemPressure(`no *.pressure files in ${dir} (per-cgroup PSI is off)`, cache);
  }

  #systemPressure(note: string, cache: ScanCache): PressureReading {
    if (!this.#systemPressureLogged) {
      this.#systemPressureLogged = true;
      this.#log.info("pressure figures are system-wide where the kernel keeps none per cgroup", {
        why: note,
      });
    }
    const system = `${this.#procfs}/pressure`;
    const reading = this.#readPressure(system, (r) => `${system}/${r}`, note, cache);
    return reading.note === note ? reading : { ...reading, note };
  }

  #readPressure(
    source: string,
    file: (resource: PressureResource) => string,
    note: string,
    cache: ScanCache,
  ): PressureReading {
    const cached = cache.pressure.get(source);
    if (cached !== undefined) return cached;
    const pressure: Partial<Record<PressureResource, Pressure>> = {};
    const missing: string[] = [];
    const problems: string[] = [];
    for (const resource of PRESSURE_RESOURCES) {
      const path = file(resource);
      try {
        const text = this.#readIfExists(path);
        if (text === undefined) missing.push(path);
        else pressure[resource] = parsePressure(text);
      } catch (err) {
        problems.push(describe(path, err));
      }
    }
    const found = missing.length < PRESSURE_RESOURCES.length;
    // Some files but not all: the missing ones are unreadable, not quiet.
    if (found || note !== "") problems.push(...missing.map((path) => `${path}: not found`));
    const reading = { source, note, variables: withPressure(pressure), found, problems };
    cache.pressure.set(source, reading);
    return reading;
  }
}
