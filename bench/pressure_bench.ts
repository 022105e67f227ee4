/**
 * How long one PSI file takes to parse: each scan parses three per cgroup. Run with
 * `./scripts/deno task bench`.
 */
import { parsePressure } from "../src/kernel/pressure.ts";
import { pressureText } from "./fixture_tree.ts";

const text = pressureText(12.5);

Deno.bench("parse: one PSI file (some and full lines)", () => {
  parsePressure(text);
});
