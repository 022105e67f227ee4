/**
 * Runs a benchmark in a PID namespace of its own, with its own /proc, so that oomhero and the
 * tools it is compared with see exactly the processes the benchmark starts, not the whole
 * (shared, busy) machine. This is the view a sidecar has in a pod with shareProcessNamespace.
 * @module
 */
import { fileURLToPath } from "node:url";

const INSIDE = "OOMHERO_BENCH_PID_NAMESPACE";

/**
 * Inside the namespace: returns at once. Outside: runs the main module again inside one, with
 * the same arguments, under a bash that reaps orphans as pid 1, and exits with its exit code.
 * Inside, the processes watched are the benchmark's own plus 2: that bash and the benchmark.
 */
export async function enterPidNamespace(): Promise<void> {
  if (Deno.env.get(INSIDE) === "1") return;
  const script = fileURLToPath(Deno.mainModule);
  const { code } = await new Deno.Command("unshare", {
    args: [
      "--pid",
      "--fork",
      "--mount-proc",
      "bash",
      "-c",
      // `wait $!` returns when the benchmark ends; bash reaps every orphan meanwhile.
      '"$@" & wait $!',
      "bash",
      Deno.execPath(),
      "run",
      "--allow-all",
      script,
      ...Deno.args,
    ],
    env: { [INSIDE]: "1" },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  Deno.exit(code);
}
