/**
 * The syscall floor (bench/floor.c): built on demand with the system's C compiler, and run in
 * its timing mode.
 * @module
 */
import { fileURLToPath } from "node:url";

const SOURCE = fileURLToPath(new URL("floor.c", import.meta.url));
const BINARY = fileURLToPath(new URL("out/floor", import.meta.url));

/** Compiles bench/floor.c into bench/out/floor when the binary is missing or older; its path. */
export function floorBinary(): string {
  let stale = true;
  try {
    stale = Deno.statSync(BINARY).mtime! < Deno.statSync(SOURCE).mtime!;
  } catch { /* not built yet */ }
  if (stale) {
    Deno.mkdirSync(fileURLToPath(new URL("out", import.meta.url)), { recursive: true });
    const cc = new Deno.Command("cc", { args: ["-O2", "-o", BINARY, SOURCE], stderr: "inherit" })
      .outputSync();
    if (!cc.success) throw new Error("cc -O2 bench/floor.c failed (apt-get install -y gcc)");
  }
  return BINARY;
}

/** What `floor scan COUNT` prints: medians over COUNT scans after one warm-up scan. */
export interface FloorScan {
  /** Processes sampled by the last scan. */
  processes: number;
  /** Scans timed. */
  scans: number;
  /** Median wall time of one scan. */
  median_ms: number;
  /** Median CPU time of one scan. */
  cpu_median_ms: number;
}

/** Times `scans` full scans of the floor over the live /proc and cgroupfs. */
export function floorScan(scans: number): FloorScan {
  const out = new Deno.Command(floorBinary(), { args: ["scan", String(scans)], stderr: "inherit" })
    .outputSync();
  if (!out.success) throw new Error("bench/out/floor scan failed");
  return JSON.parse(new TextDecoder().decode(out.stdout));
}
