/**
 * The collector: reads procfs and cgroupfs into one {@link ProcessSample} per process.
 * Reads are small synchronous file reads; nothing is executed and nothing is written.
 * @module
 */
import {
  ancestors,
  type CgroupLayout,
  type CgroupLocation,
  detectLayout,
  layoutVersion,
  locateCgroup,
  MEMORY_FILES,
  memoryPath,
  parseInactiveFile,
  parseMemoryBytes,
  parseMemoryLimit,
  pathExists,
} from "./cgroup.ts";
import { KERNEL_FILE_BUFFER_BYTES, readKernelFile } from "./kernel_file.ts";
import type { Logger } from "./log.ts";
import { parsePressure, type Pressure, zeroPressure } from "./pressure.ts";
import {
  parseCmdline,
  parseOomScore,
  parseProcCgroup,
  parseStatPpid,
  parseStatStartTime,
  type ProcCgroup,
} from "./procfs.ts";
import type { CgroupSource, ProcessSample } from "./sample.ts";
import { NO_TREND } from "./trend.ts";
import { UsageError } from "./usage_error.ts";
import {
  PRESSURE_RESOURCES,
  PRESSURE_SEVERITIES,
  PRESSURE_WINDOWS,
  type PressureResource,
  type PressureSeverity,
  pressureVariable,
  type PressureWindow,
  VARIABLE_NAMES,
  type Variables,
} from "./variables.ts";
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
}

/** The most of a command line read: enough to match on, and a 10 MB one costs no memory. */
const CMDLINE_LIMIT = KERNEL_FILE_BUFFER_BYTES;

/** The memory figures of one cgroup, shared by its processes within a scan. */
interface MemoryReading {
  current: number;
  workingSet: number;
  /** The effective limit, 0 when there is none. */
  max: number;
  limitDir: string;
  problems: string[];
}

/** One limit file; a missing one (the v2 root, no memory controller) is no limit. */
interface LimitReading {
  limit: number;
  problem: string | undefined;
}

/** The three PSI files of one source, shared by its processes within a scan. */
interface PressureReading {
  source: string;
  /** Every variable: the pressure figures, the rest at 0; each process starts from a copy. */
  variables: Readonly<Variables>;
  /** Whether any of the three files exists: a cgroup without them falls back to system-wide. */
  found: boolean;
  problems: string[];
}

/** What one scan has read so far, keyed by directory: many processes share a cgroup. */
class ScanCache {
  readonly memory = new Map<string, MemoryReading>();
  readonly limits = new Map<string, LimitReading>();
  readonly pressure = new Map<string, PressureReading>();
  readonly #exists = new Map<string, boolean>();

  /** {@link pathExists}, asked once per path and scan. */
  exists(path: string): boolean {
    let exists = this.#exists.get(path);
    if (exists === undefined) {
      exists = pathExists(path);
      this.#exists.set(path, exists);
    }
    return exists;
  }
}

/** A short, stable reason for a failed read or parse; stable so it is warned about once. */
function describe(path: string, err: unknown): string {
  if (err instanceof Deno.errors.NotFound) return `${path}: not found`;
  if (err instanceof Deno.errors.PermissionDenied) return `${path}: permission denied`;
  return `${path}: ${err instanceof Error ? err.message : String(err)}`;
}

/** Reads and parses one file; on failure records why and returns undefined. */
function readParsed<T>(
  path: string,
  parse: (text: string) => T,
  problems: string[],
): T | undefined {
  try {
    return parse(readKernelFile(path));
  } catch (err) {
    problems.push(describe(path, err));
    return undefined;
  }
}

/** Reads a file that may legitimately be absent. */
function readIfExists(path: string): string | undefined {
  try {
    return readKernelFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/**
 * Every variable at 0, what an unreadable figure reads as, and the trend variables at "no trend":
 * one scan cannot measure a trend (the monitor's TrendTracker fills them in).
 */
const ZERO_VARIABLES: Readonly<Variables> = Object.freeze({
  ...Object.fromEntries(VARIABLE_NAMES.map((name) => [name, 0])),
  ...NO_TREND,
});

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
 * {@link ZERO_VARIABLES} with these pressure figures. Built once per source and scan: a spread
 * copy of a ready object costs a process far less than 24 stores by computed name.
 */
function withPressure(pressure: Record<PressureResource, Pressure>): Readonly<Variables> {
  const variables: Variables = { ...ZERO_VARIABLES };
  for (const [name, resource, severity, window] of PRESSURE_VARIABLES) {
    variables[name] = pressure[resource][severity][window];
  }
  return variables;
}

/** The filter of a scan that watches every process. */
const watchAll = (): boolean => true;

/** Reads procfs and cgroupfs into samples, one process at a time or all at once. */
export class Collector {
  readonly #procfs: string;
  readonly #cgroupfs: string;
  readonly #log: Logger;
  readonly #selfPid: number;
  readonly #warnings: ProcessWarnings;
  #layout: CgroupLayout;
  /** Set when a cgroup read failed: the layout is detected again before the next read. */
  #layoutSuspect = false;

  /** Throws a {@link UsageError} when procfs or cgroupfs is not mounted where given. */
  constructor(options: CollectorOptions) {
    this.#procfs = options.procfs.replace(/(.)\/+$/, "$1");
    this.#cgroupfs = options.cgroupfs.replace(/(.)\/+$/, "$1");
    this.#log = options.log;
    this.#selfPid = options.selfPid ?? Deno.pid;
    this.#warnings = new ProcessWarnings(options.log);
    try {
      Deno.statSync(`${this.#procfs}/self/stat`);
    } catch {
      throw new UsageError(
        "--procfs",
        `${options.procfs} is not a procfs mount (no ${this.#procfs}/self/stat)`,
      );
    }
    const layout = detectLayout(this.#cgroupfs);
    if (layout === undefined) {
      throw new UsageError(
        "--cgroupfs",
        `${options.cgroupfs} is not a cgroupfs mount (no cgroup.controllers for cgroup v2, ` +
          `no memory/${MEMORY_FILES[1].current} for cgroup v1)`,
      );
    }
    this.#layout = layout;
    this.#log.debug("cgroup layout", { cgroupfs: this.#cgroupfs, layout });
  }

  /** The cgroup layout in use: `v1`, `v2` or `hybrid`. */
  get layout(): CgroupLayout {
    return this.#layout;
  }

  /**
   * Samples every process in procfs whose command line `watched` accepts, except kernel threads,
   * processes that exit meanwhile and oomhero itself. Problems are logged once per process and
   * reason. A process `watched` rejects costs two reads (stat and cmdline) and is never warned
   * about: with `--include java` on a node, the other processes are none of oomhero's business.
   */
  scan(watched: (cmdline: string) => boolean = watchAll): ProcessSample[] {
    this.#redetectIfSuspect();
    const cache = new ScanCache();
    const live = new Map<number, number | undefined>();
    const samples: ProcessSample[] = [];
    for (const pid of this.#pids()) {
      if (pid === this.#selfPid) continue;
      const sample = this.#sample(pid, cache, live, watched);
      if (sample !== undefined) samples.push(sample);
    }
    this.#warnings.retain(live);
    return samples;
  }

  /** Samples one process; undefined when it does not exist or is a kernel thread. */
  collect(pid: number): ProcessSample | undefined {
    this.#redetectIfSuspect();
    return this.#sample(pid, new ScanCache(), new Map(), watchAll);
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
    this.#layout = layout;
  }

  #pids(): number[] {
    const pids: number[] = [];
    for (const entry of Deno.readDirSync(this.#procfs)) {
      if (entry.isDirectory && /^\d+$/.test(entry.name)) pids.push(Number(entry.name));
    }
    return pids.sort((a, b) => a - b);
  }

  /** Samples one process; records its start time in `live` so its warnings are kept. */
  #sample(
    pid: number,
    cache: ScanCache,
    live: Map<number, number | undefined>,
    watched: (cmdline: string) => boolean,
  ): ProcessSample | undefined {
    const statPath = `${this.#procfs}/${pid}/stat`;
    let stat: string;
    try {
      stat = readKernelFile(statPath);
    } catch (err) {
      // A process that is gone takes its files with it (NotFound, or ESRCH while it exits).
      if (!(err instanceof Deno.errors.PermissionDenied)) {
        this.#log.debug("process vanished", { pid });
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
      live.set(pid, undefined);
      this.#warnings.warn(pid, undefined, describe(statPath, err));
      return undefined;
    }
    live.set(pid, startTime);
    const problems: string[] = [];
    const sample = this.#read(pid, startTime, cache, problems, watched);
    if (problems.length === 0) return sample;
    // A process that exits mid-read takes its files, and maybe its cgroup, with it: not a problem.
    if (this.readStartTime(pid) !== startTime) {
      this.#log.debug("process vanished", { pid });
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
   * Reads everything but the stat file; undefined for kernel threads, unwatched processes and
   * unreadable basics.
   */
  #read(
    pid: number,
    startTime: number,
    cache: ScanCache,
    problems: string[],
    watched: (cmdline: string) => boolean,
  ): ProcessSample | undefined {
    const dir = `${this.#procfs}/${pid}`;
    let raw: string;
    try {
      raw = readKernelFile(`${dir}/cmdline`, CMDLINE_LIMIT);
    } catch (err) {
      problems.push(describe(`${dir}/cmdline`, err));
      return undefined;
    }
    // Kernel threads (and zombies) have no command line and no memory of their own.
    if (raw === "") return undefined;
    const { cmdline, firstArg } = parseCmdline(raw);
    if (!watched(cmdline)) return undefined;
    const cgroups = readParsed(`${dir}/cgroup`, parseProcCgroup, problems);
    if (cgroups === undefined) return undefined;
    const oomScore = readParsed(`${dir}/oom_score`, parseOomScore, problems) ?? 0;
    const oomScoreAdj = readParsed(`${dir}/oom_score_adj`, parseOomScore, problems) ?? 0;
    const { source, variables } = this.#readCgroup(pid, cgroups, cache, problems);
    variables.oom_score = oomScore;
    variables.oom_score_adj = oomScoreAdj;
    return { pid, startTime, cmdline, firstArg, source, variables };
  }

  /** The variables read from the process's cgroup (the rest at 0), and where they came from. */
  #readCgroup(
    pid: number,
    cgroups: ProcCgroup,
    cache: ScanCache,
    problems: string[],
  ): { source: CgroupSource; variables: Variables } {
    const location = this.#locate(pid, cgroups, cache, problems);
    const version = layoutVersion(this.#layout);
    const source: CgroupSource = {
      version,
      view: location?.view ?? "host",
      path: memoryPath(version, cgroups) ?? "",
      memoryDir: location?.memoryDir ?? "",
      limitDir: "",
      pressureSource: "",
    };
    const memory = location === undefined ? undefined : this.#memory(location, cache);
    if (memory !== undefined) problems.push(...memory.problems);
    const pressure = this.#pressure(location?.pressureDir, cache);
    problems.push(...pressure.problems);
    source.pressureSource = pressure.source;
    const variables: Variables = { ...pressure.variables };
    if (memory !== undefined) {
      source.limitDir = memory.limitDir;
      variables.memory_current = memory.current;
      variables.memory_max = memory.max;
      variables.memory_working_set = memory.workingSet;
      if (memory.max > 0) {
        variables.memory_usage = memory.current / memory.max * 100;
        variables.memory_working_set_usage = memory.workingSet / memory.max * 100;
      }
    }
    return { source, variables };
  }

  #locate(
    pid: number,
    cgroups: ProcCgroup,
    cache: ScanCache,
    problems: string[],
  ): CgroupLocation | undefined {
    try {
      return locateCgroup(
        this.#layout,
        this.#cgroupfs,
        `${this.#procfs}/${pid}/root/sys/fs/cgroup`,
        cgroups,
        (path) => cache.exists(path),
      );
    } catch (err) {
      this.#layoutSuspect = true;
      problems.push(err instanceof Error ? err.message : String(err));
      return undefined;
    }
  }

  #memory(location: CgroupLocation, cache: ScanCache): MemoryReading {
    const { memoryDir, version } = location;
    const cached = cache.memory.get(memoryDir);
    if (cached !== undefined) return cached;
    const files = MEMORY_FILES[version];
    const problems: string[] = [];
    const current = readParsed(`${memoryDir}/${files.current}`, parseMemoryBytes, problems);
    if (current === undefined) this.#layoutSuspect = true;
    // Without inactive_file the working set is taken as all of usage: the cautious figure.
    const inactive = readParsed(
      `${memoryDir}/memory.stat`,
      (text) => parseInactiveFile(text, version),
      problems,
    ) ?? 0;
    let limit = Infinity;
    let limitDir = "";
    for (const dir of ancestors(memoryDir, location.memoryRoot)) {
      const reading = this.#limit(`${dir}/${files.limit}`, cache);
      if (reading.problem !== undefined) problems.push(reading.problem);
      if (reading.limit < limit) {
        limit = reading.limit;
        limitDir = dir;
      }
    }
    const reading: MemoryReading = {
      current: current ?? 0,
      workingSet: Math.max(0, (current ?? 0) - inactive),
      max: Number.isFinite(limit) ? limit : 0,
      limitDir,
      problems,
    };
    cache.memory.set(memoryDir, reading);
    return reading;
  }

  #limit(path: string, cache: ScanCache): LimitReading {
    const cached = cache.limits.get(path);
    if (cached !== undefined) return cached;
    let reading: LimitReading;
    try {
      const text = readIfExists(path);
      reading = {
        limit: text === undefined ? Infinity : parseMemoryLimit(text),
        problem: undefined,
      };
    } catch (err) {
      reading = { limit: Infinity, problem: describe(path, err) };
    }
    cache.limits.set(path, reading);
    return reading;
  }

  /** The cgroup's PSI files, or the system-wide ones when it has none. */
  #pressure(cgroupDir: string | undefined, cache: ScanCache): PressureReading {
    if (cgroupDir !== undefined) {
      const reading = this.#readPressure(cgroupDir, (r) => `${cgroupDir}/${r}.pressure`, cache);
      if (reading.found) return reading;
    }
    const system = `${this.#procfs}/pressure`;
    return this.#readPressure(system, (r) => `${system}/${r}`, cache);
  }

  #readPressure(
    source: string,
    file: (resource: PressureResource) => string,
    cache: ScanCache,
  ): PressureReading {
    const cached = cache.pressure.get(source);
    if (cached !== undefined) return cached;
    const pressure = { memory: zeroPressure(), io: zeroPressure(), cpu: zeroPressure() };
    let found = false;
    const problems: string[] = [];
    for (const resource of PRESSURE_RESOURCES) {
      const path = file(resource);
      try {
        const text = readIfExists(path);
        if (text === undefined) continue;
        found = true;
        pressure[resource] = parsePressure(text);
      } catch (err) {
        found = true;
        problems.push(describe(path, err));
      }
    }
    const reading = { source, variables: withPressure(pressure), found, problems };
    cache.pressure.set(source, reading);
    return reading;
  }
}
