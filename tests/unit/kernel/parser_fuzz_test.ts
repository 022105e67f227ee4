/**
 * Fuzzing of the kernel-file parsers: seeded random mutations of real file contents (the
 * fixtures and this machine's /proc and cgroupfs). Each parser must return a value of its type —
 * a finite number wherever it promises a number — or throw an Error with a message; never hang,
 * never return NaN, Infinity or undefined where a number is promised.
 */
import assert from "node:assert/strict";
import {
  ancestors,
  joinCgroupPath,
  locateHierarchy,
  parseHierarchicalLimit,
  parseInactiveFile,
  parseMemoryBytes,
  parseMemoryLimit,
} from "../../../src/kernel/cgroup.ts";
import { parseLoadavgLastPid } from "../../../src/kernel/loadavg.ts";
import { parseCgroupMounts } from "../../../src/kernel/mountinfo.ts";
import {
  parsePressure,
  PRESSURE_SEVERITIES,
  PRESSURE_WINDOWS,
} from "../../../src/kernel/pressure.ts";
import {
  parseCmdline,
  parseOomScore,
  parseProcCgroup,
  parseSignalMasks,
  parseStatStartTime,
} from "../../../src/kernel/procfs.ts";
import { ROOT } from "../../support/oomhero_process.ts";
import { prng } from "../../support/prng.ts";

/** Mutated inputs per parser and seed file. */
const CASES_PER_SEED = 120;
/** The largest input: 4 × the most of a command line read, far past any other kernel file. */
const MAX_INPUT = 256 * 1024;
/** One parse of a mutated kernel file, at most a few MB, is far quicker than this. */
const SLOW_MS = 1_000;

/** Every regular file under `dir` whose name is one of `names`. */
function filesNamed(dir: string, names: readonly string[]): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...filesNamed(path, names));
    else if (entry.isFile && names.includes(entry.name)) out.push(path);
  }
  return out;
}

/** The contents of the fixtures' files of these names, and of the live ones that exist. */
function seeds(names: readonly string[], live: readonly string[]): string[] {
  const texts = filesNamed(`${ROOT}tests/fixtures`, names).map((p) => Deno.readTextFileSync(p));
  for (const path of live) {
    try {
      texts.push(Deno.readTextFileSync(path));
    } catch {
      // Not on this kernel (no PSI, cgroup v1 only): the fixtures still cover it.
    }
  }
  assert.ok(texts.length > 0, `no seed files named ${names.join(", ")}`);
  return texts;
}

/** Pieces worth splicing into kernel files: separators, signs, huge and special numbers. */
const NOISE = [
  " ",
  "  ",
  "\n",
  "\t",
  "\0",
  ":",
  "::",
  "=",
  ")",
  "(",
  "-",
  "+",
  ".",
  "..",
  "/",
  "/..",
  "e",
  "1e400",
  "NaN",
  "Infinity",
  "-1",
  "0x10",
  "9".repeat(400),
  "1" + "0".repeat(320),
  "18446744073709551615",
  "max",
  "some",
  "full",
  "avg10=",
  "total=",
  "inactive_file ",
  "total_inactive_file ",
  "0::",
  "memory",
  "é",
  "\u{1F600}",
  "\uFFFD",
  "__proto__",
  "constructor",
];

/** One random mutation of `text`: splice, delete, duplicate, truncate, flip or blow up. */
function mutate(text: string, random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const at = Math.floor(random() * (text.length + 1));
  const span = Math.floor(random() * 16);
  switch (Math.floor(random() * 9)) {
    case 0:
      return text.slice(0, at) + pick(NOISE) + text.slice(at);
    case 1:
      return text.slice(0, at) + text.slice(at + span);
    case 2:
      return text.slice(0, at) + pick(NOISE) + text.slice(at + span);
    case 3:
      return text.slice(0, at);
    case 4:
      return text.slice(0, at) + text.slice(at, at + span).repeat(2) + text.slice(at);
    case 5: {
      const code = text.charCodeAt(at) ^ (1 << Math.floor(random() * 7));
      return text.slice(0, at) + String.fromCharCode(code) + text.slice(at + 1);
    }
    case 6:
      // Digit runs become huge: the overflow to Infinity.
      return text.replace(/\d+/g, (d) => random() < 0.5 ? d : "9".repeat(330));
    case 7:
      return text.repeat(1 + Math.floor(random() * MAX_INPUT / Math.max(1, text.length)));
    default:
      return "";
  }
}

/** Several mutations applied in turn, so errors far from each other combine. */
function mutated(seed: string, random: () => number): string {
  let text = seed;
  const rounds = 1 + Math.floor(random() * 3);
  for (let i = 0; i < rounds; i++) text = mutate(text, random).slice(0, MAX_INPUT);
  return text;
}

/** Asserts a number the parser promised: finite, and whole or non-negative when asked. */
function assertNumber(
  value: unknown,
  input: string,
  { integer = false, nonNegative = false } = {},
): void {
  const show = JSON.stringify(input.length > 200 ? `${input.slice(0, 200)}…` : input);
  assert.equal(typeof value, "number", `${show} gave ${String(value)}`);
  assert.ok(Number.isFinite(value), `${show} gave ${String(value)}`);
  if (integer) assert.ok(Number.isInteger(value), `${show} gave ${String(value)}`);
  if (nonNegative) assert.ok((value as number) >= 0, `${show} gave ${String(value)}`);
}

interface FuzzStats {
  parsed: number;
  rejected: number;
}

/**
 * Feeds mutations of every seed to `parse`; `check` asserts a returned value. Returns how many
 * parsed and how many were rejected with an Error, so a test can tell the fuzz reached both.
 */
function fuzz<T>(
  name: string,
  seedTexts: string[],
  parse: (text: string) => T,
  check: (value: T, input: string) => void,
  seed: number,
): FuzzStats {
  const random = prng(seed);
  const stats: FuzzStats = { parsed: 0, rejected: 0 };
  for (const seedText of seedTexts) {
    for (let i = 0; i < CASES_PER_SEED; i++) {
      const input = mutated(seedText, random);
      const started = performance.now();
      let value: T;
      try {
        value = parse(input);
      } catch (e) {
        assert.ok(e instanceof Error, `${name} threw a non-Error: ${String(e)}`);
        assert.ok(e.message.length > 0, `${name} threw an Error without a message`);
        stats.rejected++;
        continue;
      } finally {
        const ms = performance.now() - started;
        assert.ok(ms < SLOW_MS, `${name} took ${ms.toFixed(0)} ms on a ${input.length}-char input`);
      }
      check(value, input);
      stats.parsed++;
    }
  }
  assert.ok(stats.parsed > 0 && stats.rejected > 0, `${name}: ${JSON.stringify(stats)}`);
  return stats;
}

const SELF = "/proc/self";
/** proc(5)'s example: no fixture tree has a loadavg, which is read only in our own namespace. */
const LOADAVG_EXAMPLE = "0.57 0.31 0.22 2/1207 12345\n";

Deno.test("fuzz parseStatStartTime: a whole non-negative number or an Error", () => {
  fuzz(
    "parseStatStartTime",
    seeds(["stat"], [`${SELF}/stat`]),
    parseStatStartTime,
    (v, input) => assertNumber(v, input, { integer: true, nonNegative: true }),
    1,
  );
});

Deno.test("fuzz parseOomScore: a whole number or an Error", () => {
  fuzz(
    "parseOomScore",
    seeds(["oom_score", "oom_score_adj"], [`${SELF}/oom_score`, `${SELF}/oom_score_adj`]),
    parseOomScore,
    (v, input) => assertNumber(v, input, { integer: true }),
    2,
  );
});

Deno.test("fuzz parseLoadavgLastPid: a whole non-negative number or an Error", () => {
  fuzz(
    "parseLoadavgLastPid",
    [LOADAVG_EXAMPLE, Deno.readTextFileSync("/proc/loadavg")],
    parseLoadavgLastPid,
    (v, input) => assertNumber(v, input, { integer: true, nonNegative: true }),
    17,
  );
});

Deno.test("fuzz parseSignalMasks: three 64-bit masks or an Error", () => {
  // The fixtures' status files are copies of two captures: those two and this process's own.
  const texts = [...new Set(seeds(["status"], [`${SELF}/status`]))];
  fuzz("parseSignalMasks", texts, parseSignalMasks, (masks, input) => {
    for (const mask of [masks.blocked, masks.ignored, masks.caught]) {
      assert.ok(mask >= 0n && mask < 1n << 64n, `${mask} from ${JSON.stringify(input)}`);
    }
  }, 7);
});

Deno.test("fuzz parseCmdline: two strings, the first argument a prefix of the whole", () => {
  const random = prng(3);
  for (const seed of seeds(["cmdline"], [`${SELF}/cmdline`])) {
    for (let i = 0; i < CASES_PER_SEED; i++) {
      const input = mutated(seed, random);
      const { cmdline, firstArg } = parseCmdline(input);
      assert.equal(typeof cmdline, "string");
      assert.equal(typeof firstArg, "string");
      assert.ok(cmdline.startsWith(firstArg), JSON.stringify(input.slice(0, 100)));
      assert.ok(!cmdline.includes("\0"), "NULs become spaces");
    }
  }
});

Deno.test("fuzz parseProcCgroup: paths as strings or absent, or an Error", () => {
  const stats = fuzz(
    "parseProcCgroup",
    seeds(["cgroup"], [`${SELF}/cgroup`]),
    parseProcCgroup,
    (v, input) => {
      for (const key of Object.keys(v)) assert.ok(key === "unified" || key === "memory", key);
      for (const path of [v.unified, v.memory]) {
        if (path !== undefined) {
          assert.equal(typeof path, "string");
          assert.ok(input.includes(path), "a path is copied from the input");
          assert.ok(!path.includes("\n"), "a path is one line");
        }
      }
    },
    4,
  );
  assert.ok(stats.parsed > stats.rejected / 10, JSON.stringify(stats));
});

Deno.test("fuzz parsePressure: 2 × 4 finite non-negative numbers or an Error", () => {
  fuzz(
    "parsePressure",
    seeds(
      ["memory", "io", "cpu", "memory.pressure", "io.pressure", "cpu.pressure"],
      ["/proc/pressure/memory", "/proc/pressure/io", "/proc/pressure/cpu"],
    ),
    parsePressure,
    (v, input) => {
      assert.deepEqual(Object.keys(v).sort(), [...PRESSURE_SEVERITIES].sort());
      for (const severity of PRESSURE_SEVERITIES) {
        assert.deepEqual(Object.keys(v[severity]).sort(), [...PRESSURE_WINDOWS].sort());
        for (const window of PRESSURE_WINDOWS) {
          assertNumber(v[severity][window], input, { nonNegative: true });
        }
      }
    },
    5,
  );
});

const LIVE_MEMORY = [
  "/sys/fs/cgroup/memory.current",
  "/sys/fs/cgroup/memory/memory.usage_in_bytes",
  "/sys/fs/cgroup/memory.max",
  "/sys/fs/cgroup/memory/memory.limit_in_bytes",
];

Deno.test("fuzz parseMemoryBytes: a finite non-negative byte count or an Error", () => {
  fuzz(
    "parseMemoryBytes",
    seeds(["memory.current", "memory.usage_in_bytes"], LIVE_MEMORY.slice(0, 2)),
    parseMemoryBytes,
    (v, input) => assertNumber(v, input, { integer: true, nonNegative: true }),
    6,
  );
});

Deno.test("fuzz parseMemoryLimit: Infinity only for no limit, else a byte count, or an Error", () => {
  fuzz(
    "parseMemoryLimit",
    seeds(["memory.max", "memory.limit_in_bytes"], LIVE_MEMORY.slice(2)),
    parseMemoryLimit,
    (v, input) => {
      if (v === Infinity) {
        // "max", or v1's page-rounded 2^63-1: from 2^62 up to the 64 bits of a kernel figure.
        const text = input.trim();
        const n = Number(text);
        assert.ok(
          text === "max" || (/^\d+$/.test(text) && n >= 2 ** 62 && n <= 2 ** 64),
          `${JSON.stringify(input)} gave no limit`,
        );
      } else {
        assertNumber(v, input, { integer: true, nonNegative: true });
      }
    },
    7,
  );
});

Deno.test("fuzz parseInactiveFile: a finite non-negative byte count or an Error", () => {
  const memoryStat = seeds(["memory.stat"], [
    "/sys/fs/cgroup/memory.stat",
    "/sys/fs/cgroup/memory/memory.stat",
  ]);
  for (const version of [1, 2] as const) {
    fuzz(
      `parseInactiveFile v${version}`,
      memoryStat,
      (text) => parseInactiveFile(text, version),
      (v, input) => assertNumber(v, input, { integer: true, nonNegative: true }),
      8 + version,
    );
  }
});

Deno.test("fuzz parseHierarchicalLimit: a limit, Infinity, undefined or an Error", () => {
  fuzz(
    "parseHierarchicalLimit",
    seeds(["memory.stat"], []),
    parseHierarchicalLimit,
    (v, input) => {
      if (v !== undefined && v !== Infinity) assertNumber(v, input, { nonNegative: true });
    },
    13,
  );
});

Deno.test("fuzz parseCgroupMounts: cgroup mounts copied from the input, or an Error", () => {
  fuzz(
    "parseCgroupMounts",
    seeds(["mountinfo"], [`${SELF}/mountinfo`]),
    parseCgroupMounts,
    (mounts) => {
      for (const m of mounts) {
        assert.ok(m.fsType === "cgroup" || m.fsType === "cgroup2", m.fsType);
        assert.equal(typeof m.root, "string");
        assert.equal(typeof m.mountPoint, "string");
        assert.ok(m.controllers.every((c) => typeof c === "string"));
      }
    },
    14,
  );
});

Deno.test("fuzz cgroup path resolution: stays under a mount, never climbs out, terminates", () => {
  const random = prng(11);
  const paths = seeds(["cgroup"], [`${SELF}/cgroup`]).flatMap((text) => {
    try {
      const c = parseProcCgroup(text);
      return [c.unified, c.memory].filter((p): p is string => p !== undefined);
    } catch {
      return [];
    }
  });
  const host = "/host/sys/fs/cgroup";
  const container = "/proc/42/root/sys/fs/cgroup";
  let located = 0;
  for (let i = 0; i < 5000; i++) {
    // PATH_MAX bounds a real cgroup path.
    const path = mutated(paths[i % paths.length], random).slice(0, 4096);
    const root = random() < 0.5 ? "/" : mutated(paths[(i + 1) % paths.length], random);
    // Which directories exist is itself random, fixed per path for the call.
    const answers = new Map<string, "present" | "absent" | "denied">();
    const state = (p: string) => {
      if (!answers.has(p)) {
        const r = random();
        answers.set(p, r < 0.7 ? "present" : r < 0.9 ? "absent" : "denied");
      }
      return answers.get(p)!;
    };
    let location;
    try {
      location = locateHierarchy(
        "memory",
        path,
        [{ dir: host, root: "/" }],
        () => [{ dir: container, root }],
        state,
      );
    } catch (e) {
      assert.ok(e instanceof Error && e.message.length > 0);
      continue;
    }
    located++;
    const top = location.root;
    assert.ok(top === host || top === container, top);
    assert.ok(
      location.dir === top || location.dir.startsWith(`${top}/`),
      `${location.dir} is outside ${top}`,
    );
    assert.ok(!location.dir.split("/").includes(".."), location.dir);
    const chain = ancestors(location.dir, top);
    assert.ok(chain.length <= location.dir.split("/").length, "ancestors terminates");
    assert.equal(chain[0], location.dir);
    if (chain.length > 1) assert.equal(chain.at(-1), top);
    for (const dir of chain) assert.ok(dir === top || dir.startsWith(`${top}/`), dir);
  }
  assert.ok(located > 500, `only ${located} of 5000 paths resolved`);
});

Deno.test("fuzz ancestors and joinCgroupPath on arbitrary strings: bounded and prefix-closed", () => {
  const random = prng(12);
  const alphabet = ["/", "//", "a", "b", ".", "..", "", " "];
  const word = () =>
    Array.from(
      { length: Math.floor(random() * 8) },
      () => alphabet[Math.floor(random() * alphabet.length)],
    ).join("");
  for (let i = 0; i < 20_000; i++) {
    const root = word();
    const dir = random() < 0.5 ? `${root}/${word()}` : word();
    const chain = ancestors(dir, root);
    assert.ok(chain.length <= dir.length + 1, `${dir} under ${root}: ${chain.length}`);
    for (const d of chain) assert.ok(dir.startsWith(d), `${d} is not a prefix of ${dir}`);
    const joined = joinCgroupPath(root, word());
    assert.ok(joined.startsWith(root), joined);
  }
});
