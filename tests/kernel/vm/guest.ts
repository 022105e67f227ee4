/**
 * The checks' runner inside the cgroup v2 VM (tests/kernel/vm/init.sh starts it; tests/kernel/vm/vm.ts reads
 * what it writes). Usage: guest.ts RESULTS_FILE CHECK...
 * Runs each named check in turn, each bounded in time, and appends one JSON line
 * ({@link VmResult}) per assertion to RESULTS_FILE, a file on the host's writable 9p export; a
 * check that fails before asserting reports `setup`. Progress goes to the console.
 * @module
 */
import { CHECK_NAMES, type CheckName, MARKER, type VmResult } from "./vm.ts";
import { CGROUPFS, removeCgroups } from "./guest_kernel.ts";
import { hostView } from "./check_host_view.ts";
import { containerView } from "./check_container_view.ts";
import { cgroupMove } from "./check_cgroup_move.ts";
import { monitor } from "./check_monitor.ts";

/** Records a check's assertions. */
export interface Recorder {
  /**
   * Runs one assertion: `fn` returns what was seen (the result's message) or throws why it
   * failed. Never throws itself, so one failed assertion does not hide the next.
   */
  assert(name: string, fn: () => string): void;
}

/** A check: sets up its processes and cgroups, asserts through `rec`, and cleans up. */
export type Check = (rec: Recorder) => Promise<void>;

const CHECKS: Record<CheckName, Check> = {
  "host-view": hostView,
  "container-view": containerView,
  "cgroup-move": cgroupMove,
  "monitor": monitor,
};

/** Bound of one check; the host bounds the whole boot. */
const CHECK_TIMEOUT_MS = 150_000;

const [resultsFile, ...names] = Deno.args;
// As on a node: the root delegates memory (and cpuset, for the CPU load of the host view).
Deno.writeTextFileSync(`${CGROUPFS}/cgroup.subtree_control`, "+memory +cpuset");

/** Seconds since the guest booted. */
function uptime(): string {
  return Deno.readTextFileSync("/proc/uptime").split(" ")[0];
}

function emit(result: VmResult): void {
  Deno.writeTextFileSync(resultsFile, `${JSON.stringify(result)}\n`, { append: true });
  console.log(
    `${MARKER} ${result.ok ? "ok" : "FAIL"} ${result.check}: ${result.name} ` +
      `(${result.seconds.toFixed(1)} s)`,
  );
}

for (const name of names) {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const check = CHECKS[name as CheckName];
  if (check === undefined) {
    emit({
      check: name,
      name: "setup",
      ok: false,
      message: `no such check; known: ${CHECK_NAMES.join(", ")}`,
      seconds: 0,
    });
    continue;
  }
  console.log(`${MARKER} check ${name} at ${uptime()} s`);
  const rec: Recorder = {
    assert(what, fn) {
      try {
        emit({ check: name, name: what, ok: true, message: fn(), seconds: seconds() });
      } catch (e) {
        emit({
          check: name,
          name: what,
          ok: false,
          message: (e as Error).message,
          seconds: seconds(),
        });
      }
    },
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      check(rec),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS / 1000} s`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (e) {
    emit({ check: name, name: "setup", ok: false, message: String(e), seconds: seconds() });
  } finally {
    clearTimeout(timer);
    await removeCgroups().catch((e) => console.log(`${MARKER} cleanup: ${e}`));
  }
  console.log(`${MARKER} done ${name} in ${seconds().toFixed(1)} s, at ${uptime()} s`);
}
// Whatever a timed-out check left running must not keep the guest up.
Deno.exit(0);
