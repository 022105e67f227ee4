/**
 * The source policy behind oomhero's least privilege. Deno's permission sandbox cannot confine
 * oomhero (every read under /proc/<pid> and /sys needs --allow-all), so the code itself must never
 * write files, spawn programs, load native code or open outbound connections. This scans every
 * .ts file under src/ for the APIs that would, with comments stripped and string contents blanked
 * so prose about an API does not count. src/act/webhook.ts may call `fetch` and nothing else of it.
 * @module
 */
import assert from "node:assert/strict";
import { ROOT } from "../../support/oomhero_process.ts";
import denoJson from "../../../deno.json" with { type: "json" };
import { sourceFiles, specifiers, views } from "../../support/source_text.ts";

/** The only file allowed an outbound connection, and only through `fetch`. */
const WEBHOOK = "src/act/webhook.ts";

type Category =
  | "writes files"
  | "spawns programs"
  | "loads native code"
  | "opens outbound connections"
  | "hides what it calls";

interface Rule {
  category: Category;
  /** Matched against the code with comments stripped and string contents blanked. */
  pattern: RegExp;
}

const RULES: readonly Rule[] = [
  {
    category: "writes files",
    pattern:
      /\bDeno\s*\.\s*(?:writeFile|writeTextFile|create|mkdir|remove|rename|chmod|chown|truncate|symlink|link|makeTempDir|makeTempFile|copyFile|utime|openKv)(?:Sync)?\b/g,
  },
  {
    category: "spawns programs",
    pattern: /\bDeno\s*\.\s*(?:Command|ChildProcess|run|spawn|spawnSync|spawnChild)\b/g,
  },
  { category: "loads native code", pattern: /\bDeno\s*\.\s*(?:dlopen|Unsafe\w*)\b/g },
  { category: "loads native code", pattern: /\bprocess\s*\.\s*dlopen\b|\bcreateRequire\b/g },
  {
    category: "opens outbound connections",
    pattern:
      /\bDeno\s*\.\s*(?:connect|connectTls|startTls|connectQuic|listenDatagram|createHttpClient)\b/g,
  },
  { category: "opens outbound connections", pattern: /\b(?:WebSocket\w*|EventSource)\b/g },
  { category: "opens outbound connections", pattern: /\bfetch\s*\(/g },
  // Aliased or indexed, the Deno namespace would slip past every rule above.
  { category: "hides what it calls", pattern: /\bDeno\b(?!\s*\.\s*[A-Za-z_$])/g },
  { category: "hides what it calls", pattern: /\bglobalThis\s*(?:\[|\.\s*Deno\b)/g },
  { category: "hides what it calls", pattern: /\beval\s*\(|\bnew\s+Function\b/g },
  { category: "hides what it calls", pattern: /\bimport\s*\(\s*(?!["'`])/g },
];

/** Node built-ins by what they do; imported under any name they break the policy. */
const FORBIDDEN_MODULES: Readonly<Record<string, Category>> = {
  "fs": "writes files",
  "fs/promises": "writes files",
  "child_process": "spawns programs",
  "cluster": "spawns programs",
  "ffi": "loads native code",
  "module": "loads native code",
  "net": "opens outbound connections",
  "http": "opens outbound connections",
  "https": "opens outbound connections",
  "http2": "opens outbound connections",
  "tls": "opens outbound connections",
  "dgram": "opens outbound connections",
  "inspector": "opens outbound connections",
};

/** One breach of the policy. */
interface Violation {
  file: string;
  line: number;
  category: Category;
  text: string;
}

/** The argument text of the call whose "(" is at `open`, up to its matching ")". */
function callArguments(bare: string, open: number): string {
  let depth = 0;
  for (let i = open; i < bare.length; i++) {
    if ("([{".includes(bare[i])) depth++;
    if (")]}".includes(bare[i]) && --depth === 0) return bare.slice(open + 1, i);
  }
  return bare.slice(open + 1);
}

/** Whether Deno.open's arguments can only read: no options, or `{ read: true }` at most. */
function openOnlyReads(args: string): boolean {
  let depth = 0;
  for (let i = 0; i < args.length; i++) {
    if ("([{".includes(args[i])) depth++;
    if (")]}".includes(args[i])) depth--;
    if (args[i] === "," && depth === 0) {
      return /^\s*(?:\{\s*(?:read\s*:\s*true\s*,?\s*)?\}\s*)?,?\s*$/.test(args.slice(i + 1));
    }
  }
  return true;
}

/** Checks one source file against the policy. */
function findViolations(file: string, source: string): Violation[] {
  const { code, bare } = views(source);
  const lineOf = (index: number) => source.slice(0, index).split("\n").length;
  const at = (index: number, category: Category, text: string): Violation => ({
    file,
    line: lineOf(index),
    category,
    text,
  });
  const violations: Violation[] = [];
  for (const rule of RULES) {
    for (const m of bare.matchAll(rule.pattern)) {
      if (file === WEBHOOK && /^fetch\s*\($/.test(m[0])) continue;
      violations.push(at(m.index, rule.category, m[0]));
    }
  }
  for (const m of bare.matchAll(/\bDeno\s*\.\s*open(?:Sync)?\s*\(/g)) {
    if (!openOnlyReads(callArguments(bare, m.index + m[0].length - 1))) {
      violations.push(at(m.index, "writes files", `${m[0]}... with write options`));
    }
  }
  for (const { specifier, index } of specifiers(code)) {
    const category = FORBIDDEN_MODULES[specifier.replace(/^node:/, "")];
    if (category) violations.push(at(index, category, `import of ${specifier}`));
  }
  return violations;
}

/**
 * Import specifiers that leave the import map and the repository: jsr:, https:, http:, npm:. A
 * file of a mapped npm package (`prom-client/lib/gauge.js`) is the mapped, locked version.
 */
function foreignSpecifiers(source: string): string[] {
  const mapped = Object.keys(denoJson.imports);
  const inMap = (s: string) => mapped.some((m) => s === m || s.startsWith(`${m}/`));
  return specifiers(views(source).code).map((s) => s.specifier).filter((s) =>
    !s.startsWith("./") && !s.startsWith("../") && !s.startsWith("node:") && !inMap(s)
  );
}

Deno.test("source policy: no file under src/ writes, spawns, loads native code or dials out", async () => {
  const files = await sourceFiles("src");
  assert.ok(files.length >= 10, `only ${files.length} files found under src/`);
  const violations: Violation[] = [];
  for (const file of files) {
    violations.push(...findViolations(file, await Deno.readTextFile(`${ROOT}${file}`)));
  }
  assert.deepEqual(violations, []);
});

Deno.test("source policy: src/ imports only relative files, node: built-ins and the import map", async () => {
  for (const file of await sourceFiles("src")) {
    assert.deepEqual(foreignSpecifiers(await Deno.readTextFile(`${ROOT}${file}`)), [], file);
  }
});

Deno.test("source policy: the import check rejects jsr:, https: and npm: specifiers", () => {
  assert.deepEqual(
    foreignSpecifiers(
      'import { a } from "jsr:@std/fs";\nimport "https://deno.land/x/y.ts";\n' +
        'export * from "npm:left-pad@1";\nconst m = await import("http://x/y.ts");\n' +
        'import { b } from "../../b.ts";\nimport { parseArgs } from "node:util";\n' +
        'import { Parser } from "expr-eval-fork";\nimport G from "prom-client/lib/gauge.js";\n' +
        'import x from "prom-clientx";\n',
    ),
    ["jsr:@std/fs", "https://deno.land/x/y.ts", "npm:left-pad@1", "http://x/y.ts", "prom-clientx"],
  );
});

/** One forbidden use per line, each with the category it must be flagged as. */
const FORBIDDEN: readonly [string, Category][] = [
  ['await Deno.writeTextFile("/tmp/x", "y");', "writes files"],
  ["Deno.writeFileSync(path, bytes);", "writes files"],
  ['Deno.mkdirSync("/a", { recursive: true });', "writes files"],
  ["await Deno.remove(p);", "writes files"],
  ["Deno.renameSync(a, b);", "writes files"],
  ["Deno.chmodSync(p, 0o600);", "writes files"],
  ["Deno.chown(p, 0, 0);", "writes files"],
  ["Deno.truncateSync(p);", "writes files"],
  ["Deno.symlinkSync(a, b);", "writes files"],
  ["Deno.linkSync(a, b);", "writes files"],
  ["const d = Deno.makeTempDirSync();", "writes files"],
  ["await Deno.copyFile(a, b);", "writes files"],
  ["const f = await Deno.create(p);", "writes files"],
  ["const f = Deno.openSync(p, { write: true });", "writes files"],
  ["const f = await Deno.open(p, { read: true, append: true });", "writes files"],
  ["const f = Deno.openSync(p, options);", "writes files"],
  ['import { writeFileSync } from "node:fs";', "writes files"],
  ['import * as fs from "fs/promises";', "writes files"],
  ['const fs = require("fs");', "writes files"],
  ['new Deno.Command("sh", { args: ["-c", "x"] }).spawn();', "spawns programs"],
  ['Deno.run({ cmd: ["ls"] });', "spawns programs"],
  ['import { spawn } from "node:child_process";', "spawns programs"],
  ['const lib = Deno.dlopen("libc.so.6", {});', "loads native code"],
  ["const p = Deno.UnsafePointer.create(1n);", "loads native code"],
  ['const req = createRequire(import.meta.url); req("./a.node");', "loads native code"],
  ['const c = await Deno.connect({ hostname: "h", port: 1 });', "opens outbound connections"],
  ['await Deno.connectTls({ hostname: "h", port: 443 });', "opens outbound connections"],
  ['const ws = new WebSocket("wss://h");', "opens outbound connections"],
  ['await fetch("http://h/");', "opens outbound connections"],
  ['import net from "node:net";', "opens outbound connections"],
  ['import { request } from "node:http";', "opens outbound connections"],
  ['import https from "node:https";', "opens outbound connections"],
  ['const m = await import("node:https");', "opens outbound connections"],
  ["const D = Deno; D.writeFileSync(p, b);", "hides what it calls"],
  ['Deno["writeFile"](p, b);', "hides what it calls"],
  ['globalThis["fetch"]("http://h");', "hides what it calls"],
  ["eval(code);", "hides what it calls"],
  ["const m = await import(name);", "hides what it calls"],
];

Deno.test("source policy: the detector flags every forbidden API", () => {
  for (const [line, category] of FORBIDDEN) {
    const found = findViolations("src/collect/sample.ts", `const p = "/x";\n${line}\n`);
    assert.ok(
      found.some((v) => v.category === category && v.line === 2),
      `not flagged as "${category}": ${line} (got ${JSON.stringify(found)})`,
    );
  }
});

Deno.test("source policy: strings and regexes do not hide code from the detector", () => {
  // Each line's "//" is inside a literal, so the call after it is code and must be found.
  for (
    const line of [
      'const u = "http://h"; Deno.removeSync(p);',
      "const u = 'a//b'; Deno.removeSync(p);",
      "const r = /\\/\\//; Deno.removeSync(p);",
      "const t = `${'//'}`; Deno.removeSync(p);",
      "const t = `a ${`//${b}`} c`; Deno.removeSync(p);",
    ]
  ) {
    assert.equal(findViolations("src/collect/sample.ts", line).length, 1, line);
  }
});

Deno.test("source policy: reading, serving, signalling, prose and comments pass", () => {
  const clean = [
    'const text = Deno.readTextFileSync("/proc/self/status");',
    "const f = Deno.openSync(path);",
    "const g = Deno.openSync(path, { read: true });",
    "for (const e of Deno.readDirSync(dir)) void e;",
    "Deno.kill(pid, signal);",
    "const server = Deno.serve({ port: 9000 }, handler);",
    'Deno.addSignalListener("SIGTERM", stop);',
    'const help = "never calls fetch(url) or Deno.writeFile, nor new WebSocket";',
    "// Deno.writeFileSync(p) and fetch(u) in a comment",
    "/* Deno.Command, Deno.dlopen, Deno.connect */",
    'import { parseArgs } from "node:util";',
    "const half = total / 2; const rate = count / seconds;",
    "type S = Deno.Signal;",
  ].join("\n");
  assert.deepEqual(findViolations("src/collect/sample.ts", clean), []);
});

Deno.test("source policy: src/act/webhook.ts may fetch, and nothing else", () => {
  const source = 'await fetch(url, { method: "POST" });\n';
  assert.deepEqual(findViolations(WEBHOOK, source), []);
  assert.equal(findViolations("src/scan/monitor.ts", source).length, 1);
  assert.equal(findViolations(WEBHOOK, "await Deno.connect({ port: 1 });\n").length, 1);
  assert.equal(findViolations(WEBHOOK, 'import { request } from "node:https";\n').length, 1);
  assert.equal(findViolations(WEBHOOK, 'import { createServer } from "node:http";\n').length, 1);
  // The metrics port listens on its own socket (Deno.listen): no module may import node:http.
  assert.equal(
    findViolations("src/report/server.ts", 'import { createServer } from "node:http";\n').length,
    1,
  );
});
