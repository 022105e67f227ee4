/**
 * The 2-minute soak in CI: `scripts/soak --minutes 2` (4,000 short-lived processes in 4 memory
 * cgroups, 2 demo apps crossing the thresholds, oomhero at 50 ms scraped every second) must pass.
 * Needs root and memory cgroups; skipped with a printed reason otherwise.
 */
import assert from "node:assert/strict";
import { lines } from "../../demo/scenario.ts";
import { memoryCgroupsUnavailable } from "../support/memory_cgroups.ts";
import { ROOT } from "../support/oomhero_process.ts";

const SKIP = memoryCgroupsUnavailable();
if (SKIP !== undefined) console.log(`skipping the soak: ${SKIP}`);

Deno.test({
  name: "soak: 2 minutes of process churn, no growth, no stale series, no OOM kill",
  ignore: SKIP !== undefined,
  fn: async () => {
    const child = new Deno.Command(`${ROOT}scripts/soak`, {
      args: ["--minutes", "2"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output: string[] = [];
    const read = async (stream: ReadableStream<Uint8Array>) => {
      for await (const line of lines(stream)) {
        output.push(line);
        console.log(line);
      }
    };
    const [status] = await Promise.all([child.status, read(child.stdout), read(child.stderr)]);
    assert.equal(status.code, 0, output.filter((l) => l.startsWith("FAIL")).join("\n"));
    assert.ok(output.includes("soak passed"));
    assert.ok(output.some((l) => l.startsWith("summary: ")));
  },
});
