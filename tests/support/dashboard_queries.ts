/**
 * The dashboard's queries as Grafana runs them: its template variables substituted.
 * @module
 */
import type { Dashboard } from "../../monitoring/dashboard.ts";

/** Values of the dashboard's namespace, pod and container variables (regular expressions). */
export interface VariableValues {
  namespace: string;
  pod: string;
  container: string;
}

/** One query of one panel. */
export interface PanelQuery {
  panel: string;
  refId: string;
  expr: string;
  legend: string;
}

/** `expr` with the variables replaced by `values` and `$__rate_interval` by `rateInterval`. */
export function substituteVariables(
  expr: string,
  values: VariableValues,
  rateInterval: string,
): string {
  return expr.replaceAll("$__rate_interval", rateInterval)
    .replace(/\$(namespace|pod|container)\b/g, (_, name: keyof VariableValues) => values[name]);
}

/** Every query of every time-series panel of `board`. */
export function panelQueries(board: Dashboard): PanelQuery[] {
  return board.panels.flatMap((panel) =>
    (panel.targets ?? []).map((t) => ({
      panel: panel.title,
      refId: t.refId,
      expr: t.expr,
      legend: t.legendFormat,
    }))
  );
}
