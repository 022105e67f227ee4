/**
 * How long one full scan takes: over the live /proc, and over a generated cgroup v2 tree of
 * 1,000 processes in 50 cgroups (10 pods of 5 containers), so figures compare across machines.
 * Run with `./scripts/deno bench --allow-all bench/`.
 */
import { Collector } from "../src/collector.ts";
import { Logger } from "../src/log.ts";

const PROCESSES = 1_000;
const PODS = 10;
const CONTAINERS_PER_POD = 5;

/** Writes the generated tree into a temporary directory and returns its two roots. */
function generateTree(): { root: string; procfs: string; cgroupfs: string } {
  const root = Deno.makeTempDirSync({ prefix: "oomhero-bench-" });
  const procfs = `${root}/proc`;
  const cgroupfs = `${root}/cgroup`;
  const write = (path: string, text: string) => {
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    Deno.writeTextFileSync(path, text);
  };
  const psi = "some avg10=1.00 avg60=0.50 avg300=0.25 total=1000\n" +
    "full avg10=0.50 avg60=0.25 avg300=0.10 total=500\n";
  write(`${procfs}/self/stat`, "1 (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n");
  for (const r of ["memory", "io", "cpu"]) write(`${procfs}/pressure/${r}`, psi);
  write(`${cgroupfs}/cgroup.controllers`, "cpu io memory pids\n");
  write(`${cgroupfs}/kubepods.slice/memory.max`, "max\n");
  const paths: string[] = [];
  for (let pod = 0; pod < PODS; pod++) {
    const podPath = `/kubepods.slice/kubepods-pod${pod}.slice`;
    write(`${cgroupfs}${podPath}/memory.max`, `${(pod + 1) * 1073741824}\n`);
    for (let c = 0; c < CONTAINERS_PER_POD; c++) {
      const path = `${podPath}/cri-containerd-${pod}-${c}.scope`;
      const dir = `${cgroupfs}${path}`;
      write(`${dir}/memory.current`, `${(c + 1) * 104857600}\n`);
      write(`${dir}/memory.max`, "max\n");
      write(`${dir}/memory.stat`, "anon 52428800\nfile 52428800\ninactive_file 10485760\n");
      for (const r of ["memory", "io", "cpu"]) write(`${dir}/${r}.pressure`, psi);
      paths.push(path);
    }
  }
  for (let i = 0; i < PROCESSES; i++) {
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
  }
  return { root, procfs, cgroupfs };
}

const tree = generateTree();
globalThis.addEventListener("unload", () => Deno.removeSync(tree.root, { recursive: true }));

const log = new Logger("error");
const generated = new Collector({ procfs: tree.procfs, cgroupfs: tree.cgroupfs, log });
if (generated.scan().length !== PROCESSES) throw new Error("the generated tree is incomplete");
const live = new Collector({ procfs: "/proc", cgroupfs: "/sys/fs/cgroup", log });

Deno.bench("scan: live /proc", () => {
  live.scan();
});

Deno.bench("scan: 1,000 processes in 50 cgroups (generated cgroup v2 tree)", () => {
  generated.scan();
});
