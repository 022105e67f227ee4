/**
 * The container view as containerd sets it up on cgroup v2: a pod whose containers share a pid
 * namespace (pid 1 a pause process), each joining its cgroup, then entering a mount and a cgroup
 * namespace of its own with cgroup2 mounted at its /sys/fs/cgroup. The pod is limited to 300 MiB;
 * its containers: one with 200 MiB of its own, one without a limit (the pod's alone), one with
 * 400 MiB (the pod's smaller). oomhero runs as a sidecar container of the pod and finds each
 * container's cgroup through /proc/<pid>/root; the same pod is also inspected from the host, as
 * the DaemonSet sees it. Records exactly what each says against the kernel's files.
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
  kernelFigures,
  makeCgroup,
  MIB,
  mib,
  pidOf,
  type Proc,
  q,
  type Seen,
  startReady,
  stopAll,
} from "./guest_kernel.ts";

const POD = `${BASE}/kubepods/pod-vm`;
const POD_LIMIT = 300 * MIB;
/** The containers of the pod: name, own limit, what the sidecar can know, what the host can. */
const CONTAINERS = [
  { name: "own", limit: 200 * MIB, sidecar: 200 * MIB, host: 200 * MIB },
  { name: "nolimit", limit: undefined, sidecar: 0, host: POD_LIMIT },
  { name: "big", limit: 400 * MIB, sidecar: 400 * MIB, host: POD_LIMIT },
];
const HOLD_MIB = 16;
const SLACK = 512 * 1024;

/**
 * Shell run in a container's fresh mount and cgroup namespaces: its /proc, and its cgroup2 at
 * /sys/fs/cgroup instead of the node's (the same superblock cannot be mounted over itself).
 */
const CONTAINER_MOUNTS = "mount -t proc proc /proc && umount -l /sys/fs/cgroup && " +
  "mount -t cgroup2 cgroup2 /sys/fs/cgroup";

/** Shell that runs `inner` as container `name` of the pod whose pause has pid `pause`. */
function container(pause: number, name: string, inner: string): string {
  const enter = `unshare --mount --cgroup --propagation private sh -c ${
    q(`${CONTAINER_MOUNTS} && ${inner}`)
  }`;
  return `exec nsenter --pid=/proc/${pause}/ns/pid sh -c ${
    q(joinThen(`${POD}/${name}`, `exec ${enter}`))
  }`;
}

/** Checks the container view; see the module doc. */
export async function containerView(rec: Recorder): Promise<void> {
  const procs: Proc[] = [];
  try {
    makeCgroup(POD, POD_LIMIT);
    for (const name of ["pause", "sidecar"]) makeCgroup(`${POD}/${name}`);
    for (const c of CONTAINERS) makeCgroup(`${POD}/${c.name}`, c.limit);
    const pauseInner = `${CONTAINER_MOUNTS} && exec ${holderArgv("pause", 0).map(q).join(" ")}`;
    procs.push(
      await startReady(
        joinThen(
          `${POD}/pause`,
          `exec unshare --pid --fork --kill-child --mount --cgroup --propagation private ` +
            `sh -c ${q(pauseInner)}`,
        ),
        "pause",
      ),
    );
    const pause = pidOf("pause");
    for (const c of CONTAINERS) {
      procs.push(
        await startReady(
          container(pause, c.name, `exec ${holderArgv(c.name, HOLD_MIB).map(q).join(" ")}`),
          c.name,
        ),
      );
    }
    const read = () => new Map(CONTAINERS.map((c) => [c.name, kernelFigures(`${POD}/${c.name}`)]));
    const before = read();
    // The sidecar is a container of the pod like the others; the host's inspect runs alongside.
    const [sidecar, host] = await Promise.all([
      inspectJson((argv) => [
        "sh",
        "-c",
        container(pause, "sidecar", `exec ${argv.map(q).join(" ")}`),
      ]),
      inspectJson(),
    ]);
    const after = read();

    const agree = (s: Seen, name: string, expectMax: number, scope: string) => {
      const [b, a] = [before.get(name)!, after.get(name)!];
      assertEqual(s.memory_max, expectMax, `${name}: memory_max`);
      assertEqual(s.memory_max_scope, scope, `${name}: memory_max_scope`);
      assertBetween(s.memory_current, b.current, a.current, SLACK, `${name}: memory_current`);
      return `cgroup ${s.cgroup}, memory_max ${mib(s.memory_max)} (${s.memory_max_scope}), ` +
        `memory_current ${mib(s.memory_current)}, memory_usage ` +
        `${(s.memory_usage as number).toFixed(1)}% (kernel: limit ${mib(a.limit)}, current ` +
        `${mib(a.current)})`;
    };
    for (const c of CONTAINERS) {
      rec.assert(`sidecar sees ${c.name}`, () => {
        const s = byRole(sidecar.seen, c.name);
        assertEqual(before.get(c.name)!.limit, c.host, `${c.name}: the kernel's effective limit`);
        return agree(s, c.name, c.sidecar, "own");
      });
    }
    rec.assert("sidecar says how to see the pod's limit", () => {
      const hint = sidecar.log.split("\n").filter((l) => /--cgroupfs|DaemonSet/.test(l));
      if (hint.length !== 1) throw new Error(`expected one hint line, log:\n${sidecar.log}`);
      return hint[0];
    });
    for (const c of CONTAINERS) {
      rec.assert(
        `host sees ${c.name}`,
        () => agree(byRole(host.seen, c.name), c.name, c.host, "effective"),
      );
    }
  } finally {
    await stopAll(procs);
  }
}
