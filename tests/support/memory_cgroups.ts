/**
 * Whether this machine lets the tests make memory cgroups (root, a writable memory controller),
 * so tests that need them skip with the reason instead of failing.
 * @module
 */
import { MemoryCgroup } from "../../demo/memory_cgroup.ts";

/** Why memory cgroups cannot be made here, or undefined when they can: one is made and removed. */
export function memoryCgroupsUnavailable(): string | undefined {
  const probe = MemoryCgroup.create(`oomhero-probe-${crypto.randomUUID().slice(0, 8)}`, 1 << 26);
  if (typeof probe === "string") return probe;
  probe.remove();
  return undefined;
}
