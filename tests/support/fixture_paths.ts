/**
 * Where the checked-in procfs/cgroupfs trees of tests/fixtures/<layout>/ are.
 * @module
 */
import { cpSync } from "node:fs";
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
  const root = fileURLToPath(new URL(`../fixtures/${layout}`, import.meta.url));
  return { procfs: `${root}/proc`, cgroupfs: `${root}/cgroup` };
}

/** A writable copy of a fixture in a temporary directory, for tests that change it. */
export function copyFixture(layout: FixtureLayout): FixtureRoots & { dir: string } {
  const dir = Deno.makeTempDirSync({ prefix: "oomhero-fixture-" });
  cpSync(fixture(layout).procfs, `${dir}/proc`, { recursive: true });
  cpSync(fixture(layout).cgroupfs, `${dir}/cgroup`, { recursive: true });
  return { procfs: `${dir}/proc`, cgroupfs: `${dir}/cgroup`, dir };
}
