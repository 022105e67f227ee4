/**
 * monitoring/ under promtool: the rule file passes `promtool check rules`, as itself and as the
 * generated PrometheusRule's spec, and its unit tests pass `promtool test rules` (and fail when a
 * threshold moves); every dashboard query parses. Skipped, with a printed reason, when promtool is
 * not installed (apt-get install prometheus). tests/unit/project/monitoring_test.ts checks the rest.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { dashboard } from "../../monitoring/dashboard.ts";
import { generatedFiles, MONITORING_DIR } from "../../monitoring/generate.ts";
import { substituteVariables } from "../support/dashboard_queries.ts";
import { promtoolVersion } from "../support/prometheus_server.ts";
import { ALERTS, RECORDS, RULES_TEXT } from "../support/rule_file.ts";

const version = promtoolVersion();
if (version === undefined) {
  console.log("monitoring_rules_test: skipped, promtool is not installed");
}

/** Runs promtool with `args` in `cwd`; returns its exit code and combined output. */
async function promtool(
  args: string[],
  cwd = MONITORING_DIR,
): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command("promtool", { args, cwd }).output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

/** Runs promtool with `args` in a temporary directory holding `files` (name → text). */
async function promtoolIn(
  files: Record<string, string>,
  args: string[],
): Promise<{ code: number; output: string }> {
  const dir = await Deno.makeTempDir({ prefix: "oomhero_rules_" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    return await promtool(args, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `promtool check rules` on a rule file. */
function checkRuleFile(rules: unknown): Promise<{ code: number; output: string }> {
  return promtoolIn({ "rules.json": JSON.stringify(rules) }, ["check", "rules", "rules.json"]);
}

Deno.test({
  name: "monitoring: promtool check rules passes on rules.yaml and on the PrometheusRule's spec",
  ignore: version === undefined,
  async fn() {
    const plain = await promtool(["check", "rules", "rules.yaml"]);
    assert.equal(plain.code, 0, plain.output);
    const count = ALERTS.length + RECORDS.length;
    assert.match(plain.output, new RegExp(`SUCCESS: ${count} rules found`), plain.output);
    const resource = parse(generatedFiles()["prometheusrule.yaml"]);
    const operator = await checkRuleFile(resource.spec);
    assert.equal(operator.code, 0, operator.output);
  },
});

Deno.test({
  name: "monitoring: promtool test rules passes the unit tests",
  ignore: version === undefined,
  async fn() {
    const { code, output } = await promtool(["test", "rules", "rules_test.yaml"]);
    assert.equal(code, 0, output);
    assert.match(output, /SUCCESS/);
  },
});

Deno.test({
  name: "monitoring: promtool test rules fails when an alert's threshold moves (the tests bite)",
  ignore: version === undefined,
  async fn() {
    // Four warnings an hour instead of three: the "three warnings fire" test must fail.
    const loosened = RULES_TEXT.replace(/\) >= 3\n/, ") >= 4\n");
    assert.notEqual(loosened, RULES_TEXT);
    const { code, output } = await promtoolIn({
      "rules.yaml": loosened,
      "rules_test.yaml": Deno.readTextFileSync(`${MONITORING_DIR}rules_test.yaml`),
    }, ["test", "rules", "rules_test.yaml"]);
    assert.notEqual(code, 0, output);
    assert.match(output, /three warnings within an hour fire/);
  },
});

Deno.test({
  name: "monitoring: every dashboard query parses once its variables are substituted",
  ignore: version === undefined,
  async fn() {
    const board = dashboard();
    const exprs = board.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    assert.ok(exprs.length >= 10, `${exprs.length} queries`);
    // A query parses if it is a valid recording rule.
    const rules = exprs.map((expr, i) => ({
      record: `dashboard:query_${i}`,
      expr: substituteVariables(expr, { namespace: ".*", pod: ".*", container: ".*" }, "1m"),
    }));
    const { code, output } = await checkRuleFile({ groups: [{ name: "dashboard", rules }] });
    assert.equal(code, 0, output);
  },
});
