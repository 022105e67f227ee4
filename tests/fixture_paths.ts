/**
 * Where the checked-in procfs/cgroupfs trees of tests/fixtures/<layout>/ are.
 * @module
 */
import { fileURLToPath } from "node:url";

/** The fixture layouts, one per way the kernel's trees can look from oomhero. */
export type FixtureLayout = "v2-host" | "v2-container" | "v1-container" | "hybrid-host";

/** The two roots of one fixture layout. */
export interface FixtureRoots {
  procfs: string;
  cgroupfs: string;
}

/** The procfs and cgroupfs roots of `layout`. */
export function fixture(layout: FixtureLayout): FixtureRoots {
  const root = fileURLToPath(new URL(`./fixtures/${layout}`, import.meta.url));
  return { procfs: `${root}/proc`, cgroupfs: `${root}/cgroup` };
}
