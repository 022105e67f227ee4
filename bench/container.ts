/**
 * oomhero run as a fresh container runs it, for the footprint benchmark's `--limit`: one process
 * (the launcher execs Deno), started from a private copy of the Deno binary written with
 * `dd oflag=direct`, so that no page of the runtime is in any page cache yet and each page it
 * touches is read from disk and charged to it, inside a memory cgroup (v1) of its own.
 * @module
 */
import { MemoryCgroup } from "../demo/memory_cgroup.ts";
import type { RuntimeOptions } from "../scripts/runtime_flags.ts";
import { type OomheroSubject, startOomhero } from "./oomhero_subject.ts";

/**
 * A private copy of `deno` whose pages are in no page cache: written with O_DIRECT on disk, in
 * `dir` (default /var/tmp; not tmpfs, whose pages would belong to the writer).
 */
export function coldCopy(deno: string, dir = "/var/tmp"): { path: string; remove: () => void } {
  const copyDir = Deno.makeTempDirSync({ dir, prefix: "oomhero-bench-deno-" });
  const path = `${copyDir}/deno`;
  const dd = new Deno.Command("dd", {
    args: [`if=${deno}`, `of=${path}`, "bs=4M", "oflag=direct", "status=none"],
    stderr: "inherit",
  }).outputSync();
  if (!dd.success) {
    Deno.removeSync(copyDir, { recursive: true });
    throw new Error(`dd oflag=direct of ${deno} failed`);
  }
  Deno.chmodSync(path, 0o755);
  return { path, remove: () => Deno.removeSync(copyDir, { recursive: true }) };
}

function run(program: string, ...args: string[]): string {
  const out = new Deno.Command(program, { args, stdin: "null" }).outputSync();
  if (!out.success) {
    throw new Error(`${program} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout).trim();
}

/**
 * A small ext4 disk of our own (a file on a loop device with direct I/O, so none of its reads
 * go through the host's page cache) whose read-ahead is `readAheadKb`. A page fault on a file
 * mapping reads around it as much as the device's read-ahead: on a VM whose disk reads ahead
 * 8 MiB, a cold Deno charges ~90 MiB of its 95 MiB binary to page cache, and under a tight limit
 * each refault evicts more than it brings. Nodes' disks commonly read ahead 128 KiB.
 */
export class ColdDisk {
  readonly dir: string;
  readonly #work: string;
  readonly #device: string;

  private constructor(work: string, device: string) {
    this.#work = work;
    this.#device = device;
    this.dir = `${work}/mnt`;
  }

  /** Creates and mounts the disk; {@link remove} takes it away. */
  static create(readAheadKb: number): ColdDisk {
    const work = Deno.makeTempDirSync({ dir: "/var/tmp", prefix: "oomhero-bench-disk-" });
    run("truncate", "-s", "256M", `${work}/img`);
    run("mkfs.ext4", "-q", "-F", `${work}/img`);
    const device = run("losetup", "--direct-io=on", "-f", "--show", `${work}/img`);
    const disk = new ColdDisk(work, device);
    try {
      Deno.mkdirSync(disk.dir);
      run("mount", device, disk.dir);
      const name = device.slice(device.lastIndexOf("/") + 1);
      Deno.writeTextFileSync(`/sys/block/${name}/queue/read_ahead_kb`, String(readAheadKb));
    } catch (e) {
      disk.remove();
      throw e;
    }
    return disk;
  }

  /** Unmounts and detaches the disk and removes its file. */
  remove(): void {
    try {
      run("umount", this.dir);
    } catch { /* not mounted */ }
    try {
      run("losetup", "-d", this.#device);
    } catch { /* detached */ }
    Deno.removeSync(this.#work, { recursive: true });
  }
}

/** What the kernel says about a container's memory cgroup. */
export interface CgroupFigures {
  /** Times the OOM killer killed in it (memory.oom_control). */
  oomKills: number;
  /** Times a charge hit the limit (memory.failcnt): reclaim, or an OOM kill. */
  failcnt: number;
  peakMib: number;
  /** memory.stat's total_rss, total_cache and total_mapped_file, MiB. */
  rssMib: number;
  cacheMib: number;
  mappedFileMib: number;
}

/** A contained oomhero: its cgroup, and the subject once it serves metrics. */
export class Container {
  readonly cgroup: MemoryCgroup;
  readonly #copy: { path: string; remove: () => void };
  /** The running oomhero; undefined when it never served metrics. */
  subject?: OomheroSubject;
  /** Why it never served metrics, if it did not. */
  failure = "";

  private constructor(cgroup: MemoryCgroup, copy: { path: string; remove: () => void }) {
    this.cgroup = cgroup;
    this.#copy = copy;
  }

  /**
   * Starts oomhero scanning every `loopInterval` under `limitMib` (Infinity: no limit, in a
   * cgroup all the same), with `runtime`'s Deno copied cold (onto `disk` when given), `args` added, `main` run
   * instead of this tree's. Resolves once it serves /metrics or
   * has failed to within a minute (see {@link failure}); stop it with {@link stop} either way.
   */
  static async start(
    limitMib: number,
    loopInterval: string,
    runtime: RuntimeOptions = {},
    { args, main, disk }: { args?: string[]; main?: string; disk?: ColdDisk } = {},
  ): Promise<Container> {
    const copy = coldCopy(runtime.deno ?? Deno.execPath(), disk?.dir);
    const name = `oomhero-bench-limit-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    const cgroup = MemoryCgroup.create(name, limitMib === Infinity ? -1 : limitMib * 2 ** 20);
    if (typeof cgroup === "string" || cgroup.version !== 1) {
      copy.remove();
      if (typeof cgroup !== "string") cgroup.remove();
      throw new Error(
        `--limit needs a cgroup v1 memory controller: ${
          typeof cgroup === "string" ? cgroup : "this is cgroup v2"
        }`,
      );
    }
    const container = new Container(cgroup, copy);
    try {
      container.subject = await startOomhero(loopInterval, {
        runtime: { ...runtime, deno: copy.path },
        wrap: (argv) => cgroup.wrap(argv),
        readyMs: 60_000,
        args,
        main,
      });
    } catch (e) {
      container.failure = String(e);
    }
    return container;
  }

  /** The pids in the cgroup. */
  pids(): number[] {
    return Deno.readTextFileSync(`${this.cgroup.dir}/cgroup.procs`).split("\n").filter(Boolean)
      .map(Number);
  }

  /** The cgroup's figures now. */
  figures(): CgroupFigures {
    const read = (file: string) => Deno.readTextFileSync(`${this.cgroup.dir}/${file}`);
    const stat = read("memory.stat");
    const mib = (key: string) =>
      Number(new RegExp(`^${key} (\\d+)$`, "m").exec(stat)?.[1] ?? NaN) / 2 ** 20;
    return {
      oomKills: this.cgroup.oomKills(),
      failcnt: Number(read("memory.failcnt").trim()),
      peakMib: this.cgroup.peakBytes() / 2 ** 20,
      rssMib: mib("total_rss"),
      cacheMib: mib("total_cache"),
      mappedFileMib: mib("total_mapped_file"),
    };
  }

  /** Stops oomhero, removes the cgroup and the copy. */
  async stop(): Promise<void> {
    if (this.subject !== undefined) {
      try {
        this.subject.child.kill("SIGTERM");
      } catch { /* already gone */ }
      await this.subject.child.status;
    }
    this.cgroup.remove();
    this.#copy.remove();
  }
}
