/**
 * Real processes for oomhero to watch: `sleep`s spread over real memory cgroups, each with a
 * limit, so that a benchmark reads the kernel's own procfs and cgroupfs. Needs root and a
 * writable cgroupfs; every cgroup and process is removed by {@link SleepingProcesses.stop}.
 * @module
 */
import { MemoryCgroup } from "../demo/memory_cgroup.ts";

/** The limit of each cgroup: far above what a sleep uses, so no threshold ever matches. */
const GROUP_LIMIT_BYTES = 1024 * 1024 * 1024;
/** How long all processes may take to appear; 5,000 forks take a few seconds on 2 cores. */
const START_TIMEOUT_MS = 120_000;
/** `sh -c` body: start $1 - 1 sleeps in the background, then become the last one. */
const SLEEPERS = 'i=1; while [ "$i" -lt "$1" ]; do sleep 1000000 & i=$((i + 1)); done; ' +
  "exec sleep 1000000";

/** Sleeping processes spread over memory cgroups. */
export class SleepingProcesses {
  /** How many processes run. */
  readonly count: number;
  /** The cgroups holding them. */
  readonly cgroups: readonly MemoryCgroup[];
  readonly #leaders: Deno.ChildProcess[];

  private constructor(count: number, cgroups: MemoryCgroup[], leaders: Deno.ChildProcess[]) {
    this.count = count;
    this.cgroups = cgroups;
    this.#leaders = leaders;
  }

  /**
   * Starts `count` sleeps spread evenly over `groups` new memory cgroups (fewer when there are
   * fewer processes) and resolves once every one runs `sleep`. Throws when cgroups cannot be made.
   */
  static async start(count: number, groups = 50): Promise<SleepingProcesses> {
    const prefix = `oomhero-bench-${crypto.randomUUID().slice(0, 8)}`;
    const n = Math.min(groups, count);
    const cgroups: MemoryCgroup[] = [];
    const leaders: Deno.ChildProcess[] = [];
    const processes = new SleepingProcesses(count, cgroups, leaders);
    try {
      for (let g = 0; g < n; g++) {
        const cgroup = MemoryCgroup.create(`${prefix}-${g}`, GROUP_LIMIT_BYTES);
        if (typeof cgroup === "string") throw new Error(`cannot create a memory cgroup: ${cgroup}`);
        cgroups.push(cgroup);
        const size = Math.floor(count / n) + (g < count % n ? 1 : 0);
        const [bin, ...args] = cgroup.wrap(["sh", "-c", SLEEPERS, "sleepers", String(size)]);
        leaders.push(
          new Deno.Command(bin, { args, stdin: "null", stdout: "null", stderr: "inherit" }).spawn(),
        );
      }
      await processes.#allSleeping();
      return processes;
    } catch (e) {
      await processes.stop();
      throw e;
    }
  }

  /** Kills every process and removes the cgroups; safe to call twice. */
  async stop(): Promise<void> {
    for (const cgroup of this.cgroups) cgroup.remove();
    await Promise.all(this.#leaders.map((leader) => leader.status));
  }

  /** The pids in the cgroups now. */
  pids(): number[] {
    return this.cgroups.flatMap((cgroup) =>
      Deno.readTextFileSync(`${cgroup.dir}/cgroup.procs`).split("\n").filter(Boolean).map(Number)
    );
  }

  /** Resolves once the cgroups hold `count` processes and all of them have become `sleep`. */
  async #allSleeping(): Promise<void> {
    const deadline = performance.now() + START_TIMEOUT_MS;
    for (;;) {
      const pids = this.pids();
      if (pids.length === this.count && pids.every((pid) => comm(pid) === "sleep")) return;
      if (performance.now() > deadline) {
        throw new Error(`only ${pids.length} of ${this.count} sleeps started`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The command name of `pid`, or "" when it is gone. */
function comm(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
  } catch {
    return "";
  }
}
