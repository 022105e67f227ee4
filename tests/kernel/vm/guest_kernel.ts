/**
 * What the checks inside the cgroup v2 VM share: cgroups under /sys/fs/cgroup/oomhero-vm, the
 * processes put into them, the kernel's own figures read from their files, and oomhero's
 * `inspect --format json`. Runs in the guest only (tests/kernel/vm/guest.ts), where it is alone.
 * @module
 */
import {
  parseInactiveFile,
  parseMemoryBytes,
  parseMemoryLimit,
} from "../../../src/kernel/cgroup.ts";
import { parsePressure, type Pressure } from "../../../src/kernel/pressure.ts";
import { oomheroArgv } from "../../../scripts/runtime_flags.ts";
import { waitFor } from "../../support/live_oomhero.ts";
import { lines } from "../../../demo/scenario.ts";

export const MIB = 1024 * 1024;
/** The guest's cgroup2 mount. */
export const CGROUPFS = "/sys/fs/cgroup";
/** Every cgroup of the checks is below this one. */
export const BASE = "oomhero-vm";
/** In the command line of every process a check starts, for `--include`. */
export const TAG = "oomhero-vm-";
/** Matches {@link TAG} but not itself, so oomhero's own command line stays out. */
export const TAG_INCLUDE = "oomhero-vm[-]";

/** The directory of cgroup `path` (relative to {@link CGROUPFS}). */
export function cgroupDir(path: string): string {
  return `${CGROUPFS}/${path}`;
}

function read(file: string): string {
  return Deno.readTextFileSync(file);
}

function write(file: string, text: string): void {
  Deno.writeTextFileSync(file, text);
}

/**
 * Creates cgroup `path` and its missing ancestors, each parent delegating the memory and cpuset
 * controllers, and sets `memory.max` when given.
 */
export function makeCgroup(path: string, memoryMax?: number): string {
  let dir = CGROUPFS;
  for (const part of path.split("/")) {
    write(`${dir}/cgroup.subtree_control`, "+memory +cpuset");
    dir = `${dir}/${part}`;
    Deno.mkdirSync(dir, { recursive: true });
  }
  if (memoryMax !== undefined) write(`${dir}/memory.max`, String(memoryMax));
  write(`${dir}/memory.swap.max`, "0");
  return dir;
}

/** Kills what is left in every cgroup below {@link BASE} and removes them, deepest first. */
export async function removeCgroups(): Promise<void> {
  const dirs: string[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory) walk(`${dir}/${e.name}`);
    }
    dirs.push(dir);
  };
  try {
    walk(cgroupDir(BASE));
  } catch {
    return; // Never created.
  }
  for (const dir of dirs) {
    await waitFor(`rmdir ${dir}`, () => {
      for (const pid of read(`${dir}/cgroup.procs`).split("\n").filter(Boolean)) {
        try {
          Deno.kill(Number(pid), "SIGKILL");
        } catch { /* gone meanwhile */ }
      }
      try {
        Deno.removeSync(dir);
        return true;
      } catch {
        return undefined; // Busy until the killed processes are reaped.
      }
    }, { timeoutMs: 10_000, everyMs: 50 });
  }
}

/** Quotes `word` for sh. */
export function q(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Shell that moves itself into cgroup `path`, then runs `then`. */
export function joinThen(path: string, then: string): string {
  return `echo $$ > ${cgroupDir(path)}/cgroup.procs && ${then}`;
}

/**
 * Python that holds `mib` MiB of written (so charged) memory, and with a file argument also
 * writes that many MiB to it (page cache), says `ready` and sleeps. Run by {@link HOLD_BOOT} so
 * that the role comes right after it: oomhero shows only the start of a command line.
 */
const HOLD = [
  "import os, sys, time",
  "held = b'x' * (int(sys.argv[3]) << 20)",
  "if len(sys.argv) > 4:",
  "  f = open(sys.argv[4], 'wb'); f.write(b'y' * (int(sys.argv[3]) << 20)); f.close()",
  "  os.sync()",
  "print('ready', flush=True)",
  "time.sleep(1e6)",
].join("\n");

/** `python3 -c HOLD_BOOT ROLE HOLD MIB [FILE]` runs {@link HOLD}. */
const HOLD_BOOT = "import sys; exec(sys.argv[2])";

/** A process a check started. */
export interface Proc {
  child: Deno.ChildProcess;
  /** Its pid as this (the guest's initial) pid namespace sees it. */
  pid: number;
}

/** The argv of a memory holder (see {@link HOLD}) tagged `role`. */
export function holderArgv(role: string, mib: number, file?: string): string[] {
  return ["python3", "-c", HOLD_BOOT, `${TAG}${role}`, HOLD, String(mib), ...(file ? [file] : [])];
}

/** How long a process may take to say `ready`: Python's start under emulation. */
const READY_MS = 60_000;

/**
 * Runs `shell` (e.g. {@link joinThen} and an exec of {@link holderArgv}) and waits for its first
 * stdout line, `ready`; returns it with the pid of the process with the argument {@link TAG} +
 * `role`. Kills it when it says anything else or nothing in time.
 */
export async function startReady(shell: string, role: string): Promise<Proc> {
  const child = new Deno.Command("sh", {
    args: ["-c", shell],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out = lines(child.stdout)[Symbol.asyncIterator]();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const first = await Promise.race([
      out.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${role} not ready in ${READY_MS} ms`)),
          READY_MS,
        );
      }),
    ]);
    if (first.done || first.value !== "ready") throw new Error(`${role} said ${first.value}`);
    // Drain the rest so the pipe never fills.
    (async () => {
      for (let r = await out.next(); !r.done; r = await out.next()) { /* nothing */ }
    })();
    return { child, pid: pidOf(role) };
  } catch (e) {
    await stopAll([child]);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** The pid, in this pid namespace, of the process with the argument `TAG + role`. */
export function pidOf(role: string): number {
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const args = read(`/proc/${e.name}/cmdline`).split("\0");
      if (args.includes(`${TAG}${role}`)) return Number(e.name);
    } catch { /* exited */ }
  }
  throw new Error(`no process ${TAG}${role}`);
}

/** Kills the processes and waits for them. */
export async function stopAll(procs: Iterable<Proc | Deno.ChildProcess>): Promise<void> {
  const children = [...procs].map((p) => "child" in p ? p.child : p);
  for (const c of children) {
    try {
      c.kill("SIGKILL");
    } catch { /* exited */ }
  }
  await Promise.all(children.map((c) => c.status));
}

/** The kernel's own figures of one cgroup, read from its files. */
export interface KernelFigures {
  /** memory.current. */
  current: number;
  /** The smallest memory.max of the cgroup and its ancestors; 0 for none. */
  limit: number;
  /** inactive_file of memory.stat. */
  inactiveFile: number;
  memory: Pressure;
  io: Pressure;
  cpu: Pressure;
}

/** Reads the figures of cgroup `path`. */
export function kernelFigures(path: string): KernelFigures {
  const dir = cgroupDir(path);
  let limit = Infinity;
  for (let d = dir; d !== CGROUPFS; d = d.slice(0, d.lastIndexOf("/"))) {
    const max = parseMemoryLimit(read(`${d}/memory.max`));
    if (max > 0) limit = Math.min(limit, max);
  }
  return {
    current: parseMemoryBytes(read(`${dir}/memory.current`)),
    limit: limit === Infinity ? 0 : limit,
    inactiveFile: parseInactiveFile(read(`${dir}/memory.stat`), 2),
    memory: parsePressure(read(`${dir}/memory.pressure`)),
    io: parsePressure(read(`${dir}/io.pressure`)),
    cpu: parsePressure(read(`${dir}/cpu.pressure`)),
  };
}

/** The system-wide pressure of /proc/pressure/<resource>. */
export function rootPressure(resource: "memory" | "io" | "cpu"): Pressure {
  return parsePressure(read(`/proc/pressure/${resource}`));
}

/** One process of `inspect --format json`. */
export type Seen = Record<string, unknown>;

/** Throws unless `value` is a number within [a, b] (either order) widened by `slack`. */
export function assertBetween(value: unknown, a: number, b: number, slack: number, what: string) {
  if (typeof value !== "number") throw new Error(`${what}: oomhero says ${value}`);
  const [lo, hi] = [Math.min(a, b) - slack, Math.max(a, b) + slack];
  if (value < lo || value > hi) {
    throw new Error(`${what}: oomhero says ${value}, the kernel said ${a} before and ${b} after`);
  }
}

/** Throws unless `actual` equals `expected`. */
export function assertEqual(actual: unknown, expected: unknown, what: string): void {
  if (actual !== expected) {
    throw new Error(`${what}: oomhero says ${JSON.stringify(actual)}, expected ${expected}`);
  }
}

/** Bytes in MiB with one decimal, for result messages. */
export function mib(bytes: unknown): string {
  return typeof bytes === "number" ? `${(bytes / MIB).toFixed(1)} MiB` : String(bytes);
}

/**
 * Runs `oomhero inspect --format json --sample 0` over our tagged processes, its argv passed
 * through `wrap` (e.g. to run it in a container), and returns its processes and its log.
 */
export async function inspectJson(
  wrap: (argv: string[]) => string[] = (argv) => argv,
): Promise<{ seen: Seen[]; log: string }> {
  const argv = wrap(
    oomheroArgv(["inspect", "--format", "json", "--sample", "0", `--include=${TAG_INCLUDE}`]),
  );
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  const log = dec.decode(out.stderr);
  if (!out.success) throw new Error(`inspect exited ${out.code}: ${log}`);
  return { seen: JSON.parse(dec.decode(out.stdout)), log };
}

/** The process of `seen` with the argument `TAG + role` (within the part oomhero shows). */
export function byRole(seen: Seen[], role: string): Seen {
  const found = seen.find((s) => ` ${s.cmdline} `.includes(` ${TAG}${role} `));
  if (found === undefined) throw new Error(`inspect does not list ${TAG}${role}`);
  return found;
}
