/**
 * The names an expression may use, one list shared by the expression compiler, the collector,
 * `inspect` and the documentation tests.
 * @module
 */
import { NEVER_SECONDS } from "./trend.ts";
// The PSI vocabulary is the kernel's: pressure variables are named after the file's fields.
import {
  PRESSURE_RESOURCES,
  PRESSURE_SEVERITIES,
  PRESSURE_WINDOWS,
  type PressureResource,
  type PressureSeverity,
  type PressureWindow,
} from "../kernel/pressure.ts";

/** The name of a pressure variable, e.g. `memory_pressure_full_avg10`. */
export function pressureVariable(
  resource: PressureResource,
  severity: PressureSeverity,
  window: PressureWindow,
): string {
  return `${resource}_pressure_${severity}_${window}`;
}

/** A variable with its unit and meaning, for `--help`, `inspect` and the README. */
export interface VariableInfo {
  /** The name used in expressions. */
  name: string;
  /** `%`, `bytes`, `bytes/s`, `seconds`, `µs` or `score`. */
  unit: string;
  /** One line on what it holds. */
  description: string;
}

const MEMORY_VARIABLES: readonly VariableInfo[] = [
  {
    name: "memory_usage",
    unit: "%",
    description: "memory_current as a percentage of memory_max (0 when there is no limit)",
  },
  { name: "memory_current", unit: "bytes", description: "memory charged to the process's cgroup" },
  {
    name: "memory_max",
    unit: "bytes",
    description: "smallest limit of the cgroup and its visible ancestors (0 when unlimited)",
  },
  {
    name: "memory_working_set",
    unit: "bytes",
    description: "memory_current minus inactive page cache, the figure the kubelet evicts on",
  },
  {
    name: "memory_working_set_usage",
    unit: "%",
    description: "memory_working_set as a percentage of memory_max (0 when there is no limit)",
  },
  { name: "oom_score", unit: "score", description: "the kernel's OOM score, adjustment included" },
  { name: "oom_score_adj", unit: "score", description: "the OOM score adjustment (-1000..1000)" },
];

/** The "never" of memory_seconds_to_limit as users write it: 1e9. */
const NEVER_TEXT = NEVER_SECONDS.toExponential().replace("+", "");

/** Where memory is heading, from each process's recent history (src/collect/trend.ts). */
const TREND_VARIABLES: readonly VariableInfo[] = [
  {
    name: "memory_growth_rate",
    unit: "bytes/s",
    description:
      "growth of memory_current, least-squares slope over --trend-window (0 until measured)",
  },
  {
    name: "memory_working_set_growth_rate",
    unit: "bytes/s",
    description:
      "growth of memory_working_set, least-squares slope over --trend-window (0 until measured)",
  },
  {
    name: "memory_seconds_to_limit",
    unit: "seconds",
    description: "time until memory_current reaches memory_max at memory_growth_rate " +
      `(${NEVER_TEXT} when not growing, unlimited or not measured)`,
  },
  {
    name: "memory_usage_delta_10s",
    unit: "%",
    description:
      "change of memory_usage over the last 10 s, in percentage points (0 until measured)",
  },
];

function pressureVariables(): VariableInfo[] {
  const out: VariableInfo[] = [];
  for (const resource of PRESSURE_RESOURCES) {
    for (const severity of PRESSURE_SEVERITIES) {
      for (const window of PRESSURE_WINDOWS) {
        const total = window === "total";
        out.push({
          name: pressureVariable(resource, severity, window),
          unit: total ? "µs" : "%",
          description: total
            ? `total time ${severity === "some" ? "some" : "all"} tasks stalled on ${resource}`
            : `share of time ${
              severity === "some" ? "some" : "all"
            } tasks stalled on ${resource}, ${window.slice(3)}s average`,
        });
      }
    }
  }
  return out;
}

/** Every variable an expression may reference, in documentation order. */
export const VARIABLES: readonly VariableInfo[] = [
  ...MEMORY_VARIABLES,
  ...TREND_VARIABLES,
  ...pressureVariables(),
];

/** Every variable name, in documentation order. */
export const VARIABLE_NAMES: readonly string[] = VARIABLES.map((v) => v.name);

/** The variables in bytes or bytes/s, where `512m` (milli) is surely a mistake for `512M`. */
export const BYTE_VARIABLE_NAMES: readonly string[] = VARIABLES
  .filter((v) => v.unit.startsWith("bytes"))
  .map((v) => v.name);

/** The values of one process's variables by name: those a scan read (see `variablesOf`). */
export type Variables = Record<string, number>;
