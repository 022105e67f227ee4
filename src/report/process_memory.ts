/**
 * `process_resident_memory_bytes` and `process_virtual_memory_bytes` as prom-client names them,
 * from `/proc/self/statm`. prom-client reads and splits the whole of `/proc/self/status` each
 * scrape for them: measured cold, as a scrape once a second runs, 350 µs against 110 µs here.
 * @module
 */
import type { Registry } from "./prom_client.ts";
import { readKernelFile } from "../kernel/kernel_file.ts";
import { parseAuxvPageSize, parseStatm, type Statm } from "../kernel/procfs.ts";
import { familyLine, ProcessFamily } from "./process_family.ts";

/**
 * Registers the two gauges in `registry`, read from `procDir` (oomhero's own, `/proc/self`, in
 * production) when scraped. A figure that cannot be read is absent, never a stale or made-up
 * value (prom-client would render NaN as `Nan`, which OpenMetrics parsers refuse).
 * @throws {Error} when `procDir`'s auxv cannot be read or has no page size.
 */
export function registerProcessMemory(registry: Registry, procDir = "/proc/self"): void {
  const pageSize = parseAuxvPageSize(Deno.readFileSync(`${procDir}/auxv`));
  const statm = `${procDir}/statm`;
  const gauge = (name: string, help: string, pages: (s: Statm) => number) => {
    const read = (): number | undefined => {
      try {
        return pages(parseStatm(readKernelFile(statm))) * pageSize;
      } catch {
        return undefined;
      }
    };
    new ProcessFamily(registry, name, help, {
      series: () => {
        const value = read();
        return value === undefined ? [] : [{ labels: {}, value }];
      },
      lines: () => {
        const value = read();
        return value === undefined ? [] : [familyLine(name, value)];
      },
    });
  };
  gauge("process_resident_memory_bytes", "Resident memory size in bytes.", (s) => s.resident);
  gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", (s) => s.size);
}
