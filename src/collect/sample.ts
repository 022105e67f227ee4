/**
 * What one scan knows about one process: the hand-off from the collector to the evaluator,
 * the signaller, the metrics and `inspect`.
 * @module
 */
import type { Variables } from "./variables.ts";

/**
 * How far up the tree the limit was seen: `effective`, every ancestor's limit (the host view,
 * v1's `hierarchical_memory_limit`, or a view that reaches the root); `own`, only the cgroup's own
 * mount and below (cgroup v2 in a private cgroup namespace): a smaller limit above may exist.
 */
export type MemoryMaxScope = "effective" | "own";

/** Where a process's numbers came from, as `inspect` reports it. */
export interface CgroupSource {
  /** cgroup version of the memory controller that was read. */
  version: 1 | 2;
  /** `host`: the path from /proc/<pid>/cgroup under our mount; `container`: /proc/<pid>/root/... */
  view: "host" | "container";
  /** The cgroup path as the process sees it (from /proc/<pid>/cgroup). */
  path: string;
  /** The directory the memory figures were read from. */
  memoryDir: string;
  /** The directory whose cgroup holds the effective limit, or "" when unlimited. */
  limitDir: string;
  /** Whether memory_max is the effective limit or the container's own. */
  memoryMaxScope: MemoryMaxScope;
  /** The directory of the *.pressure files read, the system-wide /proc/pressure, or "". */
  pressureSource: string;
  /** Why the pressure figures are system-wide; "" when they are the cgroup's own. */
  pressureNote: string;
}

/** Identity of a process that survives pid reuse: pid and start time. */
export function processKey(pid: number, startTime: number): string {
  return `${pid}:${startTime}`;
}

/** One process as seen by one scan. */
export interface ProcessSample {
  /** Process id, in the namespace of our procfs. */
  pid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  startTime: number;
  /** The full command line, arguments joined by spaces. */
  cmdline: string;
  /** The first argument of the command line: the `cmdline` metric label. */
  firstArg: string;
  /** Where the numbers came from. */
  source: CgroupSource;
  /**
   * The value of every expression variable of the groups the scan read (its needs), and of the
   * trends when they were fitted; NaN for one that could not be read. Those not read are absent.
   */
  variables: Variables;
  /** Why some figures could not be read, when any could not. */
  unreadable?: string[];
}
