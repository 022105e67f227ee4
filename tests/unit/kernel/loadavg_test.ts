import assert from "node:assert/strict";
import { parseLoadavgLastPid } from "../../../src/kernel/loadavg.ts";

Deno.test("parseLoadavgLastPid: the last field, with or without the newline", () => {
  assert.equal(parseLoadavgLastPid("0.57 0.31 0.22 2/1207 12345\n"), 12345);
  assert.equal(parseLoadavgLastPid("12.00 8.50 4.25 17/40000 4194303"), 4194303);
});

Deno.test("parseLoadavgLastPid rejects what is not a loadavg line, quoting it", () => {
  for (
    const text of [
      "",
      "\n",
      "0.57 0.31 0.22 2/1207\n",
      "0.57 0.31 0.22 2/1207 \n",
      "0.57 0.31 0.22 2/1207 x\n",
      "0.57 0.31 0.22 2/1207 -1\n",
      "0.57 0.31 0.22 2/1207 1.5\n",
      "0.57 0.31 0.22 2/1207 12345 6\n",
      "0.57  0.31 0.22 2/1207 12345\n",
    ]
  ) {
    assert.throws(
      () => parseLoadavgLastPid(text),
      { message: `not a loadavg line: ${JSON.stringify(text)}` },
      JSON.stringify(text),
    );
  }
  assert.throws(
    () => parseLoadavgLastPid(`0.57 0.31 0.22 2/1207 ${"9".repeat(30)}\n`),
    /is out of range/,
  );
});

Deno.test("parseLoadavgLastPid on this kernel: a child spawned between two reads is within them", async () => {
  const last = () => parseLoadavgLastPid(Deno.readTextFileSync("/proc/loadavg"));
  // /proc must be of this process's pid namespace for its pids to be ours.
  assert.equal(Number(Deno.readLinkSync("/proc/self")), Deno.pid, "/proc is of another namespace");
  const before = last();
  const child = new Deno.Command("true").spawn();
  await child.status;
  const after = last();
  // Unless pids wrapped at pid_max in between, which takes millions of forks.
  if (after >= before) {
    assert.ok(before < child.pid && child.pid <= after, `${before} < ${child.pid} ≤ ${after}`);
  }
});
