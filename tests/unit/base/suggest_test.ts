import assert from "node:assert/strict";
import { didYouMean, editDistance, suggestions } from "../../../src/base/suggest.ts";
import { VARIABLE_NAMES } from "../../../src/collect/variables.ts";

Deno.test("editDistance counts a swap of neighbours as one edit", () => {
  assert.equal(editDistance("memory", "memory"), 0);
  assert.equal(editDistance("memroy", "memory"), 1);
  assert.equal(editDistance("memry", "memory"), 1);
  assert.equal(editDistance("", "abc"), 3);
});

Deno.test("suggestions: the nearest typos, else names it begins, else names containing it", () => {
  assert.deepEqual(suggestions("memory_usge", VARIABLE_NAMES), ["memory_usage"]);
  assert.deepEqual(suggestions("Memory_Usage", VARIABLE_NAMES), ["memory_usage"]);
  // Ties all shown, in the candidates' order.
  assert.deepEqual(suggestions("sine", ["min", "sin", "sinh"]), ["sin", "sinh"]);
  assert.deepEqual(suggestions("memory_pressure", VARIABLE_NAMES), [
    "memory_pressure_some_avg10",
    "memory_pressure_some_avg60",
    "memory_pressure_some_avg300",
  ]);
  assert.deepEqual(suggestions("working_set", VARIABLE_NAMES), [
    "memory_working_set",
    "memory_working_set_usage",
    "memory_working_set_growth_rate",
  ]);
  assert.deepEqual(suggestions("zzzzzzzz", VARIABLE_NAMES), []);
  assert.deepEqual(suggestions("c", ["a", "b"]), [], "one letter is no typo of another");
});

Deno.test("didYouMean phrases one, two or three suggestions", () => {
  assert.equal(didYouMean("dry", ["dry-run"], (f) => `--${f}`), "did you mean --dry-run?");
  assert.equal(didYouMean("sine", ["sin", "sinh"]), "did you mean sin or sinh?");
  assert.equal(didYouMean("ab", ["abc", "abd", "abe", "abf"]), "did you mean abc, abd or abe?");
  assert.equal(didYouMean("zzz", ["abc"]), undefined);
});
