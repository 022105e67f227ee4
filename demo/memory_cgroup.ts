/**
 * A throw-away memory cgroup with a limit, on cgroup v1 or v2, for the demo and the tests that
 * need the kernel's real OOM killer. Needs root and a writable cgroupfs.
 * @module
 */

const CGROUPFS = "/sys/fs/cgroup";

function readNumber(file: string, key?: string): number {
  const text = Deno.readTextFileSync(file);
  if (key === undefined) return Number(text.trim());
  const line = text.split("\n").find((l) => l.startsWith(`${key} `));
  return line ? Number(line.split(" ")[1]) : 0;
}

/** A memory cgroup created for one run and removed after it. */
export class MemoryCgroup {
  /** The cgroup's directory. */
  readonly dir: string;
  /** cgroup version of the memory controller. */
  readonly version: 1 | 2;

  private constructor(dir: string, version: 1 | 2) {
    this.dir = dir;
    this.version = version;
  }

  /**
   * Creates a cgroup with a memory limit, or returns why it cannot (not root, no writable
   * memory controller).
   */
  static create(name: string, limitBytes: number): MemoryCgroup | string {
    if (Deno.uid() !== 0) return "not running as root";
    let cg: MemoryCgroup;
    try {
      const controllers = Deno.readTextFileSync(`${CGROUPFS}/cgroup.controllers`);
      if (!controllers.split(/\s+/).includes("memory")) {
        return "cgroup v2 without the memory controller";
      }
      cg = new MemoryCgroup(`${CGROUPFS}/${name}`, 2);
    } catch {
      try {
        Deno.statSync(`${CGROUPFS}/memory/cgroup.procs`);
      } catch {
        return `no memory cgroup controller at ${CGROUPFS}`;
      }
      cg = new MemoryCgroup(`${CGROUPFS}/memory/${name}`, 1);
    }
    try {
      Deno.mkdirSync(cg.dir);
      const limitFile = cg.version === 2 ? "memory.max" : "memory.limit_in_bytes";
      Deno.writeTextFileSync(`${cg.dir}/${limitFile}`, String(limitBytes));
      if (cg.version === 2) Deno.writeTextFileSync(`${cg.dir}/memory.swap.max`, "0");
    } catch (e) {
      cg.remove();
      return `cannot create a memory cgroup: ${(e as Error).message}`;
    }
    return cg;
  }

  /** The argv that starts `argv` inside this cgroup, so all of its memory is charged here. */
  wrap(argv: string[]): string[] {
    return ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', this.dir, ...argv];
  }

  /** How many times the kernel's OOM killer has killed a process in this cgroup. */
  oomKills(): number {
    return this.version === 2
      ? readNumber(`${this.dir}/memory.events`, "oom_kill")
      : readNumber(`${this.dir}/memory.oom_control`, "oom_kill");
  }

  /** The cgroup's peak memory use in bytes. */
  peakBytes(): number {
    return readNumber(
      `${this.dir}/${this.version === 2 ? "memory.peak" : "memory.max_usage_in_bytes"}`,
    );
  }

  /** The cgroup's limit in bytes. */
  limitBytes(): number {
    return readNumber(`${this.dir}/${this.version === 2 ? "memory.max" : "memory.limit_in_bytes"}`);
  }

  /** Kills whatever is left inside and removes the cgroup; safe to call twice. */
  remove(): void {
    for (let attempt = 0; attempt < 50; attempt++) {
      let pids: string[];
      try {
        pids = Deno.readTextFileSync(`${this.dir}/cgroup.procs`).split("\n").filter(Boolean);
      } catch {
        return; // already gone
      }
      for (const pid of pids) {
        try {
          Deno.kill(Number(pid), "SIGKILL");
        } catch { /* exited meanwhile */ }
      }
      try {
        Deno.removeSync(this.dir);
        return;
      } catch {
        // Busy until the killed processes are reaped; the loop retries.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
  }
}

/**
 * Runs `fn` in a new memory cgroup limited to `limitBytes`, named `prefix` plus a random suffix,
 * and removes the cgroup afterwards. Throws, saying why, when no cgroup can be created.
 */
export async function withMemoryCgroup<T>(
  prefix: string,
  limitBytes: number,
  fn: (cgroup: MemoryCgroup) => Promise<T>,
): Promise<T> {
  const cgroup = MemoryCgroup.create(`${prefix}-${crypto.randomUUID().slice(0, 8)}`, limitBytes);
  if (typeof cgroup === "string") throw new Error(`this needs a memory cgroup: ${cgroup}`);
  try {
    return await fn(cgroup);
  } finally {
    cgroup.remove();
  }
}
