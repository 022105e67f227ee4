/**
 * The `--help` texts of `oomhero` and `oomhero inspect`, built from the flag tables and the
 * variable list so they cannot drift from what is parsed.
 * @module
 */
import { VARIABLES } from "../collect/variables.ts";
import { type FlagSpec, INSPECT_FLAGS, MONITOR_FLAGS } from "./flags.ts";

function flagLines(specs: Readonly<Record<string, FlagSpec>>): string {
  return Object.entries(specs).map(([name, s]) => {
    const left = `  --${name}${s.type === "string" ? "=VALUE" : ""}`;
    const def = s.default !== undefined ? ` (default ${s.default === "" ? '""' : s.default})` : "";
    return `${left.padEnd(30)} ${s.help}${def}`;
  }).join("\n");
}

/** The monitor's `--help` text. */
export function helpText(): string {
  return `oomhero: signals processes before the OOM killer does.

Usage:
  oomhero --warning=EXPR --critical=EXPR [flags]
  oomhero inspect [flags]      print every visible process with every variable

Flags:
${flagLines(MONITOR_FLAGS)}

Expressions use && || ! > < >= <= == != + - * / % ^, parentheses, numbers, sizes (512Mi, 2G)
and min max abs floor ceil round. A process matches when the expression is true or >= 1.
Variables:
${VARIABLES.map((v) => `  ${v.name.padEnd(30)} ${v.unit.padEnd(7)} ${v.description}`).join("\n")}
`;
}

/** The `inspect --help` text. */
export function inspectHelpText(): string {
  return `oomhero inspect: print every visible process with every variable and where it came from.

Usage:
  oomhero inspect [--format=table|json] [--pid=N]... [--include=REGEX]... [--sample=DURATION]

Flags:
${flagLines(INSPECT_FLAGS)}
`;
}
