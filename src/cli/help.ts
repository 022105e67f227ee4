/**
 * The `--help` texts of `oomhero` and `oomhero inspect`, built from the flag tables and the
 * variable list so they cannot drift from what is parsed.
 * @module
 */
import { VARIABLES } from "../collect/variables.ts";
import { FUNCTION_NAMES, FUNCTIONS, PRECEDENCE_TABLE, usage } from "../evaluate/expression.ts";
import { type FlagSpec, INSPECT_FLAGS, MONITOR_FLAGS } from "./flags.ts";

/** The widest `--help` may be, so it reads in a 100-column terminal and in `kubectl logs`. */
export const HELP_WIDTH = 100;
/** Where flag and variable descriptions start. */
const HELP_INDENT = 32;

/**
 * `left` then `text` from column `indent`, wrapped at word boundaries within {@link HELP_WIDTH};
 * a `left` too wide for the indent gets a line of its own.
 */
function helpEntry(left: string, text: string, indent = HELP_INDENT): string {
  const lines: string[] = [];
  let line = left.length < indent ? left.padEnd(indent) : `${left}\n${" ".repeat(indent)}`;
  let empty = true;
  for (const word of text.split(" ")) {
    const lastLine = line.slice(line.lastIndexOf("\n") + 1);
    if (!empty && lastLine.length + 1 + word.length > HELP_WIDTH) {
      lines.push(line);
      line = " ".repeat(indent) + word;
    } else {
      line += (empty ? "" : " ") + word;
    }
    empty = false;
  }
  lines.push(line);
  return lines.join("\n");
}

function flagLines(specs: Readonly<Record<string, FlagSpec>>): string {
  return Object.entries(specs).map(([name, s]) => {
    const short = s.short === undefined ? "" : `-${s.short}, `;
    const left = `  ${short}--${name}${s.value === undefined ? "" : `=${s.value}`}`;
    const def = s.default !== undefined ? ` (default ${s.default === "" ? '""' : s.default})` : "";
    return helpEntry(left, `${s.help}${def}`);
  }).join("\n");
}

/** The functions as `--help` lists them: names for those of one argument, forms for the rest. */
function functionList(): string {
  const plain = FUNCTION_NAMES.filter((f) => FUNCTIONS[f].least === 1 && FUNCTIONS[f].most === 1);
  const special = FUNCTION_NAMES.filter((f) => !plain.includes(f)).map(usage);
  return `${plain.join(" ")} (of x, angles in radians); ${special.join("; ")}`;
}

/** The precedence rows as `--help` lists them: `^, - !, * / %, ...`. */
function precedence(): string {
  return PRECEDENCE_TABLE.map((row) => row.operators.join(" ")).join(", ");
}

/** The monitor's `--help` text. */
export function helpText(): string {
  return `oomhero: signals processes before the OOM killer does.

Usage:
  oomhero --warning=EXPR --critical=EXPR [flags]
  oomhero inspect [flags]      print every visible process with every variable

Flags:
${flagLines(MONITOR_FLAGS)}

${
    helpEntry(
      "EXPR",
      "fasteval's syntax: && || ! > < >= <= == != + - * / % ^ and parentheses " +
        "over numbers and the variables below. A process matches when its expression is true or a " +
        "number >= 1.",
      10,
    )
  }
${
    helpEntry(
      "",
      `Binding, tightest first: ${precedence()}; comparisons do not chain: write ` +
        "70 < x && x < 90.",
      10,
    )
  }
${
    helpEntry(
      "",
      "Numbers: 75, 0.5, 1e3; suffixes k K M G T P E (powers of 1000), " +
        "Ki Mi Gi Ti Pi Ei (of 1024), m u µ n p (milli to pico). 512Mi is 536870912, 512M is " +
        "512000000, 512m is 0.512 (refused next to a byte figure).",
      10,
    )
  }
${helpEntry("", `Functions: ${functionList()}.`, 10)}
${
    helpEntry(
      "DURATION",
      "a number and a unit: ns us µs ms s m h d w (any case; m is minutes). " +
        "A bare number is seconds; terms add (1m30s, 1m 30s, 1m+30s) or, with *, multiply " +
        "(1m*10); fractions such as 1.5s too. From 1ms to 24d.",
      10,
    )
  }
${helpEntry("SIGNAL", "SIGUSR1, USR1, usr1 or a number from 1 to 31.", 10)}
${
    helpEntry(
      "FILE",
      "the webhook's URL and headers, as upstream's YAML or JSON (see the README).",
      10,
    )
  }
${
    helpEntry(
      "ADDR",
      '[host]:port: ":9000" (every IPv4 interface), "127.0.0.1:9000", "[::1]:9000"; "" serves no metrics.',
      10,
    )
  }

Variables:
${VARIABLES.map((v) => helpEntry(`  ${v.name.padEnd(30)} ${v.unit}`, v.description, 41)).join("\n")}
`;
}

/** The `inspect --help` text. */
export function inspectHelpText(): string {
  return `oomhero inspect: print every visible process with every variable and where it came from.

Usage:
  oomhero inspect [--format=table|json] [--pid=PID]... [--include=REGEX]... [--sample=DURATION]

Flags:
${flagLines(INSPECT_FLAGS)}
`;
}
