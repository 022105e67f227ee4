/**
 * The host view on a pure cgroup v2 kernel, as a DaemonSet or a bare host sees it: one `inspect`
 * over a process with its own memory.max, one limited only by its parent, one whose parent is
 * smaller, one unlimited, one with page cache (working set from memory.stat), and CPU load in one
 * cgroup so that its pressure figures differ from the root's. Each compared with the kernel's
 * files read just before and just after the inspect.
 * @module
 */
import type { Recorder } from "./guest.ts";
import {
  assertBetween,
  assertEqual,
  BASE,
  byRole,
  holderArgv,
  inspectJson,
  joinThen,
  type KernelFigures,
  kernelFigures,
  makeCgroup,
  MIB,
  mib,
  type Proc,
  q,
  rootPressure,
  startReady,
  stopAll,
  TAG,
} from "./guest_kernel.ts";
import { PRESSURE_RESOURCES, PRESSURE_SEVERITIES } from "../../../src/kernel/pressure.ts";
import { pressureVariable } from "../../../src/collect/variables.ts";

/** A process's cgroup, the limits on it and above, and the limit oomhero must find. */
const CASES = [
  { role: "own-limit", cgroup: "own", limits: { own: 200 * MIB }, expect: 200 * MIB },
  {
    role: "parent-only",
    cgroup: "parent-only/child",
    limits: { "parent-only": 150 * MIB },
    expect: 150 * MIB,
  },
  {
    role: "parent-smaller",
    cgroup: "parent-smaller/child",
    limits: { "parent-smaller": 100 * MIB, "parent-smaller/child": 300 * MIB },
    expect: 100 * MIB,
  },
  { role: "unlimited", cgroup: "unlimited", limits: {}, expect: 0 },
] as const;

const HOLD_MIB = 24;
/** Slack of memory.current between the reads: an idle process's cgroup moves by a few pages. */
const SLACK = 512 * 1024;
const DISK = "/tmp/oomhero-vm-disk";

/** A file system with a real page cache (tmpfs pages are not file LRU): ext2 on a RAM disk. */
async function mountDisk(): Promise<void> {
  const out = await new Deno.Command("sh", {
    args: [
      "-c",
      `modprobe brd rd_nr=1 rd_size=131072 && mkfs.ext2 -q /dev/ram0 && mkdir -p ${DISK} && ` +
      `mount /dev/ram0 ${DISK}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`RAM disk: ${new TextDecoder().decode(out.stderr)}`);
}

/** Checks the host view; see the module doc. */
export async function hostView(rec: Recorder): Promise<void> {
  const procs: Proc[] = [];
  try {
    for (const c of CASES) {
      for (const [path, bytes] of Object.entries(c.limits)) makeCgroup(`${BASE}/${path}`, bytes);
      makeCgroup(`${BASE}/${c.cgroup}`);
    }
    // CPU load: two busy loops sharing one CPU, so that they wait for each other.
    const load = makeCgroup(`${BASE}/load`);
    Deno.writeTextFileSync(`${load}/cpuset.cpus`, "1");
    for (const n of [1, 2]) {
      procs.push(
        await startReady(
          joinThen(`${BASE}/load`, `exec sh -c 'echo ready; while :; do :; done' ${TAG}load${n}`),
          `load${n}`,
        ),
      );
    }
    await mountDisk();
    makeCgroup(`${BASE}/ws`);
    const starts = [
      ...CASES.map((c) => ({ role: c.role, cgroup: c.cgroup, argv: holderArgv(c.role, HOLD_MIB) })),
      { role: "ws", cgroup: "ws", argv: holderArgv("ws", 32, `${DISK}/cache`) },
    ];
    for (const s of starts) {
      procs.push(
        await startReady(
          joinThen(`${BASE}/${s.cgroup}`, `exec ${s.argv.map(q).join(" ")}`),
          s.role,
        ),
      );
    }
    const cgroups = [...starts.map((s) => s.cgroup), "load"];
    const read = () => new Map(cgroups.map((cg) => [cg, kernelFigures(`${BASE}/${cg}`)]));
    const rootBefore = rootPressure("cpu");
    const before = read();
    const { seen } = await inspectJson();
    const after = read();
    const rootAfter = rootPressure("cpu");

    const memory = (role: string, cg: string) => {
      const s = byRole(seen, role);
      const [b, a] = [before.get(cg)!, after.get(cg)!];
      assertEqual(s.cgroup, `/${BASE}/${cg}`, `${role}: cgroup`);
      assertEqual(s.memory_max_scope, "effective", `${role}: memory_max_scope`);
      assertEqual(b.limit, a.limit, `${role}: the kernel's limit (unchanged)`);
      assertEqual(s.memory_max, a.limit, `${role}: memory_max`);
      assertBetween(s.memory_current, b.current, a.current, SLACK, `${role}: memory_current`);
      const usage = a.limit === 0 ? [0, 0] : [b.current, a.current].map((c) => c / a.limit * 100);
      assertBetween(s.memory_usage, usage[0], usage[1], SLACK / Math.max(a.limit, 1) * 100, role);
      assertEqual(s.unreadable, undefined, `${role}: unreadable`);
      return `memory_max ${mib(s.memory_max)} (kernel ${mib(a.limit)}), memory_current ` +
        `${mib(s.memory_current)} (kernel ${mib(b.current)}..${mib(a.current)}), memory_usage ` +
        `${(s.memory_usage as number).toFixed(2)}%`;
    };
    for (const c of CASES) rec.assert(c.role, () => memory(c.role, c.cgroup));

    rec.assert("working set from memory.stat", () => {
      const s = byRole(seen, "ws");
      const [b, a] = [before.get("ws")!, after.get("ws")!];
      if (a.inactiveFile < 16 * MIB) {
        throw new Error(`the kernel shows only ${mib(a.inactiveFile)} inactive_file`);
      }
      const ws = (k: KernelFigures) => k.current - k.inactiveFile;
      assertBetween(s.memory_working_set, ws(b), ws(a), SLACK, "memory_working_set");
      return `memory_working_set ${mib(s.memory_working_set)} = memory_current ` +
        `${mib(s.memory_current)} - inactive_file ${mib(a.inactiveFile)} (kernel ${mib(ws(b))}..` +
        `${mib(ws(a))})`;
    });

    rec.assert("pressure from the cgroup's own files", () => {
      const notes: string[] = [];
      // Every total (monotonic) lies between its cgroup's two reads: the loaded and an idle one.
      for (const [role, cg] of [["load1", "load"], ["unlimited", "unlimited"]]) {
        const s = byRole(seen, role);
        const [b, a] = [before.get(cg)!, after.get(cg)!];
        for (const resource of PRESSURE_RESOURCES) {
          for (const severity of PRESSURE_SEVERITIES) {
            const name = pressureVariable(resource, severity, "total");
            const [lo, hi] = [b[resource][severity].total, a[resource][severity].total];
            assertBetween(s[name], lo, hi, 0, `${role}: ${name}`);
          }
        }
        notes.push(
          `${cg}: cpu_pressure_some_total ${s.cpu_pressure_some_total} µs (kernel ` +
            `${b.cpu.some.total}..${a.cpu.some.total}), cpu_pressure_some_avg10 ` +
            `${s.cpu_pressure_some_avg10}`,
        );
      }
      // Neither is the system-wide figure: the idle cgroup's stall is far below the root's, the
      // loaded one's 10 s average far above the idle one's.
      const idle = [
        before.get("unlimited")!.cpu.some.total,
        after.get("unlimited")!.cpu.some.total,
      ];
      const root = [rootBefore.some.total, rootAfter.some.total];
      if (Math.max(...idle) >= Math.min(...root)) {
        throw new Error(`an idle cgroup stalled as long as the root: ${idle} vs ${root} µs`);
      }
      const avg10 = byRole(seen, "load1").cpu_pressure_some_avg10 as number;
      if (!(avg10 > 5)) throw new Error(`cpu_pressure_some_avg10 ${avg10} under two busy loops`);
      notes.push(
        `root: cpu some total ${root.join("..")} µs, avg10 ${rootBefore.some.avg10}..` +
          `${rootAfter.some.avg10}`,
      );
      return notes.join("; ");
    });
  } finally {
    await stopAll(procs);
    await new Deno.Command("umount", { args: [DISK] }).output().catch(() => {});
  }
}
