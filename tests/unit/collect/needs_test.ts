import assert from "node:assert/strict";
import {
  ALL_NEEDS,
  EVERY_FIGURE,
  needsEveryFigure,
  needsOf,
  NO_NEEDS,
  unionNeeds,
  variablesOf,
} from "../../../src/collect/needs.ts";
import { VARIABLE_NAMES } from "../../../src/collect/variables.ts";

Deno.test("needsOf: each variable needs the files its figure comes from, and no others", () => {
  assert.deepEqual(needsOf([]), NO_NEEDS);
  assert.deepEqual(needsOf(["memory_usage"]), { ...NO_NEEDS, memory: true });
  assert.deepEqual(needsOf(["oom_score"]), { ...NO_NEEDS, oomScore: true });
  assert.deepEqual(needsOf(["oom_score_adj"]), { ...NO_NEEDS, oomScoreAdj: true });
  assert.deepEqual(needsOf(["io_pressure_full_avg60"]), { ...NO_NEEDS, pressure: true });
  // The working set comes from memory.stat, which the other memory figures do without.
  const workingSet = { ...NO_NEEDS, memory: true, workingSet: true };
  assert.deepEqual(needsOf(["memory_working_set"]), workingSet);
  assert.deepEqual(needsOf(["memory_working_set_usage"]), workingSet);
  // The trend variables are fitted to the history of the memory figures they are the growth of.
  for (const name of ["memory_growth_rate", "memory_seconds_to_limit", "memory_usage_delta_10s"]) {
    assert.deepEqual(needsOf([name]), { ...NO_NEEDS, memory: true, trends: true }, name);
  }
  assert.deepEqual(needsOf(["memory_working_set_growth_rate"]), { ...workingSet, trends: true });
});

Deno.test("variablesOf: the variables a sample read with the needs has, and needsOf's inverse", () => {
  assert.deepEqual(variablesOf(NO_NEEDS), []);
  assert.deepEqual(variablesOf(ALL_NEEDS), VARIABLE_NAMES);
  assert.deepEqual(variablesOf({ ...NO_NEEDS, memory: true }), [
    "memory_usage",
    "memory_current",
    "memory_max",
  ]);
  assert.deepEqual(variablesOf({ ...NO_NEEDS, memory: true, workingSet: true }), [
    "memory_usage",
    "memory_current",
    "memory_max",
    "memory_working_set",
    "memory_working_set_usage",
  ]);
  // The working set's trend only where the working set is read.
  const trends = { ...NO_NEEDS, memory: true, trends: true };
  assert.ok(!variablesOf(trends).includes("memory_working_set_growth_rate"));
  assert.ok(
    variablesOf({ ...trends, workingSet: true }).includes("memory_working_set_growth_rate"),
  );
  assert.deepEqual(variablesOf({ ...NO_NEEDS, oomScoreAdj: true }), ["oom_score_adj"]);
  assert.equal(variablesOf({ ...NO_NEEDS, pressure: true }).length, 24);
  // Each variable's needs give it back, and only variables those needs cover.
  for (const name of VARIABLE_NAMES) {
    const needs = needsOf([name]);
    const back = variablesOf(needs);
    assert.ok(back.includes(name), name);
    for (const other of back) {
      assert.deepEqual(unionNeeds(needs, needsOf([other])), needs, `${name} gives ${other}`);
    }
  }
});

Deno.test("needsOf: every variable needs some file, and all of them need every file", () => {
  for (const name of VARIABLE_NAMES) {
    assert.notDeepEqual(needsOf([name]), NO_NEEDS, name);
  }
  // Where the limit is set is no variable's: only inspect asks for it.
  assert.deepEqual(needsOf(VARIABLE_NAMES), EVERY_FIGURE);
  assert.deepEqual(EVERY_FIGURE, { ...ALL_NEEDS, limitSource: false });
  assert.ok(needsEveryFigure(needsOf(VARIABLE_NAMES)));
  assert.ok(!needsEveryFigure(needsOf(["memory_usage", "oom_score", "cpu_pressure_some_avg10"])));
  // Every file but no trend: a scrape would still have the trends to fit.
  assert.ok(!needsEveryFigure({ ...EVERY_FIGURE, trends: false }));
});

Deno.test("unionNeeds: what either needs", () => {
  const both = unionNeeds(needsOf(["oom_score"]), needsOf(["memory_max"]));
  assert.deepEqual(both, { ...NO_NEEDS, oomScore: true, memory: true });
  assert.deepEqual(unionNeeds(NO_NEEDS, NO_NEEDS), NO_NEEDS);
  assert.deepEqual(unionNeeds(NO_NEEDS, ALL_NEEDS), ALL_NEEDS);
});
