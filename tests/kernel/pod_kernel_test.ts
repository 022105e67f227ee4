/**
 * A Kubernetes pod imitated on the real kernel, and oomhero's `inspect --format json` run as its
 * sidecar compared with the kernel's own files. The pod: a shared pid namespace whose pid 1 is a
 * pause process, and containers that each join their cgroups, then enter a mount and a cgroup
 * namespace of their own with a fresh /proc and a private /sys/fs/cgroup holding only their own
 * cgroup (memory at memory/, the cgroup2 tree with PSI at unified/), as containerd sets them up.
 * The pod's cgroup is limited to 300 MiB; its containers: one with 200 MiB of its own (later
 * moved into a 128 MiB sub-cgroup), one without a limit, and one with 400 MiB. The sidecar runs
 * once with CAP_SYS_PTRACE and once without it (setpriv). Needs root, a writable v1 memory
 * controller with a cgroup2 tree beside it, unshare, nsenter and setpriv; skipped otherwise.
 */
import assert from "node:assert/strict";
import {
  parseHierarchicalLimit,
  parseMemoryBytes,
  parseMemoryLimit,
} from "../../src/kernel/cgroup.ts";
import { parsePressure } from "../../src/kernel/pressure.ts";
import { parseOomScore } from "../../src/kernel/procfs.ts";
import { waitFor } from "../support/live_oomhero.ts";
import { oomheroArgv } from "../../scripts/runtime_flags.ts";

const MIB = 1024 * 1024;
const MEMORY = "/sys/fs/cgroup/memory";
const UNIFIED = "/sys/fs/cgroup/unified";
/** Unique to this run: other engineers run tests on this machine at the same time. */
const POD = `oomhero-pod-${Deno.pid}-${crypto.randomUUID().slice(0, 6)}`;
/** The containers: name, own limit, and the `sleep` argument that tells their process apart. */
const CONTAINERS = [
  { name: "own", limit: 200 * MIB },
  { name: "nolimit", limit: undefined },
  { name: "big", limit: 400 * MIB },
].map((c, i) => ({ ...c, marker: String(860_000 + (Deno.pid % 10_000) * 10 + i) }));
const POD_LIMIT = 300 * MIB;
const SUB_LIMIT = 128 * MIB;

function which(program: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${program}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Why the pod cannot be built here, or undefined. */
function unavailable(): string | undefined {
  if (Deno.build.os !== "linux") return "not Linux";
  if (Deno.uid() !== 0) return "not root";
  for (const program of ["unshare", "nsenter", "setpriv", "mount"]) {
    if (!which(program)) return `no ${program}`;
  }
  try {
    Deno.statSync(`${MEMORY}/memory.usage_in_bytes`);
    Deno.statSync(`${UNIFIED}/cgroup.controllers`);
  } catch {
    return `not a hybrid cgroup layout (${MEMORY} and ${UNIFIED})`;
  }
  const probe = `${MEMORY}/${POD}-probe`;
  try {
    Deno.mkdirSync(probe);
    Deno.removeSync(probe);
  } catch (e) {
    return `cannot create a memory cgroup: ${(e as Error).message}`;
  }
  return undefined;
}

const SKIP = unavailable();
if (SKIP !== undefined) console.log(`skipping the pod test: ${SKIP}`);

/** The cgroups of the pod, children after parents, so removal goes in reverse. */
const CGROUPS = [
  "",
  "pause",
  "sidecar",
  ...CONTAINERS.map((c) => c.name),
  "own/sub",
  "hostish",
];

function createCgroups(): void {
  for (const cg of CGROUPS) {
    for (const root of [MEMORY, UNIFIED]) Deno.mkdirSync(`${root}/${POD}/${cg}`);
  }
  const limit = (cg: string, bytes: number) =>
    Deno.writeTextFileSync(`${MEMORY}/${POD}/${cg}/memory.limit_in_bytes`, `${bytes}\n`);
  limit("", POD_LIMIT);
  for (const c of CONTAINERS) if (c.limit !== undefined) limit(c.name, c.limit);
  limit("own/sub", SUB_LIMIT);
}

/** Removes the cgroups once their processes are gone (rmdir is EBUSY until then). */
async function removeCgroups(): Promise<void> {
  for (const cg of [...CGROUPS].reverse()) {
    for (const root of [MEMORY, UNIFIED]) {
      const dir = `${root}/${POD}/${cg}`;
      await waitFor(`rmdir ${dir}`, () => {
        try {
          Deno.removeSync(dir);
          return true;
        } catch (e) {
          return e instanceof Deno.errors.NotFound ? true : undefined;
        }
      }, { timeoutMs: 5_000, everyMs: 20 });
    }
  }
}

/** Shell that joins the memory and cgroup2 cgroups `cg` of the pod. */
function join(cg: string): string {
  return `echo $$ > ${MEMORY}/${POD}/${cg}/cgroup.procs && ` +
    `echo $$ > ${UNIFIED}/${POD}/${cg}/cgroup.procs`;
}

/**
 * Shell run inside a container's fresh mount and cgroup namespaces: a /proc of the pod's pid
 * namespace, and a /sys/fs/cgroup with only this container's cgroup in it.
 */
const CONTAINER_MOUNTS = [
  "mount -t proc proc /proc",
  "mount -t tmpfs tmpfs /sys/fs/cgroup",
  "mkdir /sys/fs/cgroup/memory /sys/fs/cgroup/unified",
  "mount -t cgroup -o memory cgroup /sys/fs/cgroup/memory",
  "mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified",
].join(" && ");

/** Quotes `word` for sh. */
function q(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** argv that runs `inner` (shell) as a container of the pod whose pause has host pid `pause`. */
function containerArgv(pause: number, cg: string, inner: string): string[] {
  const enter = `unshare --mount --cgroup --propagation private sh -c ${q(inner)}`;
  return ["nsenter", `--pid=/proc/${pause}/ns/pid`, "sh", "-c", `${join(cg)} && exec ${enter}`];
}

function spawn(argv: string[], stdout: "null" | "piped" = "null"): Deno.ChildProcess {
  return new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout,
    stderr: stdout,
  }).spawn();
}

/** The host pid of the one process in memory cgroup `cg`, once it runs `sleep marker`. */
function waitForSleep(cg: string, marker: string): Promise<number> {
  return waitFor(`sleep ${marker} in ${cg}`, () => {
    const pids = Deno.readTextFileSync(`${MEMORY}/${POD}/${cg}/cgroup.procs`).trim().split("\n");
    for (const pid of pids.filter((p) => p !== "")) {
      try {
        const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
        if (cmdline === `sleep\0${marker}\0`) return Number(pid);
      } catch {
        // Exited or not yet there.
      }
    }
    return undefined;
  }, { timeoutMs: 10_000, everyMs: 20 });
}

/** What the kernel says about one process, read from the host. */
interface Kernel {
  current: number;
  limit: number;
  hierarchical: number;
  pressureTotal: number;
  oomScore: number;
}

/** Reads the kernel's figures of the process `pid` in cgroup `cg` of the pod. */
function kernel(pid: number, cg: string): Kernel {
  const read = (path: string) => Deno.readTextFileSync(path);
  let limit = Infinity;
  for (
    let dir = `${MEMORY}/${POD}/${cg}`;
    dir !== MEMORY;
    dir = dir.slice(0, dir.lastIndexOf("/"))
  ) {
    limit = Math.min(limit, parseMemoryLimit(read(`${dir}/memory.limit_in_bytes`)));
  }
  return {
    current: parseMemoryBytes(read(`${MEMORY}/${POD}/${cg}/memory.usage_in_bytes`)),
    limit,
    hierarchical: parseHierarchicalLimit(read(`${MEMORY}/${POD}/${cg}/memory.stat`))!,
    pressureTotal: parsePressure(read(`${UNIFIED}/${POD}/${cg}/memory.pressure`)).some.total,
    oomScore: parseOomScore(read(`/proc/${pid}/oom_score`)),
  };
}

/** `inspect --format json --sample 0` run as the pod's sidecar; its JSON and stderr. */
async function sidecarInspect(
  pause: number,
  { ptrace, hostTree }: { ptrace: boolean; hostTree?: string },
): Promise<{ json: Record<string, unknown>[]; stderr: string }> {
  const drop = ptrace ? [] : ["setpriv", "--inh-caps=-sys_ptrace", "--bounding-set=-sys_ptrace"];
  const flags = hostTree === undefined ? [] : ["--cgroupfs", hostTree];
  const inspect = [
    ...drop,
    ...oomheroArgv(["inspect", "--format", "json", "--sample", "0", ...flags]),
  ];
  // The node's trees, bind-mounted beside the container's own, as a hostPath volume would be.
  const binds = hostTree === undefined
    ? ""
    : `mount --bind ${MEMORY} ${hostTree}/memory && mount --bind ${UNIFIED} ${hostTree}/unified && `;
  const child = spawn(
    containerArgv(
      pause,
      "sidecar",
      `${binds}${CONTAINER_MOUNTS} && exec ${inspect.map(q).join(" ")}`,
    ),
    "piped",
  );
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  const stderr = dec.decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  return { json: JSON.parse(dec.decode(out.stdout)), stderr };
}

function between(value: unknown, a: number, b: number, slack: number, what: string): void {
  assert.equal(typeof value, "number", `${what} is ${value}`);
  const v = value as number;
  assert.ok(
    v >= Math.min(a, b) - slack && v <= Math.max(a, b) + slack,
    `${what}: ${v} not in [${a}, ${b}] ± ${slack}`,
  );
}

/** Compares the sidecar's view of one container's process with the kernel's. */
function assertAgrees(
  seen: Record<string, unknown> | undefined,
  before: Kernel,
  after: Kernel,
  cg: string,
): void {
  assert.ok(seen !== undefined, `the sidecar does not see ${cg}`);
  assert.equal(seen.cgroup, `/../${cg}`);
  assert.equal(after.limit, after.hierarchical, "the kernel's own two answers agree");
  assert.equal(seen.memory_max, after.limit, `${cg}: memory_max`);
  assert.equal(seen.memory_max_scope, "effective");
  // An idle sleep: its cgroup's figures move little between the reads.
  between(seen.memory_current, before.current, after.current, 256 * 1024, `${cg}: memory_current`);
  between(seen.memory_pressure_some_total, before.pressureTotal, after.pressureTotal, 0, cg);
  between(seen.oom_score, before.oomScore, after.oomScore, 0, `${cg}: oom_score`);
  assert.equal(seen.unreadable, undefined);
}

Deno.test({
  name:
    "kernel pod: the sidecar's inspect agrees with the kernel; without CAP_SYS_PTRACE it says so",
  ignore: SKIP !== undefined,
  fn: async () => {
    createCgroups();
    const started: Deno.ChildProcess[] = [];
    try {
      // The pause container: pid 1 of the pod's pid namespace, a container like the others.
      const pauseMarker = String(870_000 + Deno.pid % 10_000);
      const pauseInner = `${CONTAINER_MOUNTS} && exec sleep ${pauseMarker}`;
      started.push(spawn([
        "sh",
        "-c",
        `${join("pause")} && exec unshare --pid --fork --kill-child --mount --cgroup ` +
        `--propagation private sh -c ${q(pauseInner)}`,
      ]));
      const pause = await waitForSleep("pause", pauseMarker);
      for (const c of CONTAINERS) {
        started.push(
          spawn(containerArgv(pause, c.name, `${CONTAINER_MOUNTS} && exec sleep ${c.marker}`)),
        );
      }
      // A process of the pod left in the host's mount and cgroup namespaces.
      const hostish = { name: "hostish", marker: String(880_000 + Deno.pid % 10_000) };
      started.push(spawn([
        "nsenter",
        `--pid=/proc/${pause}/ns/pid`,
        "sh",
        "-c",
        `${join("hostish")} && exec sleep ${hostish.marker}`,
      ]));
      const pids = new Map<string, number>([["pause", pause]]);
      for (const c of [...CONTAINERS, hostish]) {
        pids.set(c.name, await waitForSleep(c.name, c.marker));
      }
      const everyone = [...CONTAINERS, { name: "pause", marker: pauseMarker }];
      // A container's sleep execs after its mounts: once it runs, the container is set up.
      const byMarker = (json: Record<string, unknown>[], marker: string) =>
        json.find((p) => p.cmdline === `sleep ${marker}`);

      // Own limit, a limit on the pod only, and a pod limit smaller than the container's.
      const before = new Map(everyone.map((c) => [c.name, kernel(pids.get(c.name)!, c.name)]));
      const first = await sidecarInspect(pause, { ptrace: true });
      for (const c of everyone) {
        assertAgrees(
          byMarker(first.json, c.marker),
          before.get(c.name)!,
          kernel(pids.get(c.name)!, c.name),
          c.name,
        );
      }
      assert.deepEqual(
        everyone.map((c) => byMarker(first.json, c.marker)!.memory_max),
        [200 * MIB, POD_LIMIT, POD_LIMIT, POD_LIMIT],
      );
      assert.doesNotMatch(first.stderr, /neither|CAP_SYS_PTRACE/);
      // Its cgroup and its host-wide mounts meet above the sidecar's cgroup namespace.
      const unseen = byMarker(first.json, hostish.marker)!;
      assert.equal(unseen.memory_max, null);
      assert.match(String((unseen.unreadable as string[])[0]), /meet above our cgroup namespace/);

      // A move inside the container: into its 128 MiB sub-cgroup.
      const own = CONTAINERS[0];
      const ownPid = pids.get(own.name)!;
      for (const root of [MEMORY, UNIFIED]) {
        Deno.writeTextFileSync(`${root}/${POD}/own/sub/cgroup.procs`, `${ownPid}\n`);
      }
      const movedBefore = kernel(ownPid, "own/sub");
      const second = await sidecarInspect(pause, { ptrace: true });
      assertAgrees(
        byMarker(second.json, own.marker),
        movedBefore,
        kernel(ownPid, "own/sub"),
        "own/sub",
      );
      assert.equal(byMarker(second.json, own.marker)!.memory_max, SUB_LIMIT);

      // Without CAP_SYS_PTRACE: the other containers' figures are unreadable, and why.
      const third = await sidecarInspect(pause, { ptrace: false });
      for (const c of everyone) {
        const seen = byMarker(third.json, c.marker)!;
        assert.equal(seen.memory_max, null, `${c.name}: memory_max`);
        assert.equal(seen.memory_current, null, `${c.name}: memory_current`);
        // Not the system-wide figures either.
        assert.equal(seen.memory_pressure_some_total, null, `${c.name}: pressure`);
        assert.equal(typeof seen.oom_score, "number");
        assert.match(
          String((seen.unreadable as string[])[0]),
          /permission denied: oomhero lacks CAP_SYS_PTRACE/,
        );
      }
      const warnings = third.stderr.split("\n").filter((l) => /CAP_SYS_PTRACE/.test(l));
      // Once per process: the three containers, pause and the one in the host's namespaces.
      assert.equal(warnings.length, everyone.length + 1, third.stderr);
      assert.doesNotMatch(third.stderr, /neither/);

      // The node's cgroupfs mounted beside the sidecar's own: every cgroup of the pod in sight.
      const hostTree = Deno.makeTempDirSync({ prefix: `oomhero-hostcg-${Deno.pid}-` });
      try {
        Deno.mkdirSync(`${hostTree}/memory`);
        Deno.mkdirSync(`${hostTree}/unified`);
        const where = [...everyone, hostish].map((c) => c.name === "own" ? "own/sub" : c.name);
        const ready = where.map((cg) => kernel(pids.get(cg.split("/")[0])!, cg));
        const fourth = await sidecarInspect(pause, { ptrace: true, hostTree });
        [...everyone, hostish].forEach((c, i) =>
          assertAgrees(
            byMarker(fourth.json, c.marker),
            ready[i],
            kernel(pids.get(c.name)!, where[i]),
            where[i],
          )
        );
      } finally {
        Deno.removeSync(hostTree, { recursive: true });
      }
    } finally {
      // SIGKILL to the first unshare's parent shell chain ends pause, and with pid 1 the pod.
      for (const child of started) {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await Promise.all(started.map((c) => c.status));
      await killCgroupProcesses();
      await removeCgroups();
    }
  },
});

/** Ends whatever of ours is left in the pod's cgroups: pause and the containers' processes. */
async function killCgroupProcesses(): Promise<void> {
  for (const cg of CGROUPS) {
    const procs = `${MEMORY}/${POD}/${cg}/cgroup.procs`;
    await waitFor(`${procs} to empty`, () => {
      let pids: string[];
      try {
        pids = Deno.readTextFileSync(procs).trim().split("\n").filter((p) => p !== "");
      } catch {
        return true;
      }
      if (pids.length === 0) return true;
      // Only the processes in our own, uniquely named cgroups: ours.
      for (const pid of pids) {
        try {
          Deno.kill(Number(pid), "SIGKILL");
        } catch {
          // Gone meanwhile.
        }
      }
      return undefined;
    }, { timeoutMs: 5_000, everyMs: 20 });
  }
}
