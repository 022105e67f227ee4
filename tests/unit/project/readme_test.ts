/**
 * The README's reference tables stay in step with the code: every flag with its default, every
 * variable with its unit, the operator precedence, every function and number suffix of the
 * expressions and every metric oomhero registers.
 */
import assert from "node:assert/strict";
import { INSPECT_FLAGS, MONITOR_FLAGS } from "../../../src/cli/flags.ts";
import { FUNCTION_NAMES, PRECEDENCE_TABLE } from "../../../src/evaluate/expression.ts";
import { SUFFIX_LIST } from "../../../src/evaluate/syntax.ts";
import { Metrics } from "../../../src/report/metrics.ts";
import { VARIABLES } from "../../../src/collect/variables.ts";
import { ROOT } from "../../support/oomhero_process.ts";

const README = Deno.readTextFileSync(`${ROOT}README.md`);

/** The text of a README section, from its heading to the next heading of any level. */
function section(heading: string): string {
  const start = README.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has a section "${heading}"`);
  const rest = README.slice(start + heading.length + 2);
  const end = rest.search(/^#{2,3} /m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** The cells of every table row in `text` whose first cell matches `first`. */
function rows(text: string, first: RegExp): string[][] {
  return text.split("\n")
    .filter((l) => l.startsWith("| "))
    .map((l) => l.slice(2, -2).split(/(?<!\\) \| /).map((c) => c.trim()))
    .filter((cells) => first.test(cells[0]));
}

Deno.test("README's flag table lists every monitor flag with its default", () => {
  for (const [name, spec] of Object.entries(MONITOR_FLAGS)) {
    const row = rows(section("### Flags"), new RegExp(`^\`--${name}[\` ]`));
    assert.equal(row.length, 1, `--${name} has one row`);
    if (spec.default !== undefined && spec.default !== "") {
      assert.equal(row[0][1], `\`${spec.default}\``, `--${name} default`);
    }
  }
});

Deno.test("README's inspect paragraph names every inspect flag", () => {
  const inspect = section("### `oomhero inspect`");
  for (const name of Object.keys(INSPECT_FLAGS)) {
    assert.ok(inspect.includes(`--${name}`), `inspect --${name}`);
  }
});

Deno.test("README's variable table lists every variable with its unit", () => {
  for (const v of VARIABLES) {
    if (v.name.includes("_pressure_")) continue; // one pattern row covers the 24 PSI variables
    const row = rows(section("### Variables"), new RegExp(`^\`${v.name}\`$`));
    assert.equal(row.length, 1, `${v.name} has one row`);
    assert.equal(row[0][1], v.unit, `${v.name} unit`);
  }
  const pattern = /^`\{resource\}_pressure_\{severity\}_\{window\}`$/;
  assert.equal(rows(section("### Variables"), pattern).length, 1);
});

Deno.test("README's precedence table matches the parser's", () => {
  for (const r of PRECEDENCE_TABLE) {
    const cell = r.operators.map((o) => `\`${o.replaceAll("|", "\\|")}\``).join(" ");
    const row = rows(
      section("## Threshold expressions"),
      new RegExp(`^${cell.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`),
    );
    assert.equal(row.length, 1, cell);
    assert.equal(row[0][1], r.associativity, cell);
  }
});

Deno.test("README's function and suffix tables name every function and suffix", () => {
  const expressions = section("## Threshold expressions");
  const functionCells = rows(expressions, /^`[a-z]+\(/).map((r) => r.join(" ")).join(" ");
  for (const name of FUNCTION_NAMES) {
    assert.match(functionCells, new RegExp(`\`${name}[(\`]`), name);
  }
  const suffixCells = rows(expressions, /^`[a-zA-Zµ]+`/).map((r) => r[0]).join(" ");
  for (const suffix of SUFFIX_LIST.split(" ")) {
    assert.ok(suffixCells.includes(`\`${suffix}\``), suffix);
  }
});

Deno.test("README's metric table lists every metric oomhero registers", async () => {
  const metrics = new Metrics({ version: "0.0.0" });
  const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
  assert.ok(names.length > 10);
  for (const name of names) {
    if (/^(process|nodejs)_/.test(name)) continue; // the runtime's own, one row for all
    assert.equal(rows(section("## Metrics"), new RegExp(`^\`${name}\`$`)).length, 1, name);
  }
});
