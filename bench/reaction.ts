/**
 * Reaction time: from the moment an app's cgroup usage crosses the warning threshold to the
 * moment its signal handler runs, with oomhero at `--loop-interval 100ms` (the default).
 *
 *   ./scripts/deno run --allow-all bench/reaction.ts [--seconds 40] [--loop-interval 100ms]
 *
 * The demo app (demo/app.ts) runs in a 256 MiB memory cgroup and grows 4 MiB every 20 ms; after
 * each step it reads its cgroup's usage and notes when it first crossed 50 % of the limit, then
 * waits. Its warning handler notes the time and drops its cache, and the cycle starts again. Both
 * times are on the app's own clock. Prints p50/p90/p99 over every crossing (at least 20). Needs
 * root and a writable cgroupfs.
 * @module
 */
import { benchArgs } from "./args.ts";
import { MemoryCgroup } from "../demo/memory_cgroup.ts";
import { runScenario } from "../demo/scenario.ts";
import { freePort } from "./oomhero_subject.ts";

const values = benchArgs(import.meta.url, {
  seconds: { type: "string", default: "40" },
  "loop-interval": { type: "string", default: "100ms" },
});
const MIB = 1024 * 1024;
const LIMIT_BYTES = 256 * MIB;
const THRESHOLD_PERCENT = 50;
const MIN_CROSSINGS = 20;

const cgroup = MemoryCgroup.create(
  `oomhero-reaction-${crypto.randomUUID().slice(0, 8)}`,
  LIMIT_BYTES,
);
if (typeof cgroup === "string") throw new Error(`this benchmark needs a memory cgroup: ${cgroup}`);

const crossed: number[] = [];
const handled: number[] = [];
let result;
try {
  const usageFile = `${cgroup.dir}/${
    cgroup.version === 2 ? "memory.current" : "memory.usage_in_bytes"
  }`;
  result = await runScenario(cgroup, {
    appArgs: [
      "--step-mib=4",
      "--every-ms=20",
      `--seconds=${values.seconds}`,
      `--usage-file=${usageFile}`,
      `--crossing-bytes=${LIMIT_BYTES * THRESHOLD_PERCENT / 100}`,
    ],
    // Deno asks for --allow-all to read under /sys.
    appPermissions: ["--allow-all"],
    oomheroArgs: [
      `--warning=memory_usage > ${THRESHOLD_PERCENT}`,
      "--critical=memory_usage > 95",
      `--loop-interval=${values["loop-interval"]}`,
      // Shorter than one grow-and-shed cycle, so that no crossing waits for the cooldown.
      "--cooldown-interval=100ms",
      "--include=demo/app\\.ts",
      `--metrics-address=127.0.0.1:${freePort()}`,
    ],
    onAppLine: (line) => {
      const at = / (crossed|handled) at ([\d.]+) ms$/.exec(line);
      if (at) (at[1] === "crossed" ? crossed : handled).push(Number(at[2]));
    },
  });
} finally {
  cgroup.remove();
}

// A crossing still waiting when the app stopped has no handler time.
const reactions = handled.map((at, i) => at - crossed[i]);
if (reactions.length < MIN_CROSSINGS) {
  throw new Error(`only ${reactions.length} crossings handled; run longer (--seconds)`);
}
if (result.oomKills > 0) throw new Error("the app was OOM-killed: the benchmark is broken");
const sorted = [...reactions].sort((a, b) => a - b);
const pct = (p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)];
console.log(`| loop interval | crossings | p50 | p90 | p99 | max |`);
console.log(`| --: | --: | --: | --: | --: | --: |`);
console.log(
  `| ${values["loop-interval"]} | ${sorted.length} | ${pct(50).toFixed(1)} ms | ` +
    `${pct(90).toFixed(1)} ms | ${pct(99).toFixed(1)} ms | ${sorted.at(-1)!.toFixed(1)} ms |`,
);
