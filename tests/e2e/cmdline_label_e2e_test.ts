/**
 * `--cmdline-label none` end to end through the real CLI: a watched process's command line
 * appears nowhere in /metrics. The default (`first-arg`) run shows the same scrape would reveal
 * it, so the check can fail.
 */
import assert from "node:assert/strict";
import { sampleLines, startOomhero } from "../support/live_oomhero.ts";
import { startNamed, stopNamed } from "../support/named_process.ts";

/** Scrapes oomhero, watching only `name`, once the series of `pid` are there. */
async function scrapeWith(label: string, name: string, pid: number): Promise<string> {
  const oomhero = await startOomhero([
    "--warning=memory_usage > 1000",
    "--critical=memory_usage > 2000",
    `--include=^${name}`,
    `--cmdline-label=${label}`,
  ]);
  try {
    return await oomhero.waitForMetrics(
      `the series of pid ${pid}`,
      (text) => text.includes(`memory_usage{pid="${pid}"`) ? text : undefined,
    );
  } finally {
    await oomhero.stop();
  }
}

Deno.test("--cmdline-label none hides command lines from /metrics", async () => {
  const secret = `secret-token-${crypto.randomUUID()}`;
  const process = await startNamed(secret);
  try {
    const shown = await scrapeWith("first-arg", secret, process.pid);
    assert.ok(shown.includes(`cmdline="${secret}"`), "the default label shows the first argument");

    const hidden = await scrapeWith("none", secret, process.pid);
    assert.ok(!hidden.includes(secret), "the secret is nowhere in the exposition");
    const ours = sampleLines(hidden).filter((l) => l.includes(`pid="${process.pid}"`));
    assert.ok(ours.length > 0);
    for (const line of ours) assert.match(line, /cmdline=""/);
  } finally {
    await stopNamed(process);
  }
});
