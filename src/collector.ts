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
import type { Logger } from "./log.ts";
import { parsePressure, type Pressure, zeroPressure } from "./pressure.ts";
import {
  parseCmdline,
  parseOomScore,
  parseProcCgroup,
  parseStatStartTime,
  type ProcCgroup,
} from "./procfs.ts";
import type { CgroupSource, ProcessSample } from "./sample.ts";
import { UsageError } from "./usage_error.ts";
import {
  PRESSURE_RESOURCES,
  PRESSURE_SEVERITIES,
  PRESSURE_WINDOWS,
  type PressureResource,
  pressureVariable,
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
const CMDLINE_LIMIT = 64 * 1024;

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
  pressure: Record<PressureResource, Pressure>;
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
    return parse(Deno.readTextFileSync(path));
  } catch (err) {
    problems.push(describe(path, err));
    return undefined;
  }
}

/** Reads a file that may legitimately be absent. */
function readIfExists(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** Every variable at 0: what an unreadable figure reads as. */
function zeroVariables(): Variables {
  return Object.fromEntries(VARIABLE_NAMES.map((name) => [name, 0]));
}

/** Reads procfs and cgroupfs into samples, one process at a time or all at once. */
export class Collector {
  readonly #procfs: string;
  readonly #cgroupfs: string;
  readonly #log: Logger;
  readonly #selfPid: number;
  readonly #warnings: ProcessWarnings;
  /** Reused for every command line, so a scan allocates no large buffers. */
  readonly #cmdlineBuffer = new Uint8Array(CMDLINE_LIMIT);
  readonly #decoder = new TextDecoder();
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
   * Samples every process in procfs, except kernel threads, processes that exit meanwhile and
   * oomhero itself. Problems are logged once per process and reason.
   */
  scan(): ProcessSample[] {
    this.#redetectIfSuspect();
    const cache = new ScanCache();
    const live = new Map<number, number | undefined>();
    const samples: ProcessSample[] = [];
    for (const pid of this.#pids()) {
      if (pid === this.#selfPid) continue;
      const sample = this.#sample(pid, cache, live);
      if (sample !== undefined) samples.push(sample);
    }
    this.#warnings.retain(live);
    return samples;
  }

  /** Samples one process; undefined when it does not exist or is a kernel thread. */
  collect(pid: number): ProcessSample | undefined {
    this.#redetectIfSuspect();
    return this.#sample(pid, new ScanCache(), new Map());
  }

  /** The start time of `pid` now (field 22 of its stat), undefined when it is gone. */
  readStartTime(pid: number): number | undefined {
    try {
      return parseStatStartTime(Deno.readTextFileSync(`${this.#procfs}/${pid}/stat`));
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
  ): ProcessSample | undefined {
    const statPath = `${this.#procfs}/${pid}/stat`;
    let stat: string;
    try {
      stat = Deno.readTextFileSync(statPath);
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
    const sample = this.#read(pid, startTime, cache, problems);
    if (problems.length === 0) return sample;
    // A process that exits mid-read takes its files, and maybe its cgroup, with it: not a problem.
    if (this.readStartTime(pid) !== startTime) {
      this.#log.debug("process vanished", { pid });
      return undefined;
    }
    for (const problem of problems) this.#warnings.warn(pid, startTime, problem);
    return sample;
  }

  /** Reads everything but the stat file; undefined for kernel threads and unreadable basics. */
  #read(
    pid: number,
    startTime: number,
    cache: ScanCache,
    problems: string[],
  ): ProcessSample | undefined {
    const dir = `${this.#procfs}/${pid}`;
    let raw: string;
    try {
      raw = this.#readCmdline(`${dir}/cmdline`);
    } catch (err) {
      problems.push(describe(`${dir}/cmdline`, err));
      return undefined;
    }
    // Kernel threads (and zombies) have no command line and no memory of their own.
    if (raw === "") return undefined;
    const { cmdline, firstArg } = parseCmdline(raw);
    const cgroups = readParsed(`${dir}/cgroup`, parseProcCgroup, problems);
    if (cgroups === undefined) return undefined;
    const variables = zeroVariables();
    variables.oom_score = readParsed(`${dir}/oom_score`, parseOomScore, problems) ?? 0;
    variables.oom_score_adj = readParsed(`${dir}/oom_score_adj`, parseOomScore, problems) ?? 0;
    const source = this.#readCgroup(pid, cgroups, variables, cache, problems);
    return { pid, startTime, cmdline, firstArg, source, variables };
  }

  /** Fills the memory and pressure variables from the process's cgroup; returns where from. */
  #readCgroup(
    pid: number,
    cgroups: ProcCgroup,
    variables: Variables,
    cache: ScanCache,
    problems: string[],
  ): CgroupSource {
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
    if (location !== undefined) {
      const memory = this.#memory(location, cache);
      problems.push(...memory.problems);
      source.limitDir = memory.limitDir;
      variables.memory_current = memory.current;
      variables.memory_max = memory.max;
      variables.memory_working_set = memory.workingSet;
      if (memory.max > 0) {
        variables.memory_usage = memory.current / memory.max * 100;
        variables.memory_working_set_usage = memory.workingSet / memory.max * 100;
      }
    }
    const pressure = this.#pressure(location?.pressureDir, cache);
    problems.push(...pressure.problems);
    source.pressureSource = pressure.source;
    for (const resource of PRESSURE_RESOURCES) {
      for (const severity of PRESSURE_SEVERITIES) {
        for (const window of PRESSURE_WINDOWS) {
          variables[pressureVariable(resource, severity, window)] =
            pressure.pressure[resource][severity][window];
        }
      }
    }
    return source;
  }

  /** Reads at most {@link CMDLINE_LIMIT} bytes of a command line. */
  #readCmdline(path: string): string {
    const file = Deno.openSync(path);
    try {
      const buffer = this.#cmdlineBuffer;
      let length = 0;
      while (length < buffer.length) {
        const n = file.readSync(buffer.subarray(length));
        if (n === null) break;
        length += n;
      }
      return this.#decoder.decode(buffer.subarray(0, length));
    } finally {
      file.close();
    }
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
    const reading: PressureReading = {
      source,
      pressure: { memory: zeroPressure(), io: zeroPressure(), cpu: zeroPressure() },
      found: false,
      problems: [],
    };
    for (const resource of PRESSURE_RESOURCES) {
      const path = file(resource);
      try {
        const text = readIfExists(path);
        if (text === undefined) continue;
        reading.found = true;
        reading.pressure[resource] = parsePressure(text);
      } catch (err) {
        reading.found = true;
        reading.problems.push(describe(path, err));
      }
    }
    cache.pressure.set(source, reading);
    return reading;
  }
}
