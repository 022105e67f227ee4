/**
 * Data flows one way through src/: each folder is a stage of the pipeline, and a module may import
 * only from its own stage or an earlier one (docs/architecture.md). This reads every import,
 * export-from and dynamic import under src/ and names each one that points the other way.
 * @module
 */
import assert from "node:assert/strict";
import { posix } from "node:path";
import { sourceFiles, specifiers, views } from "../../support/source_text.ts";
import { ROOT } from "../../support/oomhero_process.ts";

/** The stages in pipeline order; `main.ts` sits above them all. */
const STAGES = ["base", "kernel", "collect", "evaluate", "act", "report", "scan", "cli"] as const;
/** Files outside src/ that src/ may import: main.ts reads its version from deno.json. */
const OUTSIDE_ALLOWED = new Set(["deno.json"]);

/** The rank of a file under src/ (0 = base … main.ts last), or undefined for an unknown folder. */
function rank(file: string): number | undefined {
  if (file === "src/main.ts") return STAGES.length;
  const stage = file.split("/")[1];
  const i = (STAGES as readonly string[]).indexOf(stage);
  return i < 0 || file.split("/").length < 3 ? undefined : i;
}

/** Every import of `file` (a path under src/, its text `source`) that breaks the direction. */
function wrongWay(file: string, source: string): string[] {
  const own = rank(file);
  if (own === undefined) {
    return [`${file} is in no stage folder: put it in one of src/{${STAGES.join(",")}}/`];
  }
  const problems: string[] = [];
  for (const { specifier } of specifiers(views(source).code)) {
    if (!specifier.startsWith("./") && !specifier.startsWith("../")) continue;
    const target = posix.normalize(posix.join(posix.dirname(file), specifier));
    if (!target.startsWith("src/")) {
      if (!OUTSIDE_ALLOWED.has(target)) problems.push(`${file} imports ${specifier}: outside src/`);
      continue;
    }
    const theirs = rank(target);
    if (theirs !== undefined && theirs > own) {
      const stage = (r: number) => STAGES[r] ?? "main.ts";
      problems.push(
        `${file} imports ${specifier}: ${stage(theirs)} comes after ${stage(own)}`,
      );
    }
  }
  return problems;
}

Deno.test("import direction: no module under src/ imports from a later stage", async () => {
  const files = await sourceFiles("src");
  assert.ok(files.length >= 20, `only ${files.length} files found under src/`);
  const problems: string[] = [];
  for (const file of files) {
    problems.push(...wrongWay(file, await Deno.readTextFile(`${ROOT}${file}`)));
  }
  assert.deepEqual(problems, []);
});

Deno.test("import direction: the check names a later-stage, an outside and an unplaced import", () => {
  const source = 'import { Collector } from "../collect/collector.ts";\n' +
    'import type { Log } from "../base/log.ts";\n' +
    'const m = await import("../report/metrics.ts");\n' +
    'import { x } from "./procfs.ts";\nimport { y } from "../../tests/support/prng.ts";\n' +
    '// import { z } from "../cli/cli.ts";\n';
  assert.deepEqual(wrongWay("src/kernel/cgroup.ts", source), [
    "src/kernel/cgroup.ts imports ../collect/collector.ts: collect comes after kernel",
    "src/kernel/cgroup.ts imports ../report/metrics.ts: report comes after kernel",
    "src/kernel/cgroup.ts imports ../../tests/support/prng.ts: outside src/",
  ]);
  assert.deepEqual(wrongWay("src/main.ts", 'import { a } from "./cli/cli.ts";\n'), []);
  assert.deepEqual(wrongWay("src/stray.ts", ""), [
    `src/stray.ts is in no stage folder: put it in one of src/{${STAGES.join(",")}}/`,
  ]);
});
