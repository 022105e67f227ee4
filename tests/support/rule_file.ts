/**
 * monitoring/rules.yaml and monitoring/rules_test.yaml, parsed, for the tests of monitoring/.
 * @module
 */
import { parse } from "yaml";
import { MONITORING_DIR } from "../../monitoring/generate.ts";

/** A recording rule or an alert. */
export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A Prometheus rule file. */
export interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}

/** One test of a `promtool test rules` file. */
export interface UnitTest {
  name: string;
  alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[];
  promql_expr_test?: { expr: string }[];
}

/** The text of monitoring/rules.yaml. */
export const RULES_TEXT: string = Deno.readTextFileSync(`${MONITORING_DIR}rules.yaml`);
/** monitoring/rules.yaml, parsed. */
export const RULES: RuleFile = parse(RULES_TEXT);
/** Its alerts. */
export const ALERTS: readonly Rule[] = RULES.groups.flatMap((g) => g.rules)
  .filter((r) => r.alert !== undefined);
/** Its recording rules. */
export const RECORDS: readonly Rule[] = RULES.groups.flatMap((g) => g.rules)
  .filter((r) => r.record !== undefined);
/** The unit tests of monitoring/rules_test.yaml. */
export const UNIT_TESTS: readonly UnitTest[] =
  (parse(Deno.readTextFileSync(`${MONITORING_DIR}rules_test.yaml`)) as { tests: UnitTest[] }).tests;
