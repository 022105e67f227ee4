/**
 * The dependency audit (`deno task audit`): every npm package deno.lock pins, checked for known
 * advisories. npm's own audit needs a package-lock.json, so one is written into a temporary
 * directory from deno.lock (the same versions and integrity hashes), and `npm audit` asks the npm
 * registry. Where the registry's advisory endpoint does not answer, the packages are checked
 * against scripts/known_advisories.json instead, and the output says so.
 *
 * Usage: audit.ts [--package NAME@VERSION]... [--require-online]
 * `--package` audits those packages (and what they depend on) instead of deno.lock's: the way to
 * check a dependency before adding it, and to prove the audit fails on a vulnerable one.
 * Exit code: 0 clean, 1 advisories found, 2 the audit could not run.
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** One npm package at one version. */
export interface LockedPackage {
  name: string;
  version: string;
  /** The sha512 Subresource Integrity string. */
  integrity: string;
  /** Names of the packages it depends on. */
  dependencies: string[];
}

/** One advisory found, from npm or from the known list. */
export interface Finding {
  package: string;
  version: string;
  id: string;
  severity: string;
  title: string;
}

/** An entry of scripts/known_advisories.json. */
export interface KnownAdvisory {
  package: string;
  /** Versions affected, as a range: `<=2.0.2`, `>=1.0.0 <1.4.2`, alternatives joined by `||`. */
  vulnerable: string;
  id: string;
  severity: string;
  title: string;
}

/** `name@version` into its two parts; a scoped name keeps its leading `@`. */
export function splitSpec(spec: string): { name: string; version: string } {
  const at = spec.lastIndexOf("@");
  if (at <= 0) throw new Error(`"${spec}" is not NAME@VERSION`);
  return { name: spec.slice(0, at), version: spec.slice(at + 1) };
}

/** The npm packages of a deno.lock (version 4 or 5), with their dependencies by name. */
export function lockedPackages(lock: { npm?: Record<string, unknown> }): LockedPackage[] {
  return Object.entries(lock.npm ?? {}).map(([spec, entry]) => {
    const { name, version } = splitSpec(spec.replace(/_.*$/, ""));
    const e = entry as { integrity?: string; dependencies?: string[] };
    return {
      name,
      version,
      integrity: e.integrity ?? "",
      // A dependency is listed by name, or as name@version when several versions are locked.
      dependencies: (e.dependencies ?? []).map((d) =>
        d.lastIndexOf("@") > 0 ? splitSpec(d).name : d
      ),
    };
  });
}

/**
 * A package-lock.json (version 3) holding exactly `packages`, `direct` being the project's own
 * dependencies. Every package is hoisted to the top node_modules, so a name locked at two
 * versions cannot be written and is an error.
 */
export function packageLock(direct: string[], packages: LockedPackage[]): object {
  const byName = new Map<string, LockedPackage>();
  for (const p of packages) {
    const other = byName.get(p.name);
    if (other !== undefined) {
      throw new Error(`${p.name} is locked at ${other.version} and ${p.version}`);
    }
    byName.set(p.name, p);
  }
  const versions = (names: string[]) =>
    Object.fromEntries(names.map((n) => {
      const p = byName.get(n);
      if (p === undefined) throw new Error(`${n} is depended on but not locked`);
      return [n, p.version];
    }));
  const entries: Record<string, object> = {
    "": { name: "oomhero-audit", version: "0.0.0", dependencies: versions(direct) },
  };
  for (const p of packages) {
    entries[`node_modules/${p.name}`] = {
      version: p.version,
      integrity: p.integrity,
      ...(p.dependencies.length > 0 ? { dependencies: versions(p.dependencies) } : {}),
    };
  }
  return {
    name: "oomhero-audit",
    version: "0.0.0",
    lockfileVersion: 3,
    requires: true,
    packages: entries,
  };
}

/** Compares two `x.y.z` versions; a pre-release sorts before its release. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.split("-", 2);
    return { parts: core.split(".").map(Number), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.parts[i] ?? 0) - (y.parts[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

/** Whether `version` is in `range`: comparators joined by spaces, alternatives by `||`. */
export function inRange(version: string, range: string): boolean {
  return range.split("||").some((alternative) =>
    alternative.trim().split(/\s+/).every((comparator) => {
      const m = /^(<=|>=|<|>|=)?v?(\d+\.\d+\.\d+(?:-[\w.]+)?)$/.exec(comparator);
      if (m === null) throw new Error(`cannot read the range "${range}"`);
      const c = compareVersions(version, m[2]);
      switch (m[1] ?? "=") {
        case "<":
          return c < 0;
        case "<=":
          return c <= 0;
        case ">":
          return c > 0;
        case ">=":
          return c >= 0;
        default:
          return c === 0;
      }
    })
  );
}

/** The known advisories affecting any of `packages`. */
export function knownFindings(
  packages: { name: string; version: string }[],
  known: KnownAdvisory[],
): Finding[] {
  return packages.flatMap((p) =>
    known.filter((a) => a.package === p.name && inRange(p.version, a.vulnerable)).map((a) => ({
      package: p.name,
      version: p.version,
      id: a.id,
      severity: a.severity,
      title: a.title,
    }))
  );
}

/**
 * The findings of `npm audit --json` output, or undefined when npm got no answer from the
 * advisory endpoint (its output then has no `vulnerabilities`).
 */
export function npmFindings(
  output: string,
  versions: ReadonlyMap<string, string>,
): Finding[] | undefined {
  let report: { vulnerabilities?: Record<string, { severity: string; via: unknown[] }> };
  try {
    report = JSON.parse(output);
  } catch {
    return undefined;
  }
  if (report.vulnerabilities === undefined) return undefined;
  return Object.entries(report.vulnerabilities).flatMap(([name, v]) =>
    v.via.filter((via): via is { url: string; title: string; severity: string } =>
      typeof via === "object"
    ).map((via) => ({
      package: name,
      version: versions.get(name) ?? "?",
      id: /GHSA-[\w-]+/.exec(via.url)?.[0] ?? via.url,
      severity: via.severity,
      title: via.title,
    }))
  );
}

/** Runs npm with `args` in `cwd`; output and whether it ran at all. */
function npm(args: string[], cwd: string): { ok: boolean; stdout: string; stderr: string } {
  try {
    const out = new Deno.Command("npm", {
      args: [...args, "--fetch-retries=0", "--no-fund", "--loglevel=error"],
      cwd,
      stdout: "piped",
      stderr: "piped",
      env: { npm_config_update_notifier: "false" },
    }).outputSync();
    const dec = new TextDecoder();
    return { ok: out.success, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } catch (e) {
    return { ok: false, stdout: "", stderr: `cannot run npm: ${(e as Error).message}` };
  }
}

/** The project's npm imports from deno.json, each exact: `npm:name@x.y.z`. */
export function directDependencies(imports: Record<string, string>): string[] {
  return Object.values(imports).filter((s) => s.startsWith("npm:")).map((s) => {
    const { name, version } = splitSpec(s.slice("npm:".length));
    if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`${s} is not an exact version`);
    return name;
  });
}

/** Writes the temporary project: from deno.lock, or resolved by npm for `--package` specs. */
function prepare(dir: string, specs: string[]): { name: string; version: string }[] {
  if (specs.length === 0) {
    const lock = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.lock`));
    const denoJson = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
    const packages = lockedPackages(lock);
    const direct = directDependencies(denoJson.imports ?? {});
    const lockfile = packageLock(direct, packages) as { packages: Record<string, object> };
    Deno.writeTextFileSync(`${dir}/package.json`, JSON.stringify(lockfile.packages[""], null, 2));
    Deno.writeTextFileSync(`${dir}/package-lock.json`, JSON.stringify(lockfile, null, 2));
    return packages;
  }
  const wanted = specs.map(splitSpec);
  Deno.writeTextFileSync(
    `${dir}/package.json`,
    JSON.stringify({
      name: "oomhero-audit",
      version: "0.0.0",
      dependencies: Object.fromEntries(wanted.map((p) => [p.name, p.version])),
    }),
  );
  const install = npm(["install", "--package-lock-only", "--ignore-scripts", "--no-audit"], dir);
  if (!install.ok) throw new Error(`npm cannot resolve ${specs.join(" ")}: ${install.stderr}`);
  const lock = JSON.parse(Deno.readTextFileSync(`${dir}/package-lock.json`));
  return Object.entries(lock.packages as Record<string, { version: string }>)
    .filter(([path]) => path !== "")
    .map(([path, p]) => ({
      name: path.slice(path.lastIndexOf("node_modules/") + 13),
      version: p.version,
    }));
}

/** Runs the audit, printing to `say`; returns the exit code. */
export function audit(args: string[], say: (line: string) => void = console.log): number {
  const { values } = parseArgs({
    args,
    options: {
      package: { type: "string", multiple: true },
      "require-online": { type: "boolean" },
    },
  });
  const dir = Deno.makeTempDirSync({ prefix: "oomhero-audit-" });
  try {
    let packages: { name: string; version: string }[];
    try {
      packages = prepare(dir, values.package ?? []);
    } catch (e) {
      say(`audit: ${(e as Error).message}`);
      return 2;
    }
    say(
      `audit: ${packages.length} packages: ${
        packages.map((p) => `${p.name}@${p.version}`).join(", ")
      }`,
    );
    const result = npm(["audit", "--package-lock-only", "--audit-level=low", "--json"], dir);
    const versions = new Map(packages.map((p) => [p.name, p.version]));
    let findings = npmFindings(result.stdout, versions);
    if (findings !== undefined) {
      say("audit: advisories from the npm registry");
    } else {
      const why = (() => {
        try {
          return JSON.parse(result.stdout).message ?? result.stderr.trim();
        } catch {
          return result.stderr.trim() || "no answer";
        }
      })();
      say(`audit: the npm registry's advisory endpoint did not answer (${why})`);
      if (values["require-online"]) return 2;
      const known = JSON.parse(
        Deno.readTextFileSync(`${ROOT}scripts/known_advisories.json`),
      ).advisories as KnownAdvisory[];
      say(
        `audit: checked against the ${known.length} advisories of scripts/known_advisories.json only`,
      );
      findings = knownFindings(packages, known);
    }
    for (const f of findings) {
      say(`audit: ${f.package}@${f.version}: ${f.id} (${f.severity}) ${f.title}`);
    }
    say(
      findings.length === 0 ? "audit: no known advisories" : `audit: ${findings.length} advisories`,
    );
    return findings.length === 0 ? 0 : 1;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(audit(Deno.args));
