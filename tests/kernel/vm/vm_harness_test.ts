/**
 * The VM harness's own failures (tests/kernel/vm/vm.ts): each names its step, so a red CI run says
 * whether a package, the initramfs, the boot or a check is to blame.
 */
import assert from "node:assert/strict";
import { bootVm, parseResults, VmError } from "./vm.ts";

/** Rejects with a VmError of `step` whose message matches `pattern`. */
async function assertStep(run: Promise<unknown>, step: string, pattern: RegExp): Promise<void> {
  await assert.rejects(run, (e) => {
    assert.ok(e instanceof VmError, String(e));
    assert.equal(e.step, step);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("vm: a missing qemu fails at the package step, naming the package", () =>
  assertStep(
    bootVm({ checks: ["host-view"], timeoutMs: 1_000, qemu: "/nonexistent/qemu-system-x86_64" }),
    "package",
    /^package: no \/nonexistent\/qemu-system-x86_64: install qemu-system-x86$/,
  ));

Deno.test({
  name: "vm: an initramfs that cannot be built fails at the initramfs step, saying why",
  ignore: Deno.build.os !== "linux" || Deno.uid() !== 0,
  fn: () =>
    assertStep(
      bootVm({ checks: ["host-view"], timeoutMs: 1_000, cache: "/proc/oomhero-vm-cache" }),
      "initramfs",
      /^initramfs: tests\/kernel\/vm\/build-initramfs failed:\n.*\/proc\/oomhero-vm-cache/,
    ),
});

Deno.test({
  name: "vm: a guest that does not start within the bound fails at the boot step",
  // Needs what the real boot needs; without it the package step fails as the test above shows.
  ignore: Deno.build.os !== "linux" || Deno.uid() !== 0,
  fn: () =>
    assertStep(
      bootVm({ checks: ["host-view"], timeoutMs: 1_500 }),
      "boot",
      /^boot: no guest within 1\.5 s; guest console:\n/,
    ),
});

Deno.test("vm: results are one JSON line each; a line torn by the power-off is left out", () => {
  const line = { check: "monitor", name: "x", ok: true, message: "m", seconds: 1 };
  assert.deepEqual(parseResults(`${JSON.stringify(line)}\n\n{"check":"mon`), [line]);
});
