/**
 * The threshold language's vocabulary: its limits, operators and their precedence, number
 * suffixes, the checked tree the parser builds, and the words and characters it refuses with a
 * hint. The functions are in functions.ts.
 * @module
 */
import type { FunctionName } from "./functions.ts";

/** Longer expressions are rejected before tokenizing, so huge input fails at once. */
export const MAX_EXPRESSION_LENGTH = 4096;
/** Deeper nesting of parentheses, calls, prefix operators and exponents is rejected. */
export const MAX_NESTING_DEPTH = 64;

/** A prefix operator: `-` negates, `!` is logical not. */
export type UnaryOperator = "-" | "!";
/** An infix operator. */
export type BinaryOperator =
  | "||"
  | "&&"
  | ">"
  | "<"
  | ">="
  | "<="
  | "=="
  | "!="
  | "+"
  | "-"
  | "*"
  | "/"
  | "%"
  | "^";

/** One row of the precedence table. */
export interface PrecedenceRow {
  /** The operators of this row, which bind equally tightly. */
  readonly operators: readonly string[];
  /** What they do. */
  readonly meaning: string;
  /** How a chain of them groups; `none` means they cannot be chained. */
  readonly associativity: "left" | "right" | "none";
}

/** Operator precedence, tightest first, for the README and `--help`. */
export const PRECEDENCE_TABLE: readonly PrecedenceRow[] = [
  {
    operators: ["^"],
    meaning: "power: 2^3^2 is 2^9, -2^2 is -4, 2^-1 is 0.5",
    associativity: "right",
  },
  { operators: ["-", "!"], meaning: "prefix negation and logical not", associativity: "right" },
  { operators: ["*", "/", "%"], meaning: "multiply, divide, remainder", associativity: "left" },
  { operators: ["+", "-"], meaning: "add, subtract", associativity: "left" },
  {
    operators: [">", "<", ">=", "<=", "==", "!="],
    meaning: "compare, giving true or false; write 1 < x && x < 5, not 1 < x < 5",
    associativity: "none",
  },
  { operators: ["&&"], meaning: "logical and", associativity: "left" },
  { operators: ["||"], meaning: "logical or", associativity: "left" },
];

/** A numeric literal, size suffix already applied. */
export interface NumberNode {
  /** Discriminant. */
  readonly kind: "number";
  /** The value, e.g. 536870912 for `512Mi`. */
  readonly value: number;
  /** The literal as written, e.g. `512Mi`. */
  readonly text: string;
  /** 1-based offset of the literal in the source. */
  readonly position: number;
}

/** A reference to a variable. */
export interface VariableNode {
  /** Discriminant. */
  readonly kind: "variable";
  /** The variable name. */
  readonly name: string;
  /** 1-based offset of the name in the source. */
  readonly position: number;
}

/** A prefix operator applied to its operand. */
export interface UnaryNode {
  /** Discriminant. */
  readonly kind: "unary";
  /** `-` or `!`. */
  readonly operator: UnaryOperator;
  /** What it applies to. */
  readonly operand: ExpressionNode;
  /** 1-based offset of the operator in the source. */
  readonly position: number;
}

/** An infix operator applied to two operands. */
export interface BinaryNode {
  /** Discriminant. */
  readonly kind: "binary";
  /** The operator as written. */
  readonly operator: BinaryOperator;
  /** Left operand. */
  readonly left: ExpressionNode;
  /** Right operand. */
  readonly right: ExpressionNode;
  /** 1-based offset of the operator in the source. */
  readonly position: number;
}

/** A call of one of the functions of functions.ts. */
export interface CallNode {
  /** Discriminant. */
  readonly kind: "call";
  /** The function called. */
  readonly name: FunctionName;
  /** Its arguments, as many as its arity allows. */
  readonly args: readonly ExpressionNode[];
  /** 1-based offset of the function name in the source. */
  readonly position: number;
}

/** A parsed, checked expression; parentheses leave no node of their own. */
export type ExpressionNode = NumberNode | VariableNode | UnaryNode | BinaryNode | CallNode;

/** A problem with an expression's text, or a missing variable value at evaluation. */
export class ExpressionError extends Error {
  /** 1-based offset in the source of the fault, when it has one. */
  readonly position?: number;

  /** `message` already names the position, if any; `position` repeats it for callers. */
  constructor(message: string, position?: number) {
    super(message);
    this.name = "ExpressionError";
    this.position = position;
  }
}

/**
 * fasteval's suffixes (p n u µ m, k K M G T) and Kubernetes quantity ones (P E, Ki ... Ei): the
 * multiplier is base ** power. They agree where they overlap: m is milli in both.
 */
export const SIZE_SUFFIXES: ReadonlyMap<string, { base: 1000 | 1024; power: number }> = new Map([
  ["p", { base: 1000, power: -4 }],
  ["n", { base: 1000, power: -3 }],
  ["u", { base: 1000, power: -2 }],
  ["\u00b5", { base: 1000, power: -2 }],
  ["\u03bc", { base: 1000, power: -2 }],
  ["m", { base: 1000, power: -1 }],
  ["k", { base: 1000, power: 1 }],
  ["K", { base: 1000, power: 1 }],
  ["M", { base: 1000, power: 2 }],
  ["G", { base: 1000, power: 3 }],
  ["T", { base: 1000, power: 4 }],
  ["P", { base: 1000, power: 5 }],
  ["E", { base: 1000, power: 6 }],
  ["Ki", { base: 1024, power: 1 }],
  ["Mi", { base: 1024, power: 2 }],
  ["Gi", { base: 1024, power: 3 }],
  ["Ti", { base: 1024, power: 4 }],
  ["Pi", { base: 1024, power: 5 }],
  ["Ei", { base: 1024, power: 6 }],
]);

/** The suffixes as messages list them (the Greek mu is the micro sign's double). */
export const SUFFIX_LIST: string = [...SIZE_SUFFIXES.keys()].filter((s) => s !== "\u03bc")
  .join(" ");
/** Suffixes below 1, a trap next to a byte figure: `512m` is 0.512, not 512 megabytes. */
export const SMALL_SUFFIXES: ReadonlyMap<string, string> = new Map([
  ["p", "pico"],
  ["n", "nano"],
  ["u", "micro"],
  ["\u00b5", "micro"],
  ["\u03bc", "micro"],
  ["m", "milli"],
]);

/** What is wrong, and optionally how to fix it; the position goes between the two. */
export type Problem = readonly [what: string, hint?: string];

/** Words that would reach JavaScript internals or read like operators we spell differently. */
export const RESERVED_WORDS: ReadonlyMap<string, Problem> = new Map<string, Problem>([
  ["in", ['the "in" operator is not allowed']],
  ["and", ['"and" is not an operator', 'use "&&"']],
  ["or", ['"or" is not an operator', 'use "||"']],
  ["not", ['"not" is not an operator', 'use "!"']],
  ["this", ['reserved word "this" is not allowed']],
  ["constructor", ['reserved word "constructor" is not allowed']],
  ["__proto__", ['reserved word "__proto__" is not allowed']],
  ["prototype", ['reserved word "prototype" is not allowed']],
]);

/**
 * Characters that are not part of the language but are part of other expression languages, so
 * they get a message that says what is not supported rather than just "unexpected".
 */
export const REJECTED_CHARACTERS: ReadonlyMap<string, Problem> = new Map<string, Problem>([
  [".", ['member access (".") is not allowed']],
  ["[", ['brackets ("[") are not allowed', "use parentheses"]],
  ["]", ['brackets ("]") are not allowed', "use parentheses"]],
  ["=", ['assignment ("=") is not allowed', 'use "==" to compare']],
  ['"', ["strings are not allowed"]],
  ["'", ["strings are not allowed"]],
  ["`", ["strings are not allowed"]],
  [";", ['";" is not allowed', "write a single expression"]],
  ["?", ['the conditional operator ("?:") is not allowed', "use && and ||"]],
  [":", ['the conditional operator ("?:") is not allowed', "use && and ||"]],
  ["&", ['unexpected character "&"', 'use "&&"']],
  ["|", ['unexpected character "|"', 'use "||"']],
]);

/** `at column N`, the way every message names a position. */
export function column(position: number): string {
  return `at column ${position}`;
}

/** The error for a {@link Problem} at `position`. */
export function problemError([what, hint]: Problem, position: number): ExpressionError {
  return new ExpressionError(
    `${what} ${column(position)}${hint === undefined ? "" : `; ${hint}`}`,
    position,
  );
}

/** The comparison operators; they cannot be chained. */
export const COMPARISON_OPERATORS: readonly string[] = [">", "<", ">=", "<=", "==", "!="];
