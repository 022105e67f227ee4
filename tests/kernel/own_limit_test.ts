/**
 * oomhero started in a real memory cgroup says its limit is below what it needs, before it says it
 * started, and exports the limit as `oomhero_memory_limit_bytes`.
 */
import assert from "node:assert/strict";
import { withMemoryCgroup } from "../../demo/memory_cgroup.ts";
import { metricValue, startOomhero } from "../support/live_oomhero.ts";
import { memoryCgroupsUnavailable } from "../support/memory_cgroups.ts";

const MIB = 1024 * 1024;
const NO_CGROUPS = memoryCgroupsUnavailable();
if (NO_CGROUPS !== undefined) console.log(`skipping the own-limit kernel test: ${NO_CGROUPS}`);

Deno.test({
  name: "kernel: oomhero started in a 64 MiB memory cgroup says so and exports the limit",
  ignore: NO_CGROUPS !== undefined,
  fn: () =>
    withMemoryCgroup("oomhero-own-limit", 64 * MIB, async (cgroup) => {
      const oomhero = await startOomhero(
        ["--warning=0", "--critical=0", "--include=^own-limit[-]matches-nothing$"],
        { prefix: cgroup.wrap([]) },
      );
      try {
        const line = await oomhero.waitForLog(/memory limit is below what it needs/);
        assert.match(line, /limit=64Mi needed=80Mi/);
        // Logged before the startup line, so it is not lost if the limit then kills it.
        const warned = oomhero.log.indexOf(line);
        assert.ok(warned < oomhero.log.findIndex((l) => /oomhero started/.test(l)));
        assert.equal(metricValue(await oomhero.scrape(), "oomhero_memory_limit_bytes"), 64 * MIB);
      } finally {
        await oomhero.stop();
      }
    }),
});
