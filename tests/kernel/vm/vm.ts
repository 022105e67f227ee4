/**
 * The cgroup v2 VM, host side: boots Debian's 6.1 kernel under qemu (TCG: software emulation)
 * with the host's root file system shared read-only over 9p and `cgroup_no_v1=all`, so the guest
 * runs this checkout and its Deno as they are on a pure cgroup v2 kernel. tests/kernel/vm/init.sh is the
 * guest's pid 1; it runs tests/kernel/vm/guest.ts with the named checks, which write one JSON line per
 * result to a writable 9p export read back here. Every failure names its step: `package` (qemu or
 * the kernel missing), `initramfs` (tests/kernel/vm/build-initramfs failed), `boot` (the guest did not
 * start or stopped early) or `check` (a check's own result).
 * @module
 */
import { ROOT } from "../../../scripts/runtime_flags.ts";

/** The step a VM failure happened in. */
export type VmStep = "package" | "initramfs" | "boot" | "check";

/** A failure of the VM harness, naming its step. */
export class VmError extends Error {
  /** Where it failed. */
  readonly step: VmStep;
  constructor(step: VmStep, message: string) {
    super(`${step}: ${message}`);
    this.step = step;
  }
}

/** One result a check reports: a named assertion that held or not, and what was seen. */
export interface VmResult {
  /** The check, as named on the command line. */
  check: string;
  /** What was asserted, e.g. `own limit`; `setup` when the check failed before asserting. */
  name: string;
  ok: boolean;
  /** What oomhero and the kernel said (ok), or why it failed. */
  message: string;
  /** Seconds since the check started. */
  seconds: number;
}

/** Marks the guest's lines on the console. */
export const MARKER = "oomhero-vm:";

/** The checks tests/kernel/vm/guest.ts knows, in the order it runs them. */
export const CHECK_NAMES = [
  "host-view",
  "container-view",
  "cgroup-move",
  "monitor",
] as const;

/** One of {@link CHECK_NAMES}. */
export type CheckName = typeof CHECK_NAMES[number];

/** What a boot produced. */
export interface VmRun {
  /** Every result line of the checks. */
  results: VmResult[];
  /** The guest's console from its init on (its marker lines, its errors), for failure messages. */
  console: string[];
  /** Seconds from starting qemu until the guest's init ran. */
  bootSeconds: number;
  /** Seconds from starting qemu until it exited. */
  seconds: number;
}

const KERNEL_PACKAGE = "linux-image-amd64";
const QEMU = "qemu-system-x86_64";

/** The newest Debian amd64 kernel in /boot. */
function findKernel(): string {
  let names: string[] = [];
  try {
    names = [...Deno.readDirSync("/boot")].map((e) => e.name);
  } catch {
    // No /boot: no kernel.
  }
  const kernels = names.filter((n) => /^vmlinuz-.*-amd64$/.test(n)).sort((a, b) =>
    a.localeCompare(b, undefined, { numeric: true })
  );
  if (kernels.length === 0) {
    throw new VmError("package", `no /boot/vmlinuz-*-amd64: install ${KERNEL_PACKAGE}`);
  }
  return `/boot/${kernels[kernels.length - 1]}`;
}

async function run(argv: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const out = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { ok: out.success, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } catch (e) {
    return { ok: false, stdout: "", stderr: (e as Error).message };
  }
}

/** The initramfs, built by tests/kernel/vm/build-initramfs into `cache` unless there already. */
async function initramfs(cache?: string): Promise<string> {
  const built = await run([`${ROOT}tests/kernel/vm/build-initramfs`, ...(cache ? [cache] : [])]);
  if (!built.ok) {
    const tail = built.stderr.trim().split("\n").slice(-5).join("\n");
    throw new VmError("initramfs", `tests/kernel/vm/build-initramfs failed:\n${tail}`);
  }
  return built.stdout.trim().split("\n").pop()!;
}

/** Options of {@link bootVm}. */
export interface BootOptions {
  /** The checks to run, by name. */
  checks: readonly CheckName[];
  /** Bound of the whole boot, checks included: qemu is killed after it. */
  timeoutMs: number;
  /** The qemu binary (default qemu-system-x86_64 on PATH). */
  qemu?: string;
  /** Where the initramfs is cached (default: tests/kernel/vm/build-initramfs's). */
  cache?: string;
}

/** Parses results.jsonl; a torn last line (power-off mid-write) is left out. */
export function parseResults(text: string): VmResult[] {
  const out: VmResult[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      out.push(JSON.parse(line) as VmResult);
    } catch {
      // Torn by a power-off in the middle of the write; the check then counts as unreported.
    }
  }
  return out;
}

/**
 * Boots the VM, runs `checks` in it and returns their results. Throws a {@link VmError} when qemu
 * or the kernel is missing, the initramfs cannot be built, or the guest never started.
 */
export async function bootVm(
  { checks, timeoutMs, qemu: qemuBin = QEMU, cache }: BootOptions,
): Promise<VmRun> {
  if (!(await run([qemuBin, "--version"])).ok) {
    throw new VmError("package", `no ${qemuBin}: install qemu-system-x86`);
  }
  const kernel = findKernel();
  const initrd = await initramfs(cache);
  const exportDir = await Deno.makeTempDir({ prefix: "oomhero-vm-" });
  try {
    await Deno.writeTextFile(
      `${exportDir}/job.env`,
      [
        `OOMHERO_VM_ROOT='${ROOT}'`,
        `OOMHERO_VM_DENO='${Deno.execPath()}'`,
        `OOMHERO_VM_CHECKS='${checks.join(" ")}'`,
        // The npm packages cached on the host, read-only in the guest.
        `DENO_DIR='${Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`}'`,
        "",
      ].join("\n"),
    );
    const append = [
      "console=ttyS0",
      "root=rootfs",
      "rootfstype=9p",
      // The export is read-only, so the guest may cache it: Deno starts ten times faster.
      "rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose",
      "ro",
      `init=${ROOT}tests/kernel/vm/init.sh`,
      "cgroup_no_v1=all",
      "panic=-1",
      "quiet",
    ].join(" ");
    // deno-fmt-ignore
    const args = [
      "-accel", "tcg", "-cpu", "max", "-smp", "2", "-m", "1536",
      "-nographic", "-nodefaults", "-serial", "stdio", "-net", "none", "-no-reboot",
      "-kernel", kernel, "-initrd", initrd, "-append", append,
      "-fsdev", "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap",
      "-device", "virtio-9p-pci,fsdev=root,mount_tag=rootfs",
      "-fsdev", `local,id=results,path=${exportDir},security_model=none`,
      "-device", "virtio-9p-pci,fsdev=results,mount_tag=results",
    ];
    const started = performance.now();
    const qemu = new Deno.Command(qemuBin, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    })
      .spawn();
    const timer = setTimeout(() => qemu.kill("SIGKILL"), timeoutMs);
    /** The whole console: the boot's, then the guest's marker lines, its stderr, the kernel's. */
    const everything: string[] = [];
    /** Where the guest's part of the console begins. */
    let guestFrom = -1;
    let bootSeconds = NaN;
    const stderr = new Response(qemu.stderr).text();
    let rest = "";
    for await (const chunk of qemu.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split(/\r?\n/);
      rest = parts.pop() ?? "";
      for (const part of parts) {
        // deno-lint-ignore no-control-regex
        everything.push(part.replace(/\x1b(\[[0-9;?]*[a-zA-Z]|c)/g, ""));
        if (guestFrom < 0 && part.includes(`${MARKER} guest up`)) {
          guestFrom = everything.length - 1;
          bootSeconds = (performance.now() - started) / 1000;
        }
      }
    }
    const status = await qemu.status;
    clearTimeout(timer);
    const keep = Deno.env.get("OOMHERO_VM_CONSOLE");
    if (keep) await Deno.writeTextFile(keep, everything.join("\n"));
    const seconds = (performance.now() - started) / 1000;
    const qemuErrors = (await stderr).trim();
    let resultsText = "";
    try {
      resultsText = await Deno.readTextFile(`${exportDir}/results.jsonl`);
    } catch {
      // No results: said below.
    }
    if (Number.isNaN(bootSeconds)) {
      const tail = everything.slice(-15).join("\n") || "(nothing)";
      const why = status.signal === "SIGKILL"
        ? `no guest within ${timeoutMs / 1000} s`
        : `qemu exited (${status.code})${qemuErrors ? `: ${qemuErrors}` : ""} before the guest ran`;
      throw new VmError("boot", `${why}; guest console:\n${tail}`);
    }
    const guestConsole = everything.slice(guestFrom);
    if (status.signal === "SIGKILL") {
      // The checks that reported are kept; the caller says which others never did.
      guestConsole.push(`${MARKER} killed after ${timeoutMs / 1000} s`);
    }
    return { results: parseResults(resultsText), console: guestConsole, bootSeconds, seconds };
  } finally {
    await Deno.remove(exportDir, { recursive: true });
  }
}
