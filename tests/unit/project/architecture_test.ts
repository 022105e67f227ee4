/**
 * The shape of src/ (docs/architecture.md). Data flows one way: each folder is a stage of the
 * pipeline, and a module may import only from its own stage or an earlier one; this reads every
 * import, export-from and dynamic import under src/ and names each one that points the other way.
 * And modules stay small: one over about 400 lines says why at its top.
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

/** Past this a module must say why it is one module ("Over 400 lines: ..." in its doc comment). */
const MAX_LINES = 420;

Deno.test("module size: a file under src/ over 400 lines says why at its top", async () => {
  const unexplained: string[] = [];
  for (const file of await sourceFiles("src")) {
    const source = await Deno.readTextFile(`${ROOT}${file}`);
    const lines = source.split("\n").length;
    const doc = source.slice(0, source.indexOf("*/") + 2);
    if (lines > MAX_LINES && !/^ \* Over 400 lines: \S/m.test(doc)) {
      unexplained.push(`${file}: ${lines} lines and no "Over 400 lines: <reason>" in its doc`);
    }
  }
  assert.deepEqual(unexplained, []);
});

Deno.test("docs/architecture.md lists every module under src/, and only those", async () => {
  const doc = await Deno.readTextFile(`${ROOT}docs/architecture.md`);
  const files = await sourceFiles("src");
  // Each module's line is "- `name.ts` — ..." under its folder's "### `src/<stage>/`" heading.
  const listed: string[] = [];
  let folder = "";
  for (const line of doc.split("\n")) {
    const heading = line.match(/^### `(src\/(?:[a-z]+\/)?)/);
    if (heading) folder = heading[1];
    const item = line.match(/^- `([a-z_]+\.ts)` — /);
    if (item && folder !== "") listed.push(`${folder}${item[1]}`);
  }
  assert.deepEqual(listed.toSorted(), files);
});
