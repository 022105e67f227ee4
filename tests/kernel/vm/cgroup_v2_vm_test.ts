/**
 * oomhero on a real pure cgroup v2 kernel: one boot of the VM (tests/kernel/vm/vm.ts) runs every check
 * of tests/kernel/vm/guest.ts, and each check's assertions come back here as steps. A failure names its
 * step: package, initramfs, boot or check. Needs root, qemu-system-x86 and linux-image-amd64
 * (.ci/run installs them); about two minutes under emulation.
 */
import { bootVm, CHECK_NAMES, type CheckName, type VmRun } from "./vm.ts";

/** Bound of the boot with every check, under TCG on a shared two-core machine. */
const TIMEOUT_MS = 300_000;
/** OOMHERO_VM_CHECKS=a,b runs only those checks, to work on one. */
const CHECKS = (Deno.env.get("OOMHERO_VM_CHECKS")?.split(",") ?? CHECK_NAMES) as CheckName[];

/** Why the VM cannot run here; a missing package is a failure (CI installs them), not a skip. */
const SKIP = Deno.build.os !== "linux" ? "not Linux" : Deno.uid() !== 0 ? "not root" : undefined;
if (SKIP !== undefined) console.log(`skipping the cgroup v2 VM: ${SKIP}`);

Deno.test({
  name: "cgroup v2 VM: oomhero agrees with a real cgroup v2 kernel",
  ignore: SKIP !== undefined,
  fn: async (t) => {
    let vm: VmRun | Error;
    try {
      vm = await bootVm({ checks: CHECKS, timeoutMs: TIMEOUT_MS });
    } catch (e) {
      vm = e as Error;
    }
    if (!(vm instanceof Error)) {
      console.log(
        `vm: guest up after ${vm.bootSeconds.toFixed(1)} s, all checks done after ` +
          `${vm.seconds.toFixed(1)} s`,
      );
    }
    for (const check of CHECKS) {
      await t.step(check, () => {
        if (vm instanceof Error) throw vm;
        const results = vm.results.filter((r) => r.check === check);
        if (results.length === 0) {
          throw new Error(
            `check: ${check} reported nothing; guest console:\n${vm.console.slice(-15).join("\n")}`,
          );
        }
        for (const r of results) {
          console.log(
            `vm ${check} +${r.seconds.toFixed(1)}s: ${
              r.ok ? "ok" : "FAIL"
            } ${r.name}: ${r.message}`,
          );
        }
        const failed = results.filter((r) => !r.ok);
        if (failed.length > 0) {
          throw new Error(
            `check: ${check}:\n${failed.map((r) => `  ${r.name}: ${r.message}`).join("\n")}`,
          );
        }
      });
    }
  },
});
