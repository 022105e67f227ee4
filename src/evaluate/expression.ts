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
 * @module
 */
import { type Expression, Parser } from "expr-eval-fork";

/** Longer expressions are rejected before tokenizing, so huge input fails at once. */
export const MAX_EXPRESSION_LENGTH = 4096;
/** Deeper nesting of parentheses, calls, prefix operators and exponents is rejected. */
export const MAX_NESTING_DEPTH = 64;

/** The only functions an expression may call. */
export const FUNCTION_NAMES = ["min", "max", "abs", "floor", "ceil", "round"] as const;
/** One of `min`, `max`, `abs`, `floor`, `ceil`, `round`. */
export type FunctionName = typeof FUNCTION_NAMES[number];

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

/** A call of one of {@link FUNCTION_NAMES}. */
export interface CallNode {
  /** Discriminant. */
  readonly kind: "call";
  /** The function called. */
  readonly name: FunctionName;
  /** Its arguments: exactly one, or one or more for `min` and `max`. */
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

// Kubernetes quantity suffixes: the multiplier is base ** power.
const SIZE_SUFFIXES: ReadonlyMap<string, { base: 1000 | 1024; power: number }> = new Map([
  ["k", { base: 1000, power: 1 }],
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

/** What is wrong, and optionally how to fix it; the position goes between the two. */
type Problem = readonly [what: string, hint?: string];

// Words that would reach JavaScript internals or read like operators we spell differently.
const RESERVED_WORDS: ReadonlyMap<string, Problem> = new Map<string, Problem>([
  ["in", ['the "in" operator is not allowed']],
  ["and", ['"and" is not an operator', 'use "&&"']],
  ["or", ['"or" is not an operator', 'use "||"']],
  ["not", ['"not" is not an operator', 'use "!"']],
  ["this", ['reserved word "this" is not allowed']],
  ["constructor", ['reserved word "constructor" is not allowed']],
  ["__proto__", ['reserved word "__proto__" is not allowed']],
  ["prototype", ['reserved word "prototype" is not allowed']],
]);

// Characters that are not part of the language but are part of other expression languages, so
// they get a message that says what is not supported rather than just "unexpected".
const REJECTED_CHARACTERS: ReadonlyMap<string, Problem> = new Map<string, Problem>([
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

function problemError([what, hint]: Problem, position: number): ExpressionError {
  return new ExpressionError(
    `${what} at ${position}${hint === undefined ? "" : `; ${hint}`}`,
    position,
  );
}

const TWO_CHAR_OPERATORS: ReadonlySet<string> = new Set(["&&", "||", "==", "!=", ">=", "<="]);
const ONE_CHAR_SYMBOLS: ReadonlySet<string> = new Set([..."<>!+-*/%^(),"]);
const COMPARISON_OPERATORS: readonly string[] = [">", "<", ">=", "<=", "==", "!="];

interface Token {
  readonly kind: "number" | "name" | "symbol" | "end";
  /** The source text; for `end`, empty. */
  readonly text: string;
  /** The value of a number token; 0 otherwise. */
  readonly value: number;
  readonly position: number;
}

function isDigit(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c >= 48 && c <= 57;
}

function isNameStart(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isNameChar(text: string, i: number): boolean {
  return isNameStart(text, i) || isDigit(text, i);
}

function isWhitespace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

/**
 * Scans a number starting at `start` (a digit, or "." then a digit): digits, an optional fraction,
 * then either an exponent (`e`/`E`, optional sign, digits) or a size suffix. `E` without digits
 * after it is therefore the exa suffix, and `1E3` is 1000.
 */
function scanNumber(text: string, start: number): { value: number; end: number } {
  let i = start;
  while (isDigit(text, i)) i++;
  if (text[i] === ".") {
    i++;
    while (isDigit(text, i)) i++;
  }
  let hasExponent = false;
  if (text[i] === "e" || text[i] === "E") {
    const firstDigit = text[i + 1] === "+" || text[i + 1] === "-" ? i + 2 : i + 1;
    if (isDigit(text, firstDigit)) {
      i = firstDigit;
      while (isDigit(text, i)) i++;
      hasExponent = true;
    }
  }
  const numberText = text.slice(start, i);
  let end = i;
  while (isNameChar(text, end)) end++;
  let value = Number(numberText);
  if (end > i) {
    const suffix = text.slice(i, end);
    const unit = SIZE_SUFFIXES.get(suffix);
    if (unit === undefined) {
      throw new ExpressionError(
        `invalid size suffix "${suffix}" at ${i + 1}; valid suffixes: ${
          [...SIZE_SUFFIXES.keys()].join(", ")
        }`,
        i + 1,
      );
    }
    if (hasExponent) {
      throw new ExpressionError(
        `size suffix "${suffix}" at ${i + 1} cannot follow an exponent`,
        i + 1,
      );
    }
    // Decimal suffixes shift the decimal exponent, so 1.1k is exactly 1100 (1.1 * 1000 is not).
    value = unit.base === 1024
      ? value * 1024 ** unit.power
      : Number(`${numberText}e${3 * unit.power}`);
  }
  if (!Number.isFinite(value)) {
    throw new ExpressionError(
      `number "${text.slice(start, end)}" at ${start + 1} is too large`,
      start + 1,
    );
  }
  return { value, end };
}

/** Describes a rejected character; non-ASCII and control characters by code point only. */
function describeCharacter(text: string, i: number): string {
  const code = text.codePointAt(i) ?? 0;
  if (code > 0x20 && code < 0x7f) return `"${text[i]}"`;
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (isWhitespace(c)) {
      i++;
      continue;
    }
    const position = i + 1;
    if (isDigit(source, i) || (c === "." && isDigit(source, i + 1))) {
      const { value, end } = scanNumber(source, i);
      tokens.push({ kind: "number", text: source.slice(i, end), value, position });
      i = end;
    } else if (isNameStart(source, i)) {
      let end = i + 1;
      while (isNameChar(source, end)) end++;
      tokens.push({ kind: "name", text: source.slice(i, end), value: 0, position });
      i = end;
    } else if (TWO_CHAR_OPERATORS.has(source.slice(i, i + 2))) {
      tokens.push({ kind: "symbol", text: source.slice(i, i + 2), value: 0, position });
      i += 2;
    } else if (ONE_CHAR_SYMBOLS.has(c)) {
      tokens.push({ kind: "symbol", text: c, value: 0, position });
      i++;
    } else {
      throw problemError(
        REJECTED_CHARACTERS.get(c) ?? [`unexpected character ${describeCharacter(source, i)}`],
        position,
      );
    }
  }
  tokens.push({ kind: "end", text: "", value: 0, position: source.length + 1 });
  return tokens;
}

/** Optimal string alignment distance: edits, counting a swap of neighbours as one. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[i].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2][j - 2] + 1);
      }
      rows[i].push(best);
    }
  }
  return rows[a.length][b.length];
}

/** The candidate closest to `name`, ignoring case, if it is close enough to be a typo. */
function closestName(name: string, candidates: readonly string[]): string | undefined {
  // A third of the name may be wrong, but never all of it ("c" is no typo of "a").
  const limit = Math.min(Math.max(1, Math.floor(name.length / 3)), name.length - 1);
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function didYouMean(name: string, candidates: readonly string[]): string {
  const closest = closestName(name, candidates);
  return closest === undefined ? "" : ` (did you mean ${closest}?)`;
}

function isFunctionName(name: string): name is FunctionName {
  return (FUNCTION_NAMES as readonly string[]).includes(name);
}

function quoted(token: Token): string {
  return token.kind === "end" ? "end of expression" : `"${token.text}"`;
}

/**
 * Recursive descent, one method per precedence level. Left-associative levels loop rather than
 * recurse, so only parentheses, calls, prefix operators and exponents deepen the recursion, and
 * those count against {@link MAX_NESTING_DEPTH}.
 */
class ExpressionParser {
  readonly #tokens: readonly Token[];
  readonly #knownNames: readonly string[];
  readonly #known: ReadonlySet<string>;
  #index = 0;
  #depth = 0;

  constructor(tokens: readonly Token[], knownNames: readonly string[]) {
    this.#tokens = tokens;
    this.#knownNames = knownNames;
    this.#known = new Set(knownNames);
  }

  parse(): ExpressionNode {
    const node = this.#or();
    const token = this.#peek();
    if (token.kind !== "end") throw this.#unexpectedAfterValue(token);
    return node;
  }

  #peek(): Token {
    return this.#tokens[this.#index];
  }

  #peekIs(text: string): boolean {
    const token = this.#peek();
    return token.kind === "symbol" && token.text === text;
  }

  /** Consumes the next token if it is one of these symbols. */
  #accept(symbols: readonly string[]): Token | undefined {
    const token = this.#peek();
    if (token.kind !== "symbol" || !symbols.includes(token.text)) return undefined;
    this.#index++;
    return token;
  }

  #nested<T>(at: Token, parse: () => T): T {
    if (this.#depth >= MAX_NESTING_DEPTH) {
      throw new ExpressionError(
        `expression is nested too deeply at ${at.position} (more than ${MAX_NESTING_DEPTH} levels)`,
        at.position,
      );
    }
    this.#depth++;
    const result = parse();
    this.#depth--;
    return result;
  }

  #leftAssociative(operators: readonly string[], operand: () => ExpressionNode): ExpressionNode {
    let left = operand();
    for (let op = this.#accept(operators); op !== undefined; op = this.#accept(operators)) {
      left = binary(op, left, operand());
    }
    return left;
  }

  #or(): ExpressionNode {
    return this.#leftAssociative(["||"], () => this.#and());
  }

  #and(): ExpressionNode {
    return this.#leftAssociative(["&&"], () => this.#comparison());
  }

  #comparison(): ExpressionNode {
    const left = this.#additive();
    const op = this.#accept(COMPARISON_OPERATORS);
    if (op === undefined) return left;
    const node = binary(op, left, this.#additive());
    const chained = this.#accept(COMPARISON_OPERATORS);
    if (chained !== undefined) {
      // `1 < x < 5` would compare a boolean with 5: always a mistake.
      throw new ExpressionError(
        `comparisons cannot be chained at ${chained.position}; write a < b && b < c`,
        chained.position,
      );
    }
    return node;
  }

  #additive(): ExpressionNode {
    return this.#leftAssociative(["+", "-"], () => this.#multiplicative());
  }

  #multiplicative(): ExpressionNode {
    return this.#leftAssociative(["*", "/", "%"], () => this.#unary());
  }

  #unary(): ExpressionNode {
    const op = this.#accept(["-", "!"]);
    if (op === undefined) return this.#power();
    const operand = this.#nested(op, () => this.#unary());
    return { kind: "unary", operator: op.text as UnaryOperator, operand, position: op.position };
  }

  /** `^` binds tighter than prefix operators on its left but takes one as its exponent. */
  #power(): ExpressionNode {
    const base = this.#primary();
    const op = this.#accept(["^"]);
    if (op === undefined) return base;
    return binary(op, base, this.#nested(op, () => this.#unary()));
  }

  #primary(): ExpressionNode {
    const token = this.#peek();
    if (token.kind === "end") {
      const previous = this.#tokens[this.#index - 1];
      throw new ExpressionError(
        `missing value after "${previous.text}" at ${previous.position}`,
        previous.position,
      );
    }
    this.#index++;
    if (token.kind === "number") {
      return { kind: "number", value: token.value, position: token.position };
    }
    if (token.kind === "name") return this.#name(token);
    if (token.text === "(") {
      const inner = this.#nested(token, () => this.#or());
      this.#close(token);
      return inner;
    }
    throw new ExpressionError(
      `expected a value but found ${quoted(token)} at ${token.position}`,
      token.position,
    );
  }

  #name(token: Token): ExpressionNode {
    const name = token.text;
    const at = token.position;
    const reserved = RESERVED_WORDS.get(name);
    if (reserved !== undefined) throw problemError(reserved, at);
    const called = this.#peekIs("(");
    if (isFunctionName(name)) {
      if (!called) {
        throw new ExpressionError(
          `function "${name}" at ${at} must be called with parentheses, e.g. ${name}(x)`,
          at,
        );
      }
      return this.#call(token, name);
    }
    if (called) {
      if (this.#known.has(name)) {
        throw new ExpressionError(`"${name}" at ${at} is a variable, not a function`, at);
      }
      throw new ExpressionError(
        `unknown function "${name}" at ${at}${didYouMean(name, FUNCTION_NAMES)}; functions: ${
          FUNCTION_NAMES.join(", ")
        }`,
        at,
      );
    }
    if (!this.#known.has(name)) {
      throw new ExpressionError(
        `unknown variable "${name}" at ${at}${didYouMean(name, this.#knownNames)}; valid names: ${
          this.#knownNames.join(", ")
        }`,
        at,
      );
    }
    return { kind: "variable", name, position: at };
  }

  #call(token: Token, name: FunctionName): CallNode {
    const open = this.#tokens[this.#index++];
    const args = this.#nested(token, () => {
      const list: ExpressionNode[] = [];
      if (this.#peekIs(")")) return list;
      do list.push(this.#or()); while (this.#accept([","]) !== undefined);
      return list;
    });
    this.#close(open);
    const variadic = name === "min" || name === "max";
    if (args.length === 0 || (!variadic && args.length > 1)) {
      const wanted = variadic ? "at least 1 argument" : "exactly 1 argument";
      throw new ExpressionError(
        `${name}() at ${token.position} takes ${wanted}, got ${args.length}`,
        token.position,
      );
    }
    return { kind: "call", name, args, position: token.position };
  }

  /** Consumes the `)` matching `open`. */
  #close(open: Token): void {
    const token = this.#peek();
    if (token.kind === "end") {
      throw new ExpressionError(
        `missing ")" for the "(" at ${open.position}`,
        open.position,
      );
    }
    if (!this.#peekIs(")")) throw this.#unexpectedAfterValue(token);
    this.#index++;
  }

  /** The error for a token that follows a complete value but cannot continue it. */
  #unexpectedAfterValue(token: Token): ExpressionError {
    const at = token.position;
    if (token.kind === "symbol" && token.text === ")") {
      return new ExpressionError(`unmatched ")" at ${at}`, at);
    }
    if (token.kind === "symbol" && token.text === ",") {
      return new ExpressionError(`"," is only allowed between function arguments at ${at}`, at);
    }
    const reserved = token.kind === "name" ? RESERVED_WORDS.get(token.text) : undefined;
    if (reserved !== undefined) return problemError(reserved, at);
    const previous = this.#tokens[this.#index - 1];
    const hint = token.kind === "name" && SIZE_SUFFIXES.has(token.text) &&
        previous.kind === "number"
      ? ` (write size suffixes without a space, e.g. 512${token.text})`
      : "";
    return new ExpressionError(`missing operator before ${quoted(token)} at ${at}${hint}`, at);
  }
}

function binary(op: Token, left: ExpressionNode, right: ExpressionNode): BinaryNode {
  return {
    kind: "binary",
    operator: op.text as BinaryOperator,
    left,
    right,
    position: op.position,
  };
}

/**
 * Parses and checks an expression: syntax, function names and arity, and that every variable is
 * one of `knownNames`. Throws {@link ExpressionError} with a 1-based position where there is one.
 */
export function parseExpression(source: string, knownNames: readonly string[]): ExpressionNode {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(
      `expression is too long (${source.length} characters; the limit is ${MAX_EXPRESSION_LENGTH})`,
    );
  }
  if ([...source].every(isWhitespace)) throw new ExpressionError("expression is empty");
  return new ExpressionParser(tokenize(source), knownNames).parse();
}

/**
 * Parses a byte size the way expressions write it: a plain number, or a number with a
 * Kubernetes suffix (`k M G T P E` for powers of 1000, `Ki Mi Gi Ti Pi Ei` for powers of 1024).
 * `"512Mi"` is 536870912. Returns undefined for anything else, including signs and spaces.
 */
export function parseSizeLiteral(text: string): number | undefined {
  if (!isDigit(text, 0) && !(text[0] === "." && isDigit(text, 1))) return undefined;
  try {
    const { value, end } = scanNumber(text, 0);
    return end === text.length ? value : undefined;
  } catch (e) {
    if (e instanceof ExpressionError) return undefined;
    throw e;
  }
}

const LIBRARY_OPERATORS: Readonly<Record<BinaryOperator, string>> = {
  "||": "or",
  "&&": "and",
  ">": ">",
  "<": "<",
  ">=": ">=",
  "<=": "<=",
  "==": "==",
  "!=": "!=",
  "+": "+",
  "-": "-",
  "*": "*",
  "/": "/",
  "%": "%",
  "^": "^",
};

// Levels whose chains both we and expr-eval group to the left, so a left operand of the same
// level needs no parentheses. This keeps a long `a + b + c ...` from nesting in the library, whose
// parser recurses about a dozen calls per parenthesis and overflows the stack near 1000 of them.
const LEFT_CHAIN_LEVEL: Readonly<Partial<Record<BinaryOperator, number>>> = {
  "||": 1,
  "&&": 2,
  "+": 4,
  "-": 4,
  "*": 5,
  "/": 5,
  "%": 5,
};

const BOOLEAN_OPERATORS: ReadonlySet<string> = new Set(["||", "&&", ...COMPARISON_OPERATORS]);

function isBoolean(node: ExpressionNode): boolean {
  return (node.kind === "unary" && node.operator === "!") ||
    (node.kind === "binary" && BOOLEAN_OPERATORS.has(node.operator));
}

function translateChain(node: BinaryNode): string {
  const level = LEFT_CHAIN_LEVEL[node.operator];
  let left = level !== undefined && node.left.kind === "binary" &&
      LEFT_CHAIN_LEVEL[node.left.operator] === level
    ? translateChain(node.left)
    : toExprEvalSyntax(node.left);
  let right = toExprEvalSyntax(node.right);
  if (node.operator === "==" || node.operator === "!=") {
    // The library compares with ===, where true != 1; `+ 0` turns a boolean into 1 or 0.
    if (isBoolean(node.left)) left = `(${left} + 0)`;
    if (isBoolean(node.right)) right = `(${right} + 0)`;
  }
  return `${left} ${LIBRARY_OPERATORS[node.operator]} ${right}`;
}

/**
 * Prints a checked tree in expr-eval-fork syntax. Every node but a number or variable comes out
 * in parentheses, so the library's own precedence (its `not` and unary minus bind differently
 * from ours, and its `!` is factorial and `||` concatenation) cannot change the meaning.
 */
export function toExprEvalSyntax(node: ExpressionNode): string {
  switch (node.kind) {
    case "number":
      return String(node.value);
    case "variable":
      return node.name;
    case "unary":
      return node.operator === "-"
        ? `(-${toExprEvalSyntax(node.operand)})`
        : `(not ${toExprEvalSyntax(node.operand)})`;
    case "binary":
      return `(${translateChain(node)})`;
    case "call":
      return `(${node.name}(${node.args.map(toExprEvalSyntax).join(", ")}))`;
  }
}

/** `round` as in the original tool (Rust's f64::round): halves go away from zero. */
function roundHalfAwayFromZero(x: number): number {
  const n = Number(x);
  return Math.sign(n) * Math.round(Math.abs(n));
}

interface LibraryTables {
  unaryOps: Record<string, unknown>;
  binaryOps: Record<string, unknown>;
  ternaryOps: Record<string, unknown>;
  functions: Record<string, unknown>;
  consts: Record<string, unknown>;
}

/** Copies the named entries into an object without a prototype, so nothing else resolves. */
function only(table: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const name of names) out[name] = table[name];
  return out;
}

/**
 * The one parser all expressions compile with. Its options switch off the syntax they can
 * (members, arrays, strings joined with ||, ?:, =, function definitions, in, factorial and named
 * functions), and its tables are then cut down to what the translation emits, because options
 * cannot reach the `functions` and `consts` tables (pow, if, map, PI, ...).
 */
function lockedDownParser(): Parser {
  const defaults = new Parser() as unknown as LibraryTables;
  const unary = ["-", "not", "abs", "floor", "ceil", "round"];
  const operators: Record<string, boolean> = {
    add: true,
    subtract: true,
    multiply: true,
    divide: true,
    remainder: true,
    power: true,
    comparison: true,
    logical: true,
    concatenate: false,
    conditional: false,
    factorial: false,
    in: false,
    assignment: false,
    fndef: false,
    array: false,
  };
  for (const name of Object.keys(defaults.unaryOps)) {
    if (/^[a-z]/.test(name) && !unary.includes(name)) operators[name] = false;
  }
  const parser = new Parser({ allowMemberAccess: false, operators });
  const tables = parser as unknown as LibraryTables;
  tables.unaryOps = only(defaults.unaryOps, unary);
  tables.unaryOps.round = roundHalfAwayFromZero;
  tables.binaryOps = only(defaults.binaryOps, Object.values(LIBRARY_OPERATORS));
  tables.ternaryOps = Object.create(null);
  tables.functions = only(defaults.functions, ["min", "max"]);
  tables.consts = Object.create(null);
  return parser;
}

const LIBRARY_PARSER: Parser = lockedDownParser();

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

  constructor(source: string, variables: readonly string[], compiled: Expression) {
    this.source = source;
    this.variables = variables;
    this.#compiled = compiled;
  }

  evaluate(vars: Readonly<Record<string, number>>): number | boolean {
    // Only the referenced names, in an object without a prototype, reach the library.
    const scope: Record<string, number> = Object.create(null);
    for (const name of this.variables) {
      const value = vars[name];
      if (typeof value !== "number") {
        throw new ExpressionError(`variable "${name}" has no value`);
      }
      scope[name] = value;
    }
    return this.#compiled.evaluate(scope) as number | boolean;
  }

  matches(vars: Readonly<Record<string, number>>): boolean {
    // An unreadable figure (NaN) makes no claim: `!(memory_usage > 90)` must not fire on it.
    for (const name of this.variables) if (Number.isNaN(vars[name])) return false;
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
): CompiledExpression {
  const tree = parseExpression(source, knownNames);
  const variables = Object.freeze([...collectVariables(tree, new Set())].sort());
  return new Compiled(source, variables, LIBRARY_PARSER.parse(toExprEvalSyntax(tree)));
}
