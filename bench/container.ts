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
 * A private copy of `deno` whose pages are in no page cache: written with O_DIRECT on disk
 * (/var/tmp, not tmpfs, whose pages would belong to the writer).
 */
export function coldCopy(deno: string): { path: string; remove: () => void } {
  const dir = Deno.makeTempDirSync({ dir: "/var/tmp", prefix: "oomhero-bench-deno-" });
  const path = `${dir}/deno`;
  const dd = new Deno.Command("dd", {
    args: [`if=${deno}`, `of=${path}`, "bs=4M", "oflag=direct", "status=none"],
    stderr: "inherit",
  }).outputSync();
  if (!dd.success) {
    Deno.removeSync(dir, { recursive: true });
    throw new Error(`dd oflag=direct of ${deno} failed`);
  }
  Deno.chmodSync(path, 0o755);
  return { path, remove: () => Deno.removeSync(dir, { recursive: true }) };
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
   * cgroup all the same), with `runtime`'s Deno copied cold, `args` added, `main` run instead of this tree's. Resolves once it serves /metrics or
   * has failed to within a minute (see {@link failure}); stop it with {@link stop} either way.
   */
  static async start(
    limitMib: number,
    loopInterval: string,
    runtime: RuntimeOptions = {},
    { args, main }: { args?: string[]; main?: string } = {},
  ): Promise<Container> {
    const copy = coldCopy(runtime.deno ?? Deno.execPath());
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
