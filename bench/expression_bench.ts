/**
 * How long a compiled threshold takes to evaluate for one process, as each scan does it for every
 * watched process and both thresholds. Run with `./scripts/deno task bench`.
 */
import { compileExpression } from "../src/evaluate/expression.ts";
import { VARIABLE_NAMES } from "../src/collect/variables.ts";

const simple = compileExpression("memory_usage > 75", VARIABLE_NAMES);
const compound = compileExpression(
  "memory_working_set_usage > 70 || memory_pressure_full_avg60 > 50 && oom_score > 500 " +
    "|| max(memory_current, 400Mi) / memory_max * 100 > 90",
  VARIABLE_NAMES,
);
// Values that make every operand of `compound` be evaluated.
const vars = Object.fromEntries(VARIABLE_NAMES.map((name, i) => [name, i + 1]));

Deno.bench("evaluate: memory_usage > 75", () => {
  simple.matches(vars);
});

Deno.bench("evaluate: four comparisons, a function and arithmetic", () => {
  compound.matches(vars);
});

Deno.bench("compile: the four-comparison expression (once at startup)", () => {
  compileExpression(compound.source, VARIABLE_NAMES);
});
