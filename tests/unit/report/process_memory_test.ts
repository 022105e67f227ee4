import assert from "node:assert/strict";
import { Registry } from "../../../src/report/prom_client.ts";
import { registerProcessMemory } from "../../../src/report/process_memory.ts";

/** The value of a gauge without labels in `registry`'s text; undefined when it has none. */
async function value(registry: Registry, name: string): Promise<string | undefined> {
  const text = await registry.metrics();
  assert.ok(text.includes(`# TYPE ${name} gauge\n`), `${name} is registered`);
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line?.slice(name.length + 1);
}

Deno.test("process memory gauges: statm's pages in bytes, absent when statm cannot be read", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "oomhero-statm-" });
  try {
    // The page size from our own auxiliary vector; the sizes from a statm we write.
    Deno.writeFileSync(`${dir}/auxv`, Deno.readFileSync("/proc/self/auxv"));
    const page =
      Number(Deno.readTextFileSync("/proc/self/smaps").match(/KernelPageSize:\s+(\d+)/)![1]) *
      1024;
    Deno.writeTextFileSync(`${dir}/statm`, "300 200 100 50 0 80 0\n");
    const registry = new Registry();
    registerProcessMemory(registry, dir);
    assert.equal(await value(registry, "process_resident_memory_bytes"), String(200 * page));
    assert.equal(await value(registry, "process_virtual_memory_bytes"), String(300 * page));
    // Read afresh at each scrape; unreadable is absent, not the last value nor 0.
    Deno.writeTextFileSync(`${dir}/statm`, "301 201 100 50 0 80 0\n");
    assert.equal(await value(registry, "process_resident_memory_bytes"), String(201 * page));
    Deno.removeSync(`${dir}/statm`);
    assert.equal(await value(registry, "process_resident_memory_bytes"), undefined);
    assert.equal(await value(registry, "process_virtual_memory_bytes"), undefined);
    // As JSON too.
    const json = await registry.getMetricsAsJSON();
    assert.deepEqual(json.find((m) => m.name === "process_virtual_memory_bytes")?.values, []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("process memory gauges: oomhero's own figures are status's VmRSS and VmSize", async () => {
  const registry = new Registry();
  registerProcessMemory(registry);
  const kib = (key: string) =>
    Number(
      new RegExp(`^${key}:\\s+(\\d+) kB$`, "m").exec(
        Deno.readTextFileSync("/proc/self/status"),
      )![1],
    ) * 1024;
  // Read around the scrape, by a process that allocates meanwhile: between the two, as status
  // would state it then.
  const rssBefore = kib("VmRSS");
  const rss = Number(await value(registry, "process_resident_memory_bytes"));
  const rssAfter = kib("VmRSS");
  const slack = 1024 * 1024;
  assert.ok(rss >= Math.min(rssBefore, rssAfter) - slack, `${rss} vs ${rssBefore}`);
  assert.ok(rss <= Math.max(rssBefore, rssAfter) + slack, `${rss} vs ${rssAfter}`);
  const size = Number(await value(registry, "process_virtual_memory_bytes"));
  assert.ok(Math.abs(size - kib("VmSize")) < 64 * 1024 * 1024, `${size} vs ${kib("VmSize")}`);
});
