/**
 * A long-running `sleep` whose command line starts with a name of the test's choosing, so an
 * `--include=^name` watches it and nothing else; optionally inside a memory cgroup.
 * @module
 */
import type { MemoryCgroup } from "../../demo/memory_cgroup.ts";
import { waitFor } from "./live_oomhero.ts";

let pythonPath: string | undefined;

/**
 * The real interpreter behind `python3`, found on first use: version-manager shims would stand
 * between oomhero and the process it signals.
 */
export function python(): string {
  pythonPath ??= new TextDecoder().decode(
    new Deno.Command("python3", { args: ["-c", "import sys; print(sys.executable)"] })
      .outputSync().stdout,
  ).trim();
  return pythonPath;
}

/** Starts `sleep 1000` as `name` (in `cgroup` if given) and waits until /proc shows it so. */
export async function startNamed(name: string, cgroup?: MemoryCgroup): Promise<Deno.ChildProcess> {
  const argv = ["bash", "-c", `exec -a "$0" sleep 1000`, name];
  const [bin, ...args] = cgroup === undefined ? argv : cgroup.wrap(argv);
  const child = new Deno.Command(bin, { args, stdin: "null", stdout: "null" }).spawn();
  await waitForExec(child.pid, name);
  return child;
}

/**
 * Waits until `pid` runs `program`: its first argument is `program` or a path ending in it.
 * Until the exec its command line is its parent's, and during the exec it reads empty, so a
 * scan right after a spawn may not see the process as what it will be.
 */
export async function waitForExec(pid: number, program: string): Promise<void> {
  await waitFor(`pid ${pid} to exec ${program}`, () => {
    try {
      const first = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0")[0];
      return first === program || first.endsWith(`/${program}`) ? true : undefined;
    } catch {
      return undefined;
    }
  });
}

/** Kills `child` with SIGKILL, if still running, and reaps it. */
export async function stopNamed(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch { /* already exited */ }
  await child.status;
}

/** Whether `child` is still running (not yet reaped). */
export async function running(child: Deno.ChildProcess): Promise<boolean> {
  const done = Symbol("running");
  return await Promise.race([child.status, Promise.resolve(done)]) === done;
}
