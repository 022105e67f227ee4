/**
 * The least a Deno process can spend on a scan of oomhero's (`deno-reads` in the footprint
 * benchmark): woken every INTERVAL ms, it reads through kept descriptors the files a scan with
 * the benchmark's thresholds (on `memory_usage`) reads for every process it watches, with
 * oomhero's own reader and parsers, and does nothing else: no listing, no evaluation, no metrics,
 * no scrape. The files are `/proc/loadavg`, each visible process's cgroup file, and its memory
 * cgroup's usage and the limits from there up to the hierarchy's root (once per cgroup and
 * wake-up, as a scan caches them). The processes are those visible at start that have a command
 * line, less this one.
 *
 *   deno run --allow-all bench/reads.ts INTERVAL_MS [PROCFS] [CGROUPFS]
 * @module
 */
import {
  ancestors,
  detectLayout,
  joinCgroupPath,
  layoutMounts,
  layoutVersion,
  MEMORY_FILES,
  memoryPath,
  parseMemoryBytes,
  parseMemoryLimit,
} from "../src/kernel/cgroup.ts";
import { readKernelFile, readOpenKernelFile } from "../src/kernel/kernel_file.ts";
import { parseLoadavgLastPid } from "../src/kernel/loadavg.ts";
import { parseProcCgroup } from "../src/kernel/procfs.ts";

/** A file a scan reads, and how its text is taken as a number. */
export interface ScanFile {
  path: string;
  parse: (text: string) => number;
}

/**
 * The files a scan with thresholds on `memory_usage` reads for the processes visible in `procfs`
 * now (those with a command line, less `selfPid`): `loadavg` first, then per process its cgroup
 * file, then each of their memory cgroups' usage and every limit file up to the root, once each.
 * @throws {Error} when `cgroupfs` has no memory controller.
 */
export function scanFiles(procfs: string, cgroupfs: string, selfPid = Deno.pid): ScanFile[] {
  const layout = detectLayout(cgroupfs);
  if (layout === undefined) throw new Error(`no memory controller under ${cgroupfs}`);
  const version = layoutVersion(layout);
  const root = layoutMounts(layout, cgroupfs).memory;
  const files = MEMORY_FILES[version];
  const out: ScanFile[] = [
    { path: `${procfs}/loadavg`, parse: parseLoadavgLastPid },
  ];
  const usages = new Set<string>();
  const limits = new Set<string>();
  for (const entry of Deno.readDirSync(procfs)) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === selfPid) continue;
    const dir = `${procfs}/${entry.name}`;
    let path: string | undefined;
    try {
      if (readKernelFile(`${dir}/cmdline`) === "") continue;
      path = memoryPath(version, parseProcCgroup(readKernelFile(`${dir}/cgroup`)));
    } catch {
      continue; // gone meanwhile
    }
    if (path === undefined) continue;
    const memoryDir = joinCgroupPath(root, path);
    out.push({ path: `${dir}/cgroup`, parse: (text) => text.length });
    usages.add(`${memoryDir}/${files.current}`);
    for (const limitDir of ancestors(memoryDir, root)) limits.add(`${limitDir}/${files.limit}`);
  }
  for (const path of usages) out.push({ path, parse: parseMemoryBytes });
  for (const path of limits) {
    // The v2 root has no memory.max.
    try {
      Deno.statSync(path);
      out.push({ path, parse: parseMemoryLimit });
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return out;
}

if (import.meta.main) {
  const [interval, procfs = "/proc", cgroupfs = "/sys/fs/cgroup"] = Deno.args;
  const kept = scanFiles(procfs, cgroupfs).map((f) => ({ ...f, file: Deno.openSync(f.path) }));
  // What the parsed numbers add up to, so that nothing read is unused.
  let sum = 0;
  setInterval(() => {
    for (const { file, path, parse } of kept) sum += parse(readOpenKernelFile(file, path));
  }, Number(interval));
}
