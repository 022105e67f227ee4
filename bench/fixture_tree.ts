/**
 * A generated procfs and cgroup v2 tree for the microbenchmarks: processes spread round-robin over
 * pods of containers, each container a cgroup with memory, stat and pressure files, so that
 * figures compare across machines whatever runs on them.
 * @module
 */

/** The shape of a generated tree. */
export interface TreeShape {
  /** How many /proc/<pid> directories. */
  processes: number;
  /** How many pod cgroups, each with its own limit. */
  pods: number;
  /** How many container cgroups per pod; the processes are spread over all of them. */
  containersPerPod: number;
}

/** The default: 1,000 processes in 50 cgroups (10 pods of 5 containers). */
export const DEFAULT_SHAPE: TreeShape = { processes: 1_000, pods: 10, containersPerPod: 5 };

/** A generated tree on disk. */
export interface FixtureTree {
  /** The temporary directory holding both mounts; {@link removeTree} deletes it. */
  root: string;
  /** The procfs mount to give the collector. */
  procfs: string;
  /** The cgroupfs mount to give the collector. */
  cgroupfs: string;
  /** The pids written, in order. */
  pids: number[];
}

/** The text of a PSI file with the given `some` avg10, the rest fixed. */
export function pressureText(someAvg10 = 1): string {
  return `some avg10=${someAvg10.toFixed(2)} avg60=0.50 avg300=0.25 total=1000\n` +
    "full avg10=0.50 avg60=0.25 avg300=0.10 total=500\n";
}

/** Writes a tree of `shape` into a new temporary directory. */
export function generateTree(shape: TreeShape = DEFAULT_SHAPE): FixtureTree {
  const root = Deno.makeTempDirSync({ prefix: "oomhero-bench-" });
  const procfs = `${root}/proc`;
  const cgroupfs = `${root}/cgroup`;
  const write = (path: string, text: string) => {
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    Deno.writeTextFileSync(path, text);
  };
  const psi = pressureText();
  write(`${procfs}/self/stat`, "1 (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n");
  for (const r of ["memory", "io", "cpu"]) write(`${procfs}/pressure/${r}`, psi);
  write(`${cgroupfs}/cgroup.controllers`, "cpu io memory pids\n");
  write(`${cgroupfs}/kubepods.slice/memory.max`, "max\n");
  const paths: string[] = [];
  for (let pod = 0; pod < shape.pods; pod++) {
    const podPath = `/kubepods.slice/kubepods-pod${pod}.slice`;
    write(`${cgroupfs}${podPath}/memory.max`, `${(pod + 1) * 1073741824}\n`);
    for (let c = 0; c < shape.containersPerPod; c++) {
      const path = `${podPath}/cri-containerd-${pod}-${c}.scope`;
      const dir = `${cgroupfs}${path}`;
      write(`${dir}/memory.current`, `${(c + 1) * 104857600}\n`);
      write(`${dir}/memory.max`, "max\n");
      write(`${dir}/memory.stat`, "anon 52428800\nfile 52428800\ninactive_file 10485760\n");
      for (const r of ["memory", "io", "cpu"]) write(`${dir}/${r}.pressure`, psi);
      paths.push(path);
    }
  }
  const pids: number[] = [];
  for (let i = 0; i < shape.processes; i++) {
    const pid = 1000 + i;
    const dir = `${procfs}/${pid}`;
    write(
      `${dir}/stat`,
      `${pid} (worker ${i}) S 1 ${pid} ${pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 ${
        5000 + i
      } 0 0\n`,
    );
    write(`${dir}/cmdline`, `/usr/bin/worker\0--id\0${i}\0`);
    write(`${dir}/cgroup`, `0::${paths[i % paths.length]}\n`);
    write(`${dir}/oom_score`, "666\n");
    write(`${dir}/oom_score_adj`, "0\n");
    pids.push(pid);
  }
  return { root, procfs, cgroupfs, pids };
}

/** Deletes a generated tree. */
export function removeTree(tree: FixtureTree): void {
  Deno.removeSync(tree.root, { recursive: true });
}
