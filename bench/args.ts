/**
 * The command line of a benchmark script: its options parsed with `node:util`'s `parseArgs`,
 * `--help` answered with the script's own doc comment (its usage), and a bad option answered with
 * one line naming it and exit 2, never a stack trace.
 * @module
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/** The usage of the script at `moduleUrl`: its leading doc comment, without the comment marks. */
export function usageOf(moduleUrl: string): string {
  const source = Deno.readTextFileSync(new URL(moduleUrl));
  const comment = /^\/\*\*\n([\s\S]*?)\n \*\//.exec(source)?.[1] ?? "";
  return comment.split("\n").map((line) => line.replace(/^ \* ?/, ""))
    .filter((line) => line !== "@module").join("\n");
}

/**
 * Parses `args` by `options` for the script at `moduleUrl`. `--help` prints its usage and exits 0;
 * an unknown option or a missing value prints one line and exits 2.
 */
export function benchArgs<T extends ParseArgsOptionsConfig>(
  moduleUrl: string,
  options: T,
  args: string[] = Deno.args,
): ReturnType<typeof parseArgs<{ args: string[]; options: T }>>["values"] {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usageOf(moduleUrl));
    Deno.exit(0);
  }
  try {
    return parseArgs({ args, options }).values;
  } catch (error) {
    const script = new URL(moduleUrl).pathname.split("/").slice(-2).join("/");
    console.error(
      `${script}: ${error instanceof Error ? error.message : String(error)} (see --help)`,
    );
    Deno.exit(2);
  }
}
