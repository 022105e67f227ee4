import assert from "node:assert/strict";
import { usageOf } from "../../../bench/args.ts";

const REACTION = new URL("../../../bench/reaction.ts", import.meta.url);

/** Runs a benchmark script with `args` as the CLI would, without letting it measure anything. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", REACTION.pathname, ...args],
    stdin: "null",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("a benchmark's usage is its doc comment, without the comment marks", () => {
  const usage = usageOf(REACTION.href);
  assert.match(usage, /^Reaction time: from the moment/);
  assert.match(
    usage,
    /\n {2}\.\/scripts\/deno run --allow-all bench\/reaction\.ts \[--seconds 40\]/,
  );
  assert.doesNotMatch(usage, /^ \*|\*\/|@module/m);
});

Deno.test("--help prints the usage and exits 0; a bad option is one line and exit 2", async () => {
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.equal(help.stdout.trim(), usageOf(REACTION.href).trim());
  const bad = await run(["--second", "5"]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, "");
  assert.equal(bad.stderr, "bench/reaction.ts: Unknown option '--second' (see --help)\n");
});
