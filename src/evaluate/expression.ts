/**
 * The threshold expression language, e.g. `memory_usage > 75 || memory_pressure_full_avg60 > 50`.
 *
 * The syntax is the one the original Rust tool took from the `fasteval` crate, minus everything a
 * threshold does not need. Our own tokenizer and parser check the text and give errors with
 * positions; the checked tree is then printed, fully parenthesised, in the syntax of
 * `expr-eval-fork` and compiled once, so evaluating a process never parses again.
 *
 * An expression matches when it is `true` or a number >= 1. Comparisons, `&&`, `||` and `!` give
 * `true` or `false`; arithmetic counts `true` as 1 and `false` as 0; `&&`, `||` and `!` treat any
 * number other than 0 and NaN as true.
 *
 * The pieces, in the order text goes through them: syntax.ts (the vocabulary and the tree) and
 * functions.ts (fasteval's functions), tokenizer.ts, parser.ts (checks, with positions),
 * translate.ts (to the library); this module compiles and evaluates.
 * @module
 */
import type { Expression } from "expr-eval-fork";
import { ExpressionError, type ExpressionNode } from "./syntax.ts";
import { parseExpression } from "./parser.ts";
import { LIBRARY_PARSER, toExprEvalSyntax } from "./translate.ts";

// The language's public face: callers import from here, whichever module holds the piece.
export {
  ExpressionError,
  type ExpressionNode,
  MAX_EXPRESSION_LENGTH,
  MAX_NESTING_DEPTH,
  PRECEDENCE_TABLE,
} from "./syntax.ts";
export { FUNCTION_NAMES, type FunctionName, FUNCTIONS, usage } from "./functions.ts";
export { parseSizeLiteral } from "./tokenizer.ts";
export { parseExpression } from "./parser.ts";
export { toExprEvalSyntax } from "./translate.ts";

/** A compiled expression, evaluated once per process per scan. */
export interface CompiledExpression {
  /** The user's text. */
  readonly source: string;
  /** The variable names it references, sorted, unique. */
  readonly variables: readonly string[];
  /**
   * The value for these variables: a boolean for comparisons and logic, a number otherwise.
   * Throws {@link ExpressionError} if a referenced variable has no numeric value.
   */
  evaluate(vars: Readonly<Record<string, number>>): number | boolean;
  /**
   * Whether the value is `true` or a number >= 1; NaN never matches, and neither does an
   * expression over a variable that is NaN (unreadable), whatever its operators.
   */
  matches(vars: Readonly<Record<string, number>>): boolean;
}

function collectVariables(node: ExpressionNode, into: Set<string>): Set<string> {
  switch (node.kind) {
    case "number":
      break;
    case "variable":
      into.add(node.name);
      break;
    case "unary":
      collectVariables(node.operand, into);
      break;
    case "binary":
      collectVariables(node.left, into);
      collectVariables(node.right, into);
      break;
    case "call":
      for (const arg of node.args) collectVariables(arg, into);
  }
  return into;
}

class Compiled implements CompiledExpression {
  readonly source: string;
  readonly variables: readonly string[];
  readonly #compiled: Expression;
  /**
   * Only the referenced names, in an object without a prototype, reach the library: one such
   * object, each of its names set again before every evaluation. Evaluated for every process
   * every scan, a fresh one (a dictionary to V8) was a quarter of a scan's garbage at 1,000.
   */
  readonly #scope: Record<string, number> = Object.create(null);

  constructor(source: string, variables: readonly string[], compiled: Expression) {
    this.source = source;
    this.variables = variables;
    this.#compiled = compiled;
  }

  evaluate(vars: Readonly<Record<string, number>>): number | boolean {
    const names = this.variables;
    // Indexed: `for…of` over the frozen list allocated an iterator and its results each call.
    for (let i = 0; i < names.length; i++) {
      const value = vars[names[i]];
      if (typeof value !== "number") {
        throw new ExpressionError(`variable "${names[i]}" has no value`);
      }
      this.#scope[names[i]] = value;
    }
    return this.#compiled.evaluate(this.#scope) as number | boolean;
  }

  matches(vars: Readonly<Record<string, number>>): boolean {
    // An unreadable figure (NaN) makes no claim: `!(memory_usage > 90)` must not fire on it.
    const names = this.variables;
    for (let i = 0; i < names.length; i++) if (Number.isNaN(vars[names[i]])) return false;
    const value = this.evaluate(vars);
    return value === true || (typeof value === "number" && value >= 1);
  }
}

/**
 * Checks and compiles a threshold expression once; see the module documentation for the
 * language. Throws {@link ExpressionError}, whose one-line message says what is wrong and where.
 */
export function compileExpression(
  source: string,
  knownNames: readonly string[],
  byteNames: readonly string[] = [],
): CompiledExpression {
  const tree = parseExpression(source, knownNames, byteNames);
  const variables = Object.freeze([...collectVariables(tree, new Set())].sort());
  return new Compiled(source, variables, LIBRARY_PARSER.parse(toExprEvalSyntax(tree)));
}
