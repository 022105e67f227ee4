/**
 * The one error type for bad input at startup: a flag, an expression, a file.
 * @module
 */

/** Bad user input; printed as `oomhero: <input>: <problem>` with exit code 2. */
export class UsageError extends Error {
  /** The flag or input at fault, e.g. `--loop-interval`. */
  readonly input: string;
  /** What is wrong with it. */
  readonly problem: string;

  constructor(input: string, problem: string) {
    super(`oomhero: ${input}: ${problem}`);
    this.name = "UsageError";
    this.input = input;
    this.problem = problem;
  }
}
