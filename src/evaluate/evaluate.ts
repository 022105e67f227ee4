/**
 * Decides which severity, if any, a process is at: critical is checked first, so a process
 * that matches both gets only the critical signal.
 * @module
 */
import type { CompiledExpression } from "./expression.ts";
import type { Variables } from "../collect/variables.ts";

/** `warning` or `critical`. */
export type Severity = "warning" | "critical";

/** The two thresholds. */
export interface Thresholds {
  /** Checked second. */
  warning: CompiledExpression;
  /** Checked first. */
  critical: CompiledExpression;
}

/** The severity whose expression matches, critical first, or undefined. */
export function evaluateSeverity(thresholds: Thresholds, vars: Variables): Severity | undefined {
  if (thresholds.critical.matches(vars)) return "critical";
  if (thresholds.warning.matches(vars)) return "warning";
  return undefined;
}

/** The values of the variables an expression references, for the log line of a signal. */
export function referencedValues(expr: CompiledExpression, vars: Variables): Variables {
  return Object.fromEntries(expr.variables.map((name) => [name, vars[name]]));
}
