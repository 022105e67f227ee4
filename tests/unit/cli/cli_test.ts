import assert from "node:assert/strict";
import denoJson from "../../../deno.json" with { type: "json" };
import { parseCommandLine } from "../../../src/cli/cli.ts";
import { INSPECT_FLAGS, MONITOR_FLAGS } from "../../../src/cli/flags.ts";
import { HELP_WIDTH } from "../../../src/cli/help.ts";
import { UsageError } from "../../../src/base/usage_error.ts";
import { HARMLESS_ARGS, runOomhero } from "../../support/oomhero_process.ts";

const OK = ["--warning=memory_usage > 75", "--critical=memory_usage > 90"];

/** [case, args, the one stderr line expected (a regex over the whole line)] */
const BAD_INPUT: [string, string[], RegExp][] = [
  ["missing --warning", ["--critical=memory_usage > 90"], /^oomhero: --warning: is required/],
  ["missing --critical", ["--warning=memory_usage > 75"], /^oomhero: --critical: is required/],
  ["unknown flag", [...OK, "--frobnicate=1"], /^oomhero: --frobnicate: unknown flag; see --help$/],
  [
    "mistyped flag",
    [...OK, "--loop-intervall=1s"],
    /^oomhero: --loop-intervall: unknown flag \(did you mean --loop-interval\?\); see --help$/,
  ],
  [
    "flag in the wrong case",
    [...OK, "--Dry-Run"],
    /^oomhero: --Dry-Run: unknown flag \(did you mean --dry-run\?\); see --help$/,
  ],
  [
    "shortened flag",
    [...OK, "--metrics=:9100"],
    /^oomhero: --metrics: unknown flag \(did you mean --metrics-address\?\); see --help$/,
  ],
  ["single-dash flag", [...OK, "-w", "x"], /^oomhero: -w: unknown flag/],
  ["stray argument", [...OK, "extra"], /^oomhero: extra: unexpected argument/],
  ["flag given twice", [...OK, "--warning=oom_score > 1"], /^oomhero: --warning: given more/],
  ["value on a boolean", [...OK, "--dry-run=yes"], /^oomhero: --dry-run: takes no value$/],
  ["missing value at end", [OK[0], "--critical"], /^oomhero: --critical: needs a value$/],
  ["flag as value", ["--warning", "--critical=x"], /^oomhero: --warning: needs a value$/],
  ["zero interval", [...OK, "--loop-interval=0s"], /^oomhero: --loop-interval: "0s" is zero/],
  ["negative interval", [...OK, "--loop-interval=-1s"], /^oomhero: --loop-interval: .*negative/],
  ["empty interval", [...OK, "--loop-interval="], /^oomhero: --loop-interval: is empty/],
  [
    "unknown duration unit",
    [...OK, "--loop-interval=100x"],
    /^oomhero: --loop-interval: "100x" has an unknown unit "x" at column 4; units are ns, us/,
  ],
  [
    "durations subtracted",
    [...OK, "--loop-interval=3ms-2ms"],
    /^oomhero: --loop-interval: "3ms-2ms" is not a duration \(bad at column 4, "-2ms"\)/,
  ],
  ["garbage interval", [...OK, "--loop-interval=fast"], /^oomhero: --loop-interval: .*not a dur/],
  ["bad unit", [...OK, "--cooldown-interval=5x"], /^oomhero: --cooldown-interval: .*unknown unit/],
  ["too long", [...OK, "--cooldown-interval=25d"], /^oomhero: --cooldown-interval: .*maximum/],
  ["unknown signal", [...OK, "--warning-signal=SIGFOO"], /^oomhero: --warning-signal: unknown/],
  ["signal 0", [...OK, "--warning-signal=0"], /^oomhero: --warning-signal: .*out of range/],
  ["signal 32", [...OK, "--critical-signal=32"], /^oomhero: --critical-signal: .*out of range/],
  ["empty signal", [...OK, "--critical-signal="], /^oomhero: --critical-signal: is empty/],
  [
    "unknown variable",
    ["--warning=memory_usge > 75", OK[1]],
    /^oomhero: --warning: invalid expression: unknown variable "memory_usge" at column 1 \(did you mean memory_usage\?\); --help lists the variables$/,
  ],
  [
    "=> for >=",
    ["--warning=memory_usage => 75", OK[1]],
    /^oomhero: --warning: invalid expression: "=>" is not an operator at column 14; use ">="$/,
  ],
  [
    "chained comparison",
    ["--warning=70 < memory_usage < 90", OK[1]],
    /^oomhero: --warning: invalid expression: comparisons cannot be chained at column 19; write 70 < memory_usage && memory_usage < 90$/,
  ],
  [
    "milli for mega",
    [OK[0], "--critical=memory_current > 512m"],
    /^oomhero: --critical: invalid expression: 512m at column 18 is 0\.512 \(m means milli\)/,
  ],
  ["member access", ["--warning=memory_usage.x > 1", OK[1]], /^oomhero: --warning: invalid expr/],
  ["__proto__", [OK[0], "--critical=__proto__ > 1"], /^oomhero: --critical: invalid expression/],
  ["constructor", [OK[0], "--critical=constructor"], /^oomhero: --critical: invalid expression/],
  ["assignment", ["--warning=memory_usage = 1", OK[1]], /^oomhero: --warning: invalid expression/],
  ["string", ['--warning="a" == "a"', OK[1]], /^oomhero: --warning: invalid expression/],
  ["function", ["--warning=exp(1) > 1", OK[1]], /^oomhero: --warning: invalid expression/],
  ["unbalanced", ["--warning=(memory_usage > 1", OK[1]], /^oomhero: --warning: invalid expr/],
  ["empty expression", ["--warning=", OK[1]], /^oomhero: --warning: invalid expression: .*empty/],
  ["bad size", ["--warning=memory_current > 5Mix", OK[1]], /^oomhero: --warning: invalid expr/],
  ["log level", [...OK, "--log-level=verbose"], /^oomhero: --log-level: "verbose" is not one of/],
  ["log format", [...OK, "--log-format=xml"], /^oomhero: --log-format: "xml" is not one of/],
  [
    "bad regex",
    [...OK, "--include=java("],
    /^oomhero: --include: invalid regular expression "java\(": unterminated group$/,
  ],
  ["empty regex", [...OK, "--exclude="], /^oomhero: --exclude: is empty/],
  ["bad address", [...OK, "--metrics-address=nowhere"], /^oomhero: --metrics-address: /],
  ["cmdline label", [...OK, "--cmdline-label=all"], /^oomhero: --cmdline-label: "all" is not/],
  ["empty procfs", [...OK, "--procfs="], /^oomhero: --procfs: is empty/],
  [
    "missing procfs",
    [...OK, "--procfs=/nonexistent"],
    /^oomhero: --procfs: \/nonexistent does not exist$/,
  ],
  [
    "missing cgroupfs",
    ["inspect", "--cgroupfs=/nonexistent"],
    /^oomhero: --cgroupfs: \/nonexistent does not exist$/,
  ],
  ["inspect format", ["inspect", "--format=yaml"], /^oomhero: --format: "yaml" is not one of/],
  ["inspect pid", ["inspect", "--pid=abc"], /^oomhero: --pid: "abc" is not a process id/],
  [
    "monitor flag to inspect",
    ["inspect", "--warning=x"],
    /^oomhero: --warning: unknown flag for oomhero inspect; it is a flag of the monitor$/,
  ],
  [
    "inspect flag to the monitor",
    [...OK, "--format=json"],
    /^oomhero: --format: unknown flag for the monitor; it is a flag of oomhero inspect$/,
  ],
  ["mistyped command", ["inspct"], /^oomhero: inspct: unknown command \(did you mean inspect\?\)$/],
  [
    "short trend window",
    [...OK, "--trend-window=1s"],
    /^oomhero: --trend-window: 1s is below the minimum of 2s: a trend is fitted over samples spanning at least 1s, and the window leaves room for the timer's jitter$/,
  ],
  ["bad trend window", [...OK, "--trend-window=soon"], /^oomhero: --trend-window: .*not a dur/],
  [
    "trend window of too few scans",
    ["--warning=memory_seconds_to_limit < 60", OK[1], "--loop-interval=20s"],
    /^oomhero: --trend-window: 30s holds fewer than 3 scans at --loop-interval 20s, so memory_seconds_to_limit would never be measured; make it at least 1m$/,
  ],
  [
    "loop interval too long for the 10 s delta",
    [OK[0], "--critical=memory_usage_delta_10s > 5", "--loop-interval=5s"],
    /^oomhero: --loop-interval: 5s leaves fewer than 3 scans in 10s, .*; make it at most 3.333s$/,
  ],
  ["inspect short sample", ["inspect", "--sample=500ms"], /^oomhero: --sample: "500ms" is short/],
  ["inspect sample unit", ["inspect", "--sample=2x"], /^oomhero: --sample: "2x" has an unknown/],
];

for (const [name, args, expected] of BAD_INPUT) {
  Deno.test(`cli rejects ${name} with one line and exit 2`, async () => {
    // inspect only reads; a monitor that started by mistake must watch and signal nothing.
    const r = await runOomhero(args[0] === "inspect" ? args : [...args, ...HARMLESS_ARGS]);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(r.code, 2, r.stderr);
    assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
    assert.match(lines[0], expected);
    assert.equal(r.stdout, "");
  });
}

Deno.test("cli --version prints the version from deno.json and the Deno version", async () => {
  const r = await runOomhero(["--version"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), `oomhero ${denoJson.version} (deno ${Deno.version.deno})`);
});

Deno.test("cli --help lists every flag with its default and exits 0", async () => {
  const r = await runOomhero(["--help"]);
  assert.equal(r.code, 0);
  // Wrapping may break "(default 30s)" across lines; words are what must be there.
  const words = r.stdout.replace(/\s+/g, " ");
  for (const [name, spec] of Object.entries(MONITOR_FLAGS)) {
    assert.match(r.stdout, new RegExp(`--${name}\\b`));
    if (spec.default) assert.ok(words.includes(`(default ${spec.default})`), name);
  }
  assert.match(r.stdout, /memory_pressure_full_avg60/);
  for (const f of ["int", "sign", "atanh", "round(modulus, x)", "log(base, x)", "e()", "pi()"]) {
    assert.ok(words.includes(f), f);
  }
});

Deno.test("cli -h is --help, for the monitor and for inspect", async () => {
  const [long, short, inspectLong, inspectShort] = await Promise.all([
    runOomhero(["--help"]),
    runOomhero(["-h"]),
    runOomhero(["inspect", "--help"]),
    runOomhero(["inspect", "-h"]),
  ]);
  assert.equal(short.code, 0, short.stderr);
  assert.equal(short.stdout, long.stdout);
  assert.equal(inspectShort.code, 0, inspectShort.stderr);
  assert.equal(inspectShort.stdout, inspectLong.stdout);
  assert.match(long.stdout, /^ {2}-h, --help /m);
});

Deno.test("cli help fits 100 columns and names what each value is", () => {
  for (const args of [["--help"], ["inspect", "--help"]]) {
    const c = parseCommandLine(args);
    assert.equal(c.kind, "help");
    if (c.kind !== "help") return;
    for (const line of c.text.split("\n")) {
      assert.ok([...line].length <= HELP_WIDTH, `${[...line].length} columns: ${line}`);
    }
    assert.doesNotMatch(c.text, /=VALUE/);
    const specs = args[0] === "inspect" ? INSPECT_FLAGS : MONITOR_FLAGS;
    for (const [name, spec] of Object.entries(specs)) {
      if (spec.type !== "string") continue;
      assert.match(c.text, new RegExp(`--${name}=[A-Z]+\\b`), name);
    }
  }
  const monitor = parseCommandLine(["--help"]);
  const text = monitor.kind === "help" ? monitor.text : "";
  for (
    const [flag, placeholder] of Object.entries({
      warning: "EXPR",
      "loop-interval": "DURATION",
      "critical-signal": "SIGNAL",
      "http-file-path": "FILE",
      "metrics-address": "ADDR",
    })
  ) {
    assert.ok(text.includes(`--${flag}=${placeholder}`), flag);
    assert.match(text, new RegExp(`^${placeholder} `, "m"), `${placeholder} is explained`);
  }
});

Deno.test("cli takes durations as duration_str writes them", () => {
  const interval = (text: string) => {
    const c = parseCommandLine([...OK, `--cooldown-interval=${text}`]);
    return c.kind === "monitor" ? c.config.cooldownMs : undefined;
  };
  assert.equal(interval("30"), 30_000);
  assert.equal(interval("1m 30s"), 90_000);
  assert.equal(interval("1m+30s"), 90_000);
  assert.equal(interval("1m30"), 90_000);
  assert.equal(interval("1d"), 86_400_000);
  assert.equal(interval("1m*10"), 600_000);
  assert.equal(interval("500000µs"), 500);
  assert.equal(interval("2 Hours"), 7_200_000);
});

Deno.test("cli checks --trend-window against the loop interval only for trends in use", () => {
  const monitor = (args: string[]) => {
    const c = parseCommandLine(args);
    assert.equal(c.kind, "monitor");
    return c.kind === "monitor" ? c.config : undefined;
  };
  // A long loop interval is fine while no expression needs a trend.
  assert.equal(monitor([...OK, "--loop-interval=20s"])?.trendWindowMs, 30_000);
  const trend = "--warning=memory_growth_rate > 1Mi";
  assert.throws(() => monitor([trend, OK[1], "--loop-interval=20s"]), UsageError);
  assert.equal(
    monitor([trend, OK[1], "--loop-interval=20s", "--trend-window=1m"])?.trendWindowMs,
    60_000,
  );
  const inspect = (args: string[]) => {
    const c = parseCommandLine(["inspect", ...args]);
    return c.kind === "inspect" ? c.config.sampleMs : undefined;
  };
  assert.equal(inspect([]), 2_000);
  assert.equal(inspect(["--sample=0"]), 0);
  assert.equal(inspect(["--sample=0s"]), 0);
  assert.equal(inspect(["--sample=1.5s"]), 1_500);
});

Deno.test("cli applies the seed's defaults", () => {
  const c = parseCommandLine(OK);
  assert.equal(c.kind, "monitor");
  if (c.kind !== "monitor") return;
  assert.equal(c.config.loopIntervalMs, 100);
  assert.equal(c.config.cooldownMs, 30_000);
  assert.equal(c.config.warningSignal, "SIGUSR1");
  assert.equal(c.config.criticalSignal, "SIGUSR2");
  assert.equal(c.config.procfs, "/proc");
  assert.equal(c.config.cgroupfs, "/sys/fs/cgroup");
  assert.equal(c.config.dryRun, false);
  assert.equal(c.config.logLevel, "info");
  assert.equal(c.config.metricsAddress?.port, 9000);
});

Deno.test("cli accepts both --flag value and --flag=value forms", () => {
  const spaced = parseCommandLine([
    "--warning",
    "memory_usage > 70 || memory_pressure_full_avg60 > 50",
    "--critical",
    "memory_usage > 85",
    "--loop-interval",
    "200ms",
    "--cooldown-interval",
    "1h30m",
    "--warning-signal",
    "hup",
    "--critical-signal",
    "15",
    "--include",
    "java",
    "--include",
    "node",
    "--dry-run",
  ]);
  assert.equal(spaced.kind, "monitor");
  if (spaced.kind !== "monitor") return;
  assert.equal(
    spaced.config.warning.source,
    "memory_usage > 70 || memory_pressure_full_avg60 > 50",
  );
  assert.equal(spaced.config.loopIntervalMs, 200);
  assert.equal(spaced.config.cooldownMs, 5_400_000);
  assert.equal(spaced.config.warningSignal, "SIGHUP");
  assert.equal(spaced.config.criticalSignal, "SIGTERM");
  assert.deepEqual(spaced.config.include.map(String), ["/java/", "/node/"]);
  assert.equal(spaced.config.dryRun, true);
});

Deno.test("cli warns at startup about signals an application cannot handle", async () => {
  const r = await runOomhero([
    ...OK,
    "--critical-signal=KILL",
    "--procfs=/nonexistent",
    ...HARMLESS_ARGS,
  ]);
  assert.match(r.stderr, /WARN .*--critical-signal is SIGKILL/);
});

Deno.test("cli --signal-unhandled restores sending to processes that do not handle a signal", () => {
  const plain = parseCommandLine(OK);
  const unhandled = parseCommandLine([...OK, "--signal-unhandled"]);
  assert.ok(plain.kind === "monitor" && unhandled.kind === "monitor");
  assert.equal(plain.config.sendUnhandled, false);
  assert.equal(unhandled.config.sendUnhandled, true);
  // A webhook replaces signals: the flag alone would do nothing.
  assert.throws(
    () => parseCommandLine([...OK, "--http-file-path=hook.yaml", "--signal-unhandled"]),
    (e) =>
      e instanceof UsageError &&
      /^oomhero: --signal-unhandled: has no effect with --http-file-path/.test(e.message),
  );
});

Deno.test("cli inspect takes the monitor's signals, to show how processes handle them", () => {
  const defaults = parseCommandLine(["inspect"]);
  const given = parseCommandLine(["inspect", "--warning-signal=hup", "--critical-signal=15"]);
  assert.ok(defaults.kind === "inspect" && given.kind === "inspect");
  assert.deepEqual([defaults.config.warningSignal, defaults.config.criticalSignal], [
    "SIGUSR1",
    "SIGUSR2",
  ]);
  assert.deepEqual([given.config.warningSignal, given.config.criticalSignal], [
    "SIGHUP",
    "SIGTERM",
  ]);
  assert.throws(
    () => parseCommandLine(["inspect", "--critical-signal=USR3"]),
    (e) => e instanceof UsageError && /--critical-signal: unknown signal/.test(e.message),
  );
});
