/**
 * A made-up {@link ProcessSample} for tests that drive the monitor without a kernel.
 * @module
 */
import type { ProcessSample } from "../src/sample.ts";
import { VARIABLE_NAMES } from "../src/variables.ts";

/** A process whose variables are all 0 except those given; its start time is 1000 + pid. */
export function fakeSample(
  pid: number,
  vars: Record<string, number>,
  cmdline = `app-${pid}`,
): ProcessSample {
  const variables = Object.fromEntries(VARIABLE_NAMES.map((n) => [n, 0]));
  return {
    pid,
    startTime: 1000 + pid,
    cmdline,
    firstArg: cmdline.split(" ")[0],
    source: {
      version: 2,
      view: "host",
      path: "/",
      memoryDir: "/",
      limitDir: "",
      pressureSource: "/proc/pressure",
    },
    variables: { ...variables, ...vars },
  };
}
