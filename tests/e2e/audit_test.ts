/**
 * The supply chain: deno.lock pins an integrity hash for every npm package and deno.json asks for
 * exact versions; `deno task audit` passes for what is locked and fails for a package with a
 * known advisory (expr-eval 2.0.2, GHSA-8gw3-rxh4-v6jx).
 */
import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import {
  compareVersions,
  directDependencies,
  inRange,
  knownFindings,
  lockedPackages,
  npmFindings,
  packageLock,
} from "../../scripts/audit.ts";
import { ROOT } from "../support/oomhero_process.ts";

/** deno.lock, read as JSON (an import cannot take it: it has no .json extension). */
const denoLock = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.lock`));

/** A sha512 Subresource Integrity string: 64 bytes in base64. */
const SHA512 = /^sha512-[A-Za-z0-9+/]{86}==$/;

Deno.test("deno.lock pins a sha512 integrity hash for every npm package", () => {
  const packages = lockedPackages(denoLock);
  assert.ok(packages.length >= 2);
  for (const p of packages) assert.match(p.integrity, SHA512, `${p.name}@${p.version}`);
  // Every dependency of a locked package is locked too.
  const names = new Set(packages.map((p) => p.name));
  for (const p of packages) {
    for (const d of p.dependencies) assert.ok(names.has(d), `${p.name} needs ${d}, not locked`);
  }
});

Deno.test("deno.json imports npm packages at exact versions, each locked", () => {
  const imports = denoJson.imports as Record<string, string>;
  const specs = Object.values(imports);
  assert.ok(specs.every((s) => s.startsWith("npm:")), "only npm: imports");
  const direct = directDependencies(imports);
  assert.equal(direct.length, specs.length);
  const lock: { specifiers: Record<string, string>; npm: Record<string, unknown> } = denoLock;
  for (const spec of specs) {
    const resolved = lock.specifiers[spec];
    assert.ok(resolved !== undefined, `${spec} is not in deno.lock`);
    const name = spec.slice("npm:".length, spec.lastIndexOf("@"));
    assert.ok(`${name}@${resolved}` in lock.npm, `${name}@${resolved} is not locked`);
    assert.equal(spec, `npm:${name}@${resolved}`, "the locked version is the one asked for");
  }
  assert.throws(() => directDependencies({ x: "npm:x@^1.0.0" }), /not an exact version/);
});

Deno.test("the package-lock written for npm audit holds deno.lock's versions and hashes", () => {
  const packages = lockedPackages(denoLock);
  const direct = directDependencies(denoJson.imports as Record<string, string>);
  const lock = packageLock(direct, packages) as {
    lockfileVersion: number;
    packages: Record<string, { version?: string; integrity?: string; dependencies?: object }>;
  };
  assert.equal(lock.lockfileVersion, 3);
  assert.deepEqual(Object.keys(lock.packages[""].dependencies ?? {}).sort(), direct.sort());
  for (const p of packages) {
    const entry = lock.packages[`node_modules/${p.name}`];
    assert.equal(entry.version, p.version);
    assert.equal(entry.integrity, p.integrity);
  }
  const twice = [...packages, { ...packages[0], version: "0.0.1" }];
  assert.throws(() => packageLock(direct, twice), /is locked at .* and 0\.0\.1/);
});

Deno.test("version ranges of advisories", () => {
  assert.equal(compareVersions("2.0.2", "2.0.10"), -1);
  assert.equal(compareVersions("3.0.0", "3.0.0-beta.1"), 1);
  assert.equal(compareVersions("1.2.3", "1.2.3"), 0);
  const cases: [string, string, boolean][] = [
    ["2.0.2", "<=2.0.2", true],
    ["2.0.3", "<=2.0.2", false],
    ["1.4.1", ">=1.0.0 <1.4.2", true],
    ["1.4.2", ">=1.0.0 <1.4.2", false],
    ["0.9.0", "<0.9.1 || >=2.0.0", true],
    ["2.1.0", "<0.9.1 || >=2.0.0", true],
    ["1.0.0", "<0.9.1 || >=2.0.0", false],
    ["3.0.3", "=3.0.3", true],
  ];
  for (const [version, range, expected] of cases) {
    assert.equal(inRange(version, range), expected, `${version} in ${range}`);
  }
  assert.throws(() => inRange("1.0.0", "~1.0"), /cannot read the range/);
  const known = [{
    package: "expr-eval",
    vulnerable: "<=2.0.2",
    id: "GHSA-8gw3-rxh4-v6jx",
    severity: "high",
    title: "t",
  }];
  assert.equal(knownFindings([{ name: "expr-eval", version: "2.0.2" }], known).length, 1);
  assert.equal(knownFindings([{ name: "expr-eval-fork", version: "2.0.2" }], known).length, 0);
});

Deno.test("npm audit's JSON: findings from a report, none from an endpoint error", () => {
  // The shape npm 7 and later print for `npm audit --json`.
  const report = {
    auditReportVersion: 2,
    vulnerabilities: {
      "expr-eval": {
        name: "expr-eval",
        severity: "high",
        isDirect: true,
        via: [{
          source: 1108720,
          name: "expr-eval",
          title: "Prototype pollution in expr-eval",
          url: "https://github.com/advisories/GHSA-8gw3-rxh4-v6jx",
          severity: "high",
          range: "<=2.0.2",
        }],
      },
      "uses-expr-eval": { name: "uses-expr-eval", severity: "high", via: ["expr-eval"] },
    },
    metadata: { vulnerabilities: { high: 2, total: 2 } },
  };
  assert.deepEqual(npmFindings(JSON.stringify(report), new Map([["expr-eval", "2.0.2"]])), [{
    package: "expr-eval",
    version: "2.0.2",
    id: "GHSA-8gw3-rxh4-v6jx",
    severity: "high",
    title: "Prototype pollution in expr-eval",
  }]);
  const clean = { auditReportVersion: 2, vulnerabilities: {}, metadata: {} };
  assert.deepEqual(npmFindings(JSON.stringify(clean), new Map()), []);
  const unreachable = { message: "405 Method Not Allowed - POST https://x/bulk", statusCode: 405 };
  assert.equal(npmFindings(JSON.stringify(unreachable), new Map()), undefined);
  assert.equal(npmFindings("not json", new Map()), undefined);
});

/** Runs the audit script as `deno task audit` does. */
async function runAudit(args: string[]): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-run=npm",
      `${ROOT}scripts/audit.ts`,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

function npmAvailable(): boolean {
  try {
    return new Deno.Command("npm", { args: ["--version"], stdout: "null" }).outputSync().success;
  } catch {
    return false;
  }
}
const NO_NPM = !npmAvailable();
if (NO_NPM) console.log("audit_test: npm is not installed; the audit runs are skipped");

Deno.test({
  name: "deno task audit passes for the locked dependencies",
  ignore: NO_NPM,
  fn: async () => {
    const r = await runAudit([]);
    assert.equal(r.code, 0, r.output);
    for (const p of lockedPackages(denoLock)) {
      assert.ok(r.output.includes(`${p.name}@${p.version}`), `${p.name} not audited`);
    }
    assert.match(r.output, /^audit: no known advisories$/m);
  },
});

Deno.test({
  name: "the audit fails on expr-eval 2.0.2 (GHSA-8gw3-rxh4-v6jx)",
  ignore: NO_NPM,
  fn: async () => {
    const r = await runAudit(["--package", "expr-eval@2.0.2"]);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /^audit: expr-eval@2\.0\.2: GHSA-8gw3-rxh4-v6jx /m);
    // Which source answered: npm's registry where it can be reached, else the known list.
    const source = /advisories from the npm registry/.test(r.output)
      ? "npm registry"
      : "scripts/known_advisories.json";
    console.log(`audit_test: the advisory came from the ${source}`);
  },
});
