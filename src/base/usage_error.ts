/**
 * The one error type for bad input at startup: a flag, an expression, a file.
 * @module
 */

/** The most characters of an input or a problem a message shows whole. */
const MAX_SHOWN = 1_000;
/** Characters kept from each end of a longer one. */
const END_SHOWN = 400;

/**
 * `text` fit for the one line of the message: control characters escaped (a value with a newline
 * would split it), and the middle of a huge one (a 1 MB flag value) left out, both ends kept.
 */
function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex
  const escaped = text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`);
  if (escaped.length <= MAX_SHOWN) return escaped;
  const omitted = escaped.length - 2 * END_SHOWN;
  return `${escaped.slice(0, END_SHOWN)}…(${omitted} characters left out)…${
    escaped.slice(-END_SHOWN)
  }`;
}

/** Bad user input; printed as `oomhero: <input>: <problem>` with exit code 2. */
export class UsageError extends Error {
  /** The flag or input at fault, e.g. `--loop-interval`. */
  readonly input: string;
  /** What is wrong with it. */
  readonly problem: string;

  constructor(input: string, problem: string) {
    super(`oomhero: ${oneLine(input)}: ${oneLine(problem)}`);
    this.name = "UsageError";
    this.input = input;
    this.problem = problem;
  }
}
