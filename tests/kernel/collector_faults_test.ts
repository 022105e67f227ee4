/**
 * Fault injection into every file the collector reads: each file of a fixture tree goes missing,
 * turns into a directory, unreadable (EACCES, scanned as nobody), garbage, empty, truncated or
 * 10 MB large. Every scan must return; the affected process is skipped or reported with the
 * documented fallback figures; every other process reads as before; each problem is warned about
 * once per process and reason, in one short line.
 */
import assert from "node:assert/strict";
import type { ProcessSample } from "../../src/collect/sample.ts";
import {
  asNobody,
  nobodyUnavailable,
  openToNobody,
  type Unprivileged,
} from "../support/as_nobody.ts";
import { type Scans, scanTimes } from "../support/collector_scans.ts";
import { copyFixture, type FixtureLayout } from "../support/fixture_paths.ts";
import { ROOT } from "../support/oomhero_process.ts";
import { runtimeArgv } from "../../scripts/runtime_flags.ts";

/** Scans per case: a warning repeated per scan would show from the second on. */
const SCANS = 3;
/** A huge file: far more than any kernel file, as much as the largest command lines. */
const HUGE_BYTES = 10 * 1024 * 1024;
/** Junk without ':' or digits, so no parser can take any of it for a value. */
const GARBAGE = "\u0000\u00ff garbage )( = \ufffd\n";
/** A warning line longer than this would flood logs; messages quote input clipped. */
const MAX_WARNING_CHARS = 1_000;

type Fault = "missing" | "directory" | "unreadable" | "garbage" | "empty" | "truncated" | "huge";
const FAULTS: readonly Fault[] = [
  "missing",
  "directory",
  "unreadable",
  "garbage",
  "empty",
  "truncated",
  "huge",
];

/** What the affected processes must look like after a fault. */
type Outcome =
  /** Left out of the scan. */
  | { skipped: true; warns: boolean }
  /** In the scan, with these variables changed from before (the rest as before). */
  | { skipped: false; warns: boolean; changes: Record<string, number> };

const skipped = (warns: boolean): Outcome => ({ skipped: true, warns });
const reported = (warns: boolean, changes: Record<string, number> = {}): Outcome => ({
  skipped: false,
  warns,
  changes,
});

/** Memory figures as read when the usage file cannot be: unreadable, never 0. */
const NO_USAGE = {
  memory_current: NaN,
  memory_usage: NaN,
  memory_working_set: NaN,
  memory_working_set_usage: NaN,
};
/** Memory figures as read when no limit applies. */
const NO_LIMIT = { memory_max: 0, memory_usage: 0, memory_working_set_usage: 0 };
/** Memory figures as read when a limit file cannot be: the limit is unknown, not absent. */
const UNREADABLE_LIMIT = { memory_max: NaN, memory_usage: NaN, memory_working_set_usage: NaN };
/** Memory figures of a cgroup that cannot be found. */
const NO_MEMORY = { ...NO_USAGE, ...UNREADABLE_LIMIT };
/** The pressure variables of one resource, all unreadable. */
function noPressure(resource: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const severity of ["some", "full"]) {
    for (const window of ["avg10", "avg60", "avg300", "total"]) {
      out[`${resource}_pressure_${severity}_${window}`] = NaN;
    }
  }
  return out;
}

interface FileCase {
  layout: FixtureLayout;
  /** The file, relative to the fixture copy's directory. */
  file: string;
  /** The processes that read it; oomhero itself is `selfPid`. */
  pids: number[];
  selfPid: number;
  /** When the file is missing. */
  missing: Outcome;
  /** When it cannot be read or parsed. */
  broken: Outcome;
  /** Exceptions for single faults, e.g. a huge file that is its content repeated and parses. */
  except?: Partial<Record<Fault, Outcome>>;
}

/** The system-wide pressure of the fixtures, which pid 100 falls back to without a cgroup. */
const SYSTEM_PRESSURE = {
  memory_pressure_some_avg10: 0.1,
  memory_pressure_some_avg60: 0.2,
  memory_pressure_some_avg300: 0.3,
  memory_pressure_some_total: 1000,
  memory_pressure_full_avg10: 0.01,
  memory_pressure_full_avg60: 0.02,
  memory_pressure_full_avg300: 0.03,
  memory_pressure_full_total: 500,
  io_pressure_some_avg10: 0.4,
  io_pressure_some_avg60: 0.5,
  io_pressure_some_avg300: 0.6,
  io_pressure_some_total: 2000,
  io_pressure_full_avg10: 0.04,
  io_pressure_full_avg60: 0.05,
  io_pressure_full_avg300: 0.06,
  io_pressure_full_total: 1500,
  cpu_pressure_some_avg10: 0.7,
  cpu_pressure_some_avg60: 0.8,
  cpu_pressure_some_avg300: 0.9,
  cpu_pressure_some_total: 3000,
  cpu_pressure_full_avg10: 0,
  cpu_pressure_full_avg60: 0,
  cpu_pressure_full_avg300: 0,
  cpu_pressure_full_total: 0,
};

const APP = "cgroup/kubepods.slice/kubepods-pod1.slice/cri-containerd-aaa.scope";
const V2 = { layout: "v2-host", selfPid: 105 } as const;
const V1 = { layout: "v1-container", selfPid: 999 } as const;
const V1_MEMORY = "proc/50/root/sys/fs/cgroup/memory";

const CASES: FileCase[] = [
  {
    ...V2,
    file: "proc/100/stat",
    pids: [100],
    // No stat file is how a process that just exited looks: skipped without a word.
    missing: skipped(false),
    broken: skipped(true),
    except: {
      directory: skipped(false),
      // Fields are counted from the last ')': the last copy's start time, the same.
      huge: reported(false),
    },
  },
  {
    ...V2,
    file: "proc/100/cmdline",
    pids: [100],
    missing: skipped(true),
    broken: skipped(true),
    except: {
      // Any bytes are a command line; an empty one is a kernel thread's.
      garbage: reported(false),
      empty: skipped(false),
      huge: reported(false),
    },
  },
  {
    ...V2,
    file: "proc/100/oom_score",
    pids: [100],
    missing: reported(true, { oom_score: NaN }),
    broken: reported(true, { oom_score: NaN }),
  },
  {
    ...V2,
    file: "proc/100/oom_score_adj",
    pids: [100],
    missing: reported(true, { oom_score_adj: NaN }),
    broken: reported(true, { oom_score_adj: NaN }),
  },
  {
    ...V2,
    file: "proc/100/cgroup",
    pids: [100],
    missing: skipped(true),
    broken: skipped(true),
    except: {
      // No cgroup line: memory is unreadable and pressure comes from /proc/pressure.
      empty: reported(true, { ...NO_MEMORY, ...SYSTEM_PRESSURE }),
      // Repeated lines: the last of each kind counts, the same path.
      huge: reported(false),
    },
  },
  {
    ...V2,
    file: `${APP}/memory.current`,
    pids: [100, 101],
    missing: reported(true, NO_USAGE),
    broken: reported(true, NO_USAGE),
  },
  {
    ...V2,
    file: `${APP}/memory.max`,
    pids: [100, 101],
    // The container says "max" anyway: its pod holds the limit. Unreadable, no limit is known.
    missing: reported(false),
    broken: reported(true, UNREADABLE_LIMIT),
  },
  {
    ...V2,
    file: "cgroup/kubepods.slice/kubepods-pod1.slice/memory.max",
    pids: [100, 101],
    // No memory.max: the memory controller is off there, so no limit; a broken one is unknown.
    missing: reported(false, NO_LIMIT),
    broken: reported(true, UNREADABLE_LIMIT),
  },
  {
    ...V2,
    file: `${APP}/memory.stat`,
    pids: [100, 101],
    // Without inactive_file the working set is all of usage: the cautious figure.
    missing: reported(true, { memory_working_set: 134217728, memory_working_set_usage: 25 }),
    broken: reported(true, { memory_working_set: 134217728, memory_working_set_usage: 25 }),
    except: { huge: reported(false) },
  },
  ...["memory", "io", "cpu"].map((resource): FileCase => ({
    ...V2,
    file: `${APP}/${resource}.pressure`,
    pids: [100, 101],
    // The others are there: this one is unreadable, not quiet.
    missing: reported(true, noPressure(resource)),
    broken: reported(true, noPressure(resource)),
    except: { huge: reported(false) },
  })),
  ...["memory", "io", "cpu"].map((resource): FileCase => ({
    ...V2,
    // Only pid 102's cgroup has no pressure files of its own.
    file: `proc/pressure/${resource}`,
    pids: [102],
    missing: reported(true, noPressure(resource)),
    broken: reported(true, noPressure(resource)),
    except: { huge: reported(false) },
  })),
  {
    ...V1,
    file: `${V1_MEMORY}/memory.usage_in_bytes`,
    pids: [50],
    missing: reported(true, NO_USAGE),
    broken: reported(true, NO_USAGE),
  },
  {
    ...V1,
    file: `${V1_MEMORY}/memory.limit_in_bytes`,
    pids: [50],
    // memory.stat's hierarchical_memory_limit is the limit the kernel enforces.
    missing: reported(false),
    broken: reported(true),
  },
  {
    ...V1,
    file: "proc/50/mountinfo",
    pids: [50],
    // Without its mounts the container's cgroup cannot be found: memory unreadable; pressure
    // is system-wide on v1 anyway.
    missing: reported(true, NO_MEMORY),
    broken: reported(true, NO_MEMORY),
    except: { huge: reported(false) },
  },
  {
    ...V1,
    file: `${V1_MEMORY}/memory.stat`,
    pids: [50],
    missing: reported(true, { memory_working_set: 157286400, memory_working_set_usage: 58.59375 }),
    broken: reported(true, { memory_working_set: 157286400, memory_working_set_usage: 58.59375 }),
    except: { huge: reported(false) },
  },
];

/** The outcome a case expects for a fault; undefined for truncation, which may still parse. */
function expected(c: FileCase, fault: Fault): Outcome | undefined {
  if (c.except?.[fault] !== undefined) return c.except[fault];
  if (fault === "truncated") return undefined;
  return fault === "missing" ? c.missing : c.broken;
}

/** Applies `fault` to `path`. */
function inject(path: string, fault: Fault): void {
  const content = Deno.readTextFileSync(path);
  switch (fault) {
    case "missing":
      Deno.removeSync(path);
      break;
    case "directory":
      Deno.removeSync(path);
      Deno.mkdirSync(path);
      break;
    case "unreadable":
      Deno.chmodSync(path, 0o000);
      break;
    case "garbage":
      Deno.writeTextFileSync(path, GARBAGE);
      break;
    case "empty":
      Deno.writeTextFileSync(path, "");
      break;
    case "truncated":
      Deno.writeTextFileSync(path, content.slice(0, Math.floor(content.length / 2)));
      break;
    case "huge":
      Deno.writeTextFileSync(path, content.repeat(Math.ceil(HUGE_BYTES / content.length)));
      break;
  }
}

/**
 * Scans a fixture copy as root in-process, or as nobody through collector_scans.ts; the copy's
 * directory reads as "<fixture>" in paths, so scans of different copies compare.
 */
function scan(
  roots: { procfs: string; cgroupfs: string; dir: string },
  selfPid: number,
  nobody: Unprivileged | undefined,
): Scans {
  const json = nobody === undefined
    ? JSON.stringify(scanTimes(roots.procfs, roots.cgroupfs, selfPid, SCANS))
    : scanAs(nobody, roots, selfPid);
  return JSON.parse(json.replaceAll(roots.dir, "<fixture>"));
}

function scanAs(
  nobody: Unprivileged,
  roots: { procfs: string; cgroupfs: string },
  selfPid: number,
): string {
  const out = new Deno.Command(nobody.prefix[0], {
    args: [
      ...nobody.prefix.slice(1),
      ...runtimeArgv(`${ROOT}tests/support/collector_scans.ts`, [
        roots.procfs,
        roots.cgroupfs,
        String(selfPid),
        String(SCANS),
      ]),
    ],
    env: { ...nobody.env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `collector_scans.ts as nobody failed:\n${stderr}`);
  return new TextDecoder().decode(out.stdout);
}

/** Scans of the untouched fixtures, per layout. */
const baselines = new Map<FixtureLayout, Scans>();
function baseline(layout: FixtureLayout, selfPid: number): Scans {
  let b = baselines.get(layout);
  if (b === undefined) {
    const copy = copyFixture(layout);
    try {
      b = scan(copy, selfPid, undefined);
    } finally {
      Deno.removeSync(copy.dir, { recursive: true });
    }
    baselines.set(layout, b);
  }
  return b;
}

/** Warnings as `pid reason`, to compare and count. */
function warningKeys(scans: Scans): string[] {
  // Only the per-process ones: a line about the view as a whole is not a fault's.
  return scans.warnings.filter((w) => w.pid !== undefined).map((w) => `${w.pid} ${w.reason}`);
}

function checkCase(c: FileCase, fault: Fault, got: Scans, before: Scans): void {
  const label = `${c.file} ${fault}`;
  const beforeByPid = new Map(before.scans[0].map((s) => [s.pid, s]));
  assert.equal(got.scans.length, SCANS, label);
  for (const [i, samples] of got.scans.entries()) {
    assert.deepEqual(samples, got.scans[0], `${label}: scan ${i + 1} differs from the first`);
  }
  const byPid = new Map(got.scans[0].map((s) => [s.pid, s]));
  // Every other process reads exactly as before.
  for (const [pid, sample] of beforeByPid) {
    if (c.pids.includes(pid)) continue;
    assert.deepEqual(byPid.get(pid), sample, `${label}: pid ${pid} is affected`);
  }
  for (const pid of byPid.keys()) assert.ok(beforeByPid.has(pid), `${label}: new pid ${pid}`);

  const newWarnings = warningKeys(got).filter((w) => !warningKeys(before).includes(w));
  // Once per process and reason, not once per scan; and short.
  assert.equal(
    new Set(warningKeys(got)).size,
    got.warnings.filter((w) => w.pid !== undefined).length,
    `${label}: repeated warning`,
  );
  for (const w of got.warnings) {
    assert.ok(JSON.stringify(w).length < MAX_WARNING_CHARS, `${label}: long warning`);
  }
  for (const w of newWarnings) {
    assert.ok(c.pids.includes(Number(w.split(" ")[0])), `${label}: warning about ${w}`);
  }

  for (const pid of c.pids) {
    const sample = byPid.get(pid);
    const old = beforeByPid.get(pid)!;
    // A number, or null (NaN through JSON) where the figure is unreadable; never Infinity.
    for (const value of Object.values(sample?.variables ?? {})) {
      assert.ok(value === null || Number.isFinite(value), `${label}: pid ${pid} has ${value}`);
    }
    const warned = newWarnings.some((w) => w.startsWith(`${pid} `));
    const want = expected(c, fault);
    if (want === undefined) continue;
    assert.equal(warned, want.warns, `${label}: pid ${pid} warned: ${newWarnings.join("; ")}`);
    if (want.skipped) {
      assert.equal(sample, undefined, `${label}: pid ${pid} should be skipped`);
      continue;
    }
    assert.ok(sample !== undefined, `${label}: pid ${pid} should be reported`);
    assert.deepEqual(
      sample.variables,
      JSON.parse(JSON.stringify({ ...old.variables, ...want.changes })),
      `${label}: pid ${pid}'s variables`,
    );
    assertIdentity(label, sample, old, c.file.endsWith("/cmdline"));
  }
}

/** Same process: pid and start time always; the command line unless that is the fault. */
function assertIdentity(
  label: string,
  sample: ProcessSample,
  old: ProcessSample,
  cmdlineFault: boolean,
): void {
  assert.equal(sample.startTime, old.startTime, label);
  if (!cmdlineFault) {
    assert.equal(sample.cmdline, old.cmdline, label);
    return;
  }
  assert.ok(sample.cmdline.length <= 64 * 1024, `${label}: cmdline of ${sample.cmdline.length}`);
}

function runCase(c: FileCase, fault: Fault, nobody: Unprivileged | undefined): void {
  const before = baseline(c.layout, c.selfPid);
  const copy = copyFixture(c.layout);
  try {
    if (nobody !== undefined) openToNobody(copy.dir);
    inject(`${copy.dir}/${c.file}`, fault);
    const started = performance.now();
    const got = scan(copy, c.selfPid, nobody);
    // Generous: three scans of a tree with a 10 MB file, or a subprocess start on a busy CI.
    assert.ok(performance.now() - started < 20_000, `${c.file} ${fault}: scans took too long`);
    checkCase(c, fault, got, before);
  } finally {
    Deno.removeSync(copy.dir, { recursive: true });
  }
}

for (const fault of FAULTS.filter((f) => f !== "unreadable")) {
  Deno.test(`fault "${fault}" in each of ${CASES.length} files the collector reads`, () => {
    for (const c of CASES) runCase(c, fault, undefined);
  });
}

const NOBODY_SKIP = nobodyUnavailable();
if (NOBODY_SKIP !== undefined) console.log(`skipping EACCES faults: ${NOBODY_SKIP}`);

Deno.test({
  name: `fault "unreadable" (EACCES, scanned as nobody) in each of ${CASES.length} files`,
  ignore: NOBODY_SKIP !== undefined,
  fn: () => {
    const nobody = asNobody();
    try {
      for (const c of CASES) runCase(c, "unreadable", nobody);
    } finally {
      nobody.cleanup();
    }
  },
});
