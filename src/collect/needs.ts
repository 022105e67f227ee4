/**
 * Which kernel files a scan must read, and whether it computes the trends: known at startup from
 * the variables the two expressions use, so a scan reads no file and fits no curve whose figures
 * nothing will look at.
 * @module
 */
import { PRESSURE_RESOURCES, PRESSURE_SEVERITIES, PRESSURE_WINDOWS } from "../kernel/pressure.ts";
import { NO_TREND } from "./trend.ts";
import { pressureVariable, VARIABLE_NAMES } from "./variables.ts";

/** The groups of files a scan may read beyond a process's stat, cmdline and cgroup files. */
export interface Needs {
  /** `/proc/<pid>/oom_score`. */
  oomScore: boolean;
  /** `/proc/<pid>/oom_score_adj`. */
  oomScoreAdj: boolean;
  /**
   * The cgroup's memory files: usage and the limit (the limits up the tree, or on cgroup v1
   * memory.stat's hierarchical limit where the tree's top cannot be seen).
   */
  memory: boolean;
  /**
   * The cgroup's memory.stat, for the working-set figures: the costliest file a scan reads
   * (75 µs a read when read every 100 ms, on v1); `memory` comes with it.
   */
  workingSet: boolean;
  /** The cgroup's (or the system's) three PSI files. */
  pressure: boolean;
  /**
   * The trend variables, fitted each scan to the memory history (which `memory` feeds); without,
   * a sample has none, and the history is still kept when `memory` is read.
   */
  trends: boolean;
  /**
   * Where the effective limit is set (`inspect`'s limit dir): on cgroup v1, whose memory.stat
   * states the limit itself, the limit files up the tree are read only for this.
   */
  limitSource: boolean;
}

/** Every file: what `inspect` shows. */
export const ALL_NEEDS: Readonly<Needs> = Object.freeze({
  oomScore: true,
  oomScoreAdj: true,
  memory: true,
  workingSet: true,
  pressure: true,
  trends: true,
  limitSource: true,
});

/** Every figure, where the limit is set aside: what a webhook body and a scrape show. */
export const EVERY_FIGURE: Readonly<Needs> = Object.freeze({ ...ALL_NEEDS, limitSource: false });

/** No file beyond the ones that identify a process and its cgroup. */
export const NO_NEEDS: Readonly<Needs> = Object.freeze({
  oomScore: false,
  oomScoreAdj: false,
  memory: false,
  workingSet: false,
  pressure: false,
  trends: false,
  limitSource: false,
});

/** A group of {@link Needs} that some variable's figure comes from. */
type Group = Exclude<keyof Needs, "limitSource">;

/** The variables read from the memory files, and the groups each comes from. */
const MEMORY_VARIABLES: ReadonlyMap<string, readonly Group[]> = new Map([
  ["memory_usage", ["memory"]],
  ["memory_current", ["memory"]],
  ["memory_max", ["memory"]],
  ["memory_working_set", ["memory", "workingSet"]],
  ["memory_working_set_usage", ["memory", "workingSet"]],
]);

/** The trend variables: fitted to the history of the memory figures they are the growth of. */
const TREND_VARIABLES: ReadonlySet<string> = new Set(Object.keys(NO_TREND));
const WORKING_SET_TREND = "memory_working_set_growth_rate";

const PRESSURE_VARIABLE_NAMES: ReadonlySet<string> = new Set(
  PRESSURE_RESOURCES.flatMap((resource) =>
    PRESSURE_SEVERITIES.flatMap((severity) =>
      PRESSURE_WINDOWS.map((window) => pressureVariable(resource, severity, window))
    )
  ),
);

/** Every group of {@link Needs} a variable's figure comes from; none for an unknown name. */
function groupsOf(name: string): readonly Group[] {
  if (name === "oom_score") return ["oomScore"];
  if (name === "oom_score_adj") return ["oomScoreAdj"];
  const memory = MEMORY_VARIABLES.get(name);
  if (memory !== undefined) return memory;
  // The trends are fitted to the history of the memory figures.
  if (name === WORKING_SET_TREND) return ["trends", "memory", "workingSet"];
  if (TREND_VARIABLES.has(name)) return ["trends", "memory"];
  if (PRESSURE_VARIABLE_NAMES.has(name)) return ["pressure"];
  return [];
}

/** The files (and trends) the figures of `variables` (expression variable names) come from. */
export function needsOf(variables: Iterable<string>): Needs {
  const needs: Needs = { ...NO_NEEDS };
  for (const name of variables) {
    for (const group of groupsOf(name)) needs[group] = true;
  }
  return needs;
}

/** The variables a sample read with `needs` has, in documentation order: no others are set. */
export function variablesOf(needs: Readonly<Needs>): string[] {
  return VARIABLE_NAMES.filter((name) => {
    const groups = groupsOf(name);
    return groups.length > 0 && groups.every((group) => needs[group]);
  });
}

/** What either of `a` and `b` needs. */
export function unionNeeds(a: Readonly<Needs>, b: Readonly<Needs>): Needs {
  return {
    oomScore: a.oomScore || b.oomScore,
    oomScoreAdj: a.oomScoreAdj || b.oomScoreAdj,
    memory: a.memory || b.memory,
    workingSet: a.workingSet || b.workingSet,
    pressure: a.pressure || b.pressure,
    trends: a.trends || b.trends,
    limitSource: a.limitSource || b.limitSource,
  };
}

/** Whether `needs` asks for every file an expression variable's figure is read from. */
export function needsEveryFile(needs: Readonly<Needs>): boolean {
  return needs.oomScore && needs.oomScoreAdj && needs.memory && needs.workingSet && needs.pressure;
}

/** Whether `needs` asks for every figure (an expression variable's), the trends among them. */
export function needsEveryFigure(needs: Readonly<Needs>): boolean {
  return needsEveryFile(needs) && needs.trends;
}
