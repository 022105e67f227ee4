/**
 * Hostile and broken input at startup: every flag with empty, huge (1 MB), negative, NaN,
 * unit-less and duplicated values through the real parser, and a sample of the worst through the
 * real CLI — expressions nested 10,000 deep, 1 MB long (100 KB through argv, the most Linux
 * passes), with unicode and control characters, or
 * reaching for JavaScript internals; procfs and cgroupfs that are not there. Each must end in
 * exit 2 and one line `oomhero: <flag>: <problem>`: no hang, no stack trace.
 */
import assert from "node:assert/strict";
import { parseCommandLine } from "../../src/cli/cli.ts";
import { INSPECT_FLAGS, MONITOR_FLAGS } from "../../src/cli/flags.ts";
import { compileExpression, ExpressionError } from "../../src/evaluate/expression.ts";
import { UsageError } from "../../src/base/usage_error.ts";
import { VARIABLE_NAMES } from "../../src/collect/variables.ts";
import { HARMLESS_ARGS, runOomhero } from "../support/oomhero_process.ts";

const MEGABYTE = "x".repeat(1 << 20);
/**
 * The largest argument the CLI can be given: Linux refuses a single argv string over 128 KiB
 * (MAX_ARG_STRLEN) with E2BIG, before oomhero starts, so the CLI samples use 100 KB.
 */
const ARG_MAX_SAFE = 100_000;
const HUGE_ARG = "x".repeat(ARG_MAX_SAFE);
/** The hostile values every string flag gets. */
const VALUES: Record<string, string> = {
  empty: "",
  huge: MEGABYTE,
  negative: "-1",
  "negative duration": "-5s",
  NaN: "NaN",
  "unit-less": "100",
  newline: "info\nerror",
};
/** A message echoes input with the middle of a huge one left out: never a 1 MB line. */
const MAX_MESSAGE = 2_200;
/** An expression is rejected this fast in-process; the CLI bound adds Deno's startup on CI. */
const COMPILE_MS = 1_000;
const CLI_MS = 15_000;

const OK = ["--warning=memory_usage > 75", "--critical=memory_usage > 90"];

/** What parsing gave: accepted, or the UsageError; anything else fails the test. */
function parse(args: string[]): "accepted" | UsageError {
  try {
    parseCommandLine(args);
    return "accepted";
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw new Error(`${JSON.stringify(args.join(" ").slice(0, 200))} threw ${String(e)}`);
  }
}

function assertUsageError(got: "accepted" | UsageError, flag: string, label: string): void {
  assert.ok(got instanceof UsageError, `${label}: accepted`);
  assert.equal(got.input, flag, `${label}: ${got.message.slice(0, 200)}`);
  assert.ok(!got.message.includes("\n"), `${label}: message of several lines`);
  assert.ok(got.message.length <= MAX_MESSAGE, `${label}: message of ${got.message.length}`);
  assert.ok(got.message.startsWith(`oomhero: ${flag}: `), label);
}

/** Flags that must refuse each hostile value, by value name; the rest may accept some. */
const MUST_REFUSE: Record<string, readonly string[]> = {
  "warning": ["empty", "huge", "NaN", "newline"],
  "critical": ["empty", "huge", "NaN", "newline"],
  // A bare number is seconds, as in duration_str: "100" is 100 s.
  "loop-interval": Object.keys(VALUES).filter((v) => v !== "unit-less"),
  "cooldown-interval": Object.keys(VALUES).filter((v) => v !== "unit-less"),
  "warning-signal": Object.keys(VALUES),
  "critical-signal": Object.keys(VALUES),
  "log-level": Object.keys(VALUES),
  "log-format": Object.keys(VALUES),
  "cmdline-label": Object.keys(VALUES),
  "metrics-address": ["huge", "negative", "negative duration", "NaN", "unit-less", "newline"],
  "procfs": ["empty"],
  "cgroupfs": ["empty"],
  "include": ["empty"],
  "exclude": ["empty"],
  "format": Object.keys(VALUES),
  "pid": ["empty", "huge", "negative", "negative duration", "NaN", "newline"],
};

/** Runs the parser over every string flag of `specs` with every hostile value. */
function everyFlag(
  specs: Readonly<Record<string, { type: string; multiple?: boolean }>>,
  base: string[],
  prefix: string[] = [],
): number {
  let refused = 0;
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.type !== "string") continue;
    const flag = `--${name}`;
    const rest = base.filter((a) => !a.startsWith(`${flag}=`));
    for (const [kind, value] of Object.entries(VALUES)) {
      const label = `${flag} ${kind}`;
      const got = parse([...prefix, ...rest, `${flag}=${value}`]);
      if (got !== "accepted") {
        assertUsageError(got, flag, label);
        refused++;
      } else {
        assert.ok(!(MUST_REFUSE[name] ?? []).includes(kind), `${label} was accepted`);
      }
    }
    // Given twice: an error unless the flag is repeatable.
    const twice = parse([...prefix, ...base, `${flag}=a`, `${flag}=b`]);
    if (spec.multiple) {
      if (twice !== "accepted") assert.notEqual(twice.problem, "given more than once");
    } else {
      assertUsageError(twice, flag, `${flag} twice`);
      if (name !== "warning" && name !== "critical") {
        assert.equal((twice as UsageError).problem, "given more than once");
      }
    }
  }
  return refused;
}

Deno.test("every monitor flag refuses hostile values with a UsageError naming it", () => {
  const refused = everyFlag(MONITOR_FLAGS, OK);
  assert.ok(refused >= 60, `only ${refused} refusals`);
  for (const [name, spec] of Object.entries(MONITOR_FLAGS)) {
    if (spec.type !== "boolean" || name === "help" || name === "version") continue;
    assertUsageError(parse([...OK, `--${name}=yes`]), `--${name}`, `--${name}=yes`);
    assertUsageError(parse([...OK, `--${name}`, `--${name}`]), `--${name}`, `--${name} twice`);
  }
});

Deno.test("every inspect flag refuses hostile values with a UsageError naming it", () => {
  assert.ok(everyFlag(INSPECT_FLAGS, [], ["inspect"]) >= 20);
});

/** Expressions no threshold should be: each is refused at startup. */
const HOSTILE_EXPRESSIONS: Record<string, string> = {
  "10,000 levels of parentheses": "(".repeat(10_000) + "memory_usage" + ")".repeat(10_000),
  "deep nesting within the length limit": "(".repeat(4_000) + "1" + ")".repeat(4_000),
  "a 1 MB expression": "memory_usage > 1 || ".repeat(52_429) + "1",
  "unicode": "mémoire > 1",
  "a right-to-left override": "memory_usage > 1 \u202e|| 1",
  "an ANSI escape": "memory_usage > 1 \u001b[31m",
  "a bell": "memory_usage > 1\u0007",
  "a newline": "memory_usage > 1\nrm -rf /",
  "constructor": "constructor",
  "__proto__": "__proto__ > 1",
  "this": "this > 1",
  "prototype": "prototype > 1",
  "member access": "memory_usage.constructor",
  "a constructor chain": 'constructor.constructor("return Deno")()',
  "toString": "toString()",
  "valueOf": "valueOf() > 1",
  "eval": 'eval("1")',
  "Function": 'Function("return 1")()',
  "an unknown function": "exp(1) > 1",
  "an array": "[1].length > 0",
  "a string": '"1" == 1',
  "assignment": "memory_usage = 100",
  "a global": "globalThis > 1",
};

Deno.test("hostile expressions are refused in-process within 1 s each", () => {
  for (const [name, source] of Object.entries(HOSTILE_EXPRESSIONS)) {
    const started = performance.now();
    assert.throws(
      () => compileExpression(source, VARIABLE_NAMES),
      (e: unknown) => e instanceof ExpressionError && !e.message.includes("\n"),
      name,
    );
    const ms = performance.now() - started;
    assert.ok(ms < COMPILE_MS, `${name}: ${ms.toFixed(0)} ms`);
  }
});

/** Runs the CLI with `args` and asserts exit 2, one line naming `flag`, no stack trace. */
async function refusedByCli(args: string[], flag: string, label: string): Promise<string> {
  const started = performance.now();
  const r = await runOomhero(args[0] === "inspect" ? args : [...args, ...HARMLESS_ARGS]);
  const ms = performance.now() - started;
  assert.ok(ms < CLI_MS, `${label}: ${ms.toFixed(0)} ms`);
  assert.equal(r.code, 2, `${label}: ${r.stderr.slice(0, 500)}`);
  assert.equal(r.stdout, "", label);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `${label}: ${r.stderr.slice(0, 500)}`);
  assert.ok(lines[0].startsWith(`oomhero: ${flag}: `), `${label}: ${lines[0].slice(0, 200)}`);
  assert.ok(lines[0].length <= MAX_MESSAGE, `${label}: a line of ${lines[0].length}`);
  assert.doesNotMatch(r.stderr, /\n\s+at |Uncaught|error: /, label);
  return lines[0];
}

/** Runs the cases a few at a time: each is a Deno start. */
async function inBatches(cases: (() => Promise<unknown>)[], size = 4): Promise<void> {
  for (let i = 0; i < cases.length; i += size) {
    await Promise.all(cases.slice(i, i + size).map((run) => run()));
  }
}

Deno.test("the CLI refuses hostile expressions with exit 2 and one line", async () => {
  await inBatches(
    Object.entries(HOSTILE_EXPRESSIONS).map(([name, source]) => () =>
      refusedByCli([`--warning=${source.slice(0, ARG_MAX_SAFE)}`, OK[1]], "--warning", name)
    ),
  );
});

Deno.test("the CLI refuses hostile flag values with exit 2 and one line", async () => {
  const line = await refusedByCli(
    [...OK, `--log-level=${HUGE_ARG}`],
    "--log-level",
    "100 KB log level",
  );
  assert.ok(line.endsWith("is not one of debug, info, warn, error"), line.slice(-100));
  assert.match(line, /characters left out/);
  await inBatches([
    () => refusedByCli([...OK, `--loop-interval=${HUGE_ARG}`], "--loop-interval", "100 KB"),
    () => refusedByCli([...OK, "--loop-interval=-1s"], "--loop-interval", "negative"),
    () => refusedByCli([...OK, "--cooldown-interval=NaN"], "--cooldown-interval", "NaN"),
    () => refusedByCli([...OK, "--warning-signal=-9"], "--warning-signal", "negative signal"),
    () => refusedByCli([...OK, "--log-format=json\ntext"], "--log-format", "newline"),
    () => refusedByCli([...OK, `--metrics-address=${HUGE_ARG}`], "--metrics-address", "100 KB"),
    () => {
      // The message keeps the two ends of a huge flag name and says how much it left out.
      const flag = `--${HUGE_ARG}`;
      const shown = `${flag.slice(0, 400)}…(${flag.length - 800} characters left out)…` +
        flag.slice(-400);
      return refusedByCli([...OK, `${flag}=1`], shown, "100 KB flag");
    },
    () =>
      refusedByCli(
        [...OK, "--cmdline-label=none", "--cmdline-label=none"],
        "--cmdline-label",
        "twice",
      ),
  ]);
});

Deno.test("procfs or cgroupfs not mounted where given: exit 2 naming it, from monitor and inspect", async () => {
  const empty = Deno.makeTempDirSync({ prefix: "oomhero-empty-" });
  try {
    const missing = "/nonexistent";
    await inBatches([
      async () =>
        assert.equal(
          await refusedByCli([...OK, `--procfs=${missing}`], "--procfs", "monitor procfs"),
          `oomhero: --procfs: ${missing} does not exist`,
        ),
      async () =>
        assert.match(
          await refusedByCli([...OK, `--cgroupfs=${empty}`], "--cgroupfs", "monitor cgroupfs"),
          new RegExp(`^oomhero: --cgroupfs: ${empty} is not a cgroupfs mount \\(no cgroup\\.`),
        ),
      async () =>
        assert.equal(
          await refusedByCli(["inspect", `--procfs=${missing}`], "--procfs", "inspect procfs"),
          `oomhero: --procfs: ${missing} does not exist`,
        ),
      async () =>
        assert.match(
          await refusedByCli(["inspect", `--cgroupfs=${empty}`], "--cgroupfs", "inspect cgroupfs"),
          /is not a cgroupfs mount \(no cgroup\.controllers for cgroup v2, no memory\//,
        ),
      async () =>
        assert.equal(
          await refusedByCli([...OK, `--procfs=${empty}`], "--procfs", "monitor empty procfs"),
          `oomhero: --procfs: ${empty} is not a procfs mount (no ${empty}/self/stat)`,
        ),
      async () =>
        assert.equal(
          await refusedByCli([...OK, "--cgroupfs=/etc/hostname"], "--cgroupfs", "a file"),
          "oomhero: --cgroupfs: /etc/hostname is not a directory",
        ),
      () => refusedByCli([...OK, `--procfs=/${HUGE_ARG}`], "--procfs", "100 KB procfs"),
    ]);
  } finally {
    Deno.removeSync(empty);
  }
});
