/**
 * The monitor on a pure cgroup v2 kernel: the demo app (demo/app.ts), which sheds cache on
 * oomhero's warning and critical signals, grows steadily under a 192 MiB memory.max; watched by
 * oomhero it survives, alone it is OOM-killed. Both read the kernel's own memory.events oom_kill.
 * The same scenario the host's survival test runs (demo/scenario.ts), at half its growth rate:
 * under emulation oomhero's scans take longer.
 * @module
 */
import type { Recorder } from "./guest.ts";
import { withMemoryCgroup } from "../../../demo/memory_cgroup.ts";
import { runScenario } from "../../../demo/scenario.ts";
import { MIB } from "./guest_kernel.ts";

/** 20 MiB/s: the 29 MiB between the critical threshold and the limit last 1.4 s. */
const APP = ["--step-mib", "1", "--every-ms", "50", "--seconds", "20"];
const OOMHERO = [
  "--warning=memory_usage > 70",
  "--critical=memory_usage > 85",
  "--loop-interval=100ms",
  // Longer than the app takes to grow back past the warning: the next crossing is critical.
  "--cooldown-interval=10s",
  `--include=demo/app\\.ts ${APP.join(" ")}$`,
  "--metrics-address=",
];

/** Checks the monitor; see the module doc. */
export async function monitor(rec: Recorder): Promise<void> {
  const watched = await withMemoryCgroup(
    "oomhero-vm-survives",
    192 * MIB,
    (cg) => runScenario(cg, { appArgs: APP, oomheroArgs: OOMHERO }),
  );
  rec.assert("survives with oomhero", () => {
    const r = watched;
    if (r.oomKills !== 0 || r.exitCode !== 0) {
      throw new Error(`oom_kill ${r.oomKills}, exit ${r.exitCode ?? r.exitSignal}`);
    }
    if (r.handled.warning < 1 || r.handled.critical < 1) {
      throw new Error(`signals handled: ${JSON.stringify(r.handled)}`);
    }
    return `oom_kill 0 after ${r.seconds.toFixed(1)} s, peak ${(r.peakBytes / MIB).toFixed(0)} ` +
      `MiB of 192, ${r.handled.warning} warnings and ${r.handled.critical} criticals handled`;
  });
  const alone = await withMemoryCgroup(
    "oomhero-vm-alone",
    192 * MIB,
    (cg) => runScenario(cg, { appArgs: APP }),
  );
  rec.assert("OOM-killed without it", () => {
    const r = alone;
    if (r.oomKills < 1 || r.exitSignal !== "SIGKILL") {
      throw new Error(`oom_kill ${r.oomKills}, exit ${r.exitCode ?? r.exitSignal}`);
    }
    return `oom_kill ${r.oomKills} (memory.events) after ${r.seconds.toFixed(1)} s, SIGKILL`;
  });
}
