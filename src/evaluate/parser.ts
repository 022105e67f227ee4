/**
 * The parser of threshold expressions: recursive descent over the tokens into a checked
 * {@link ExpressionNode} tree, with positions and did-you-mean hints in its errors.
 * @module
 */
import { didYouMean } from "../base/suggest.ts";
import {
  type Arity,
  FUNCTION_NAMES,
  type FunctionName,
  FUNCTIONS,
  isFunctionName,
  usage,
} from "./functions.ts";
import {
  type BinaryNode,
  type BinaryOperator,
  type CallNode,
  column,
  COMPARISON_OPERATORS,
  ExpressionError,
  type ExpressionNode,
  MAX_EXPRESSION_LENGTH,
  MAX_NESTING_DEPTH,
  problemError,
  RESERVED_WORDS,
  SIZE_SUFFIXES,
  SMALL_SUFFIXES,
  type UnaryOperator,
} from "./syntax.ts";
import { isWhitespace, type Token, tokenize } from "./tokenizer.ts";

/** ` (did you mean x?)` or nothing. */
function suggestion(name: string, candidates: readonly string[]): string {
  const hint = didYouMean(name, candidates);
  return hint === undefined ? "" : ` (${hint})`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
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
  readonly #source: string;
  readonly #tokens: readonly Token[];
  readonly #knownNames: readonly string[];
  readonly #known: ReadonlySet<string>;
  readonly #byteNames: ReadonlySet<string>;
  #index = 0;
  #depth = 0;

  constructor(
    source: string,
    tokens: readonly Token[],
    knownNames: readonly string[],
    byteNames: ReadonlySet<string>,
  ) {
    this.#source = source;
    this.#tokens = tokens;
    this.#knownNames = knownNames;
    this.#known = new Set(knownNames);
    this.#byteNames = byteNames;
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
        `expression is nested too deeply ${
          column(at.position)
        } (more than ${MAX_NESTING_DEPTH} levels)`,
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
    const start = this.#index;
    const left = this.#additive();
    const op = this.#accept(COMPARISON_OPERATORS);
    if (op === undefined) return left;
    const middle = this.#index;
    const node = binary(op, left, this.#additive());
    this.#checkByteComparison(node);
    const chained = this.#accept(COMPARISON_OPERATORS);
    if (chained !== undefined) throw this.#chainedComparison(start, middle, op, chained);
    return node;
  }

  /**
   * `70 < x < 90` would compare true or false with 90 (fasteval's answer): always a mistake. The
   * hint writes it out as `70 < x && x < 90` when the third operand parses.
   */
  #chainedComparison(start: number, middle: number, op: Token, chained: Token): ExpressionError {
    const third = this.#index;
    let hint = "write a < b && b < c";
    try {
      this.#additive();
      const a = this.#text(start, middle - 1);
      const b = this.#text(middle, third - 1);
      const c = this.#text(third, this.#index);
      const written = `${a} ${op.text} ${b} && ${b} ${chained.text} ${c}`;
      if (written.length <= 200) hint = `write ${written}`;
    } catch (e) {
      if (!(e instanceof ExpressionError)) throw e;
    }
    return new ExpressionError(
      `comparisons cannot be chained ${column(chained.position)}; ${hint}`,
      chained.position,
    );
  }

  /** The source text of tokens `from` up to, not including, `to`. */
  #text(from: number, to: number): string {
    return this.#source.slice(this.#tokens[from].position - 1, this.#tokens[to].position - 1)
      .trim();
  }

  /**
   * Rejects a byte figure compared with a number whose suffix makes it a fraction (`512m` is
   * 0.512): fasteval's meaning, kept, but never what a threshold on bytes means.
   */
  #checkByteComparison(node: BinaryNode): void {
    for (const [a, b] of [[node.left, node.right], [node.right, node.left]]) {
      if (a.kind !== "variable" || !this.#byteNames.has(a.name) || b.kind !== "number") continue;
      const suffix = b.text.match(/[^\d.eE+-]+$/)?.[0];
      if (suffix === undefined || !SMALL_SUFFIXES.has(suffix)) continue;
      const digits = b.text.slice(0, -suffix.length);
      throw new ExpressionError(
        `${b.text} ${column(b.position)} is ${b.value} (${suffix} means ${
          SMALL_SUFFIXES.get(suffix)
        }), a fraction of a byte for ${a.name}; for megabytes write ${digits}M or ${digits}Mi`,
        b.position,
      );
    }
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
        `missing value after "${previous.text}" ${column(previous.position)}`,
        previous.position,
      );
    }
    this.#index++;
    if (token.kind === "number") {
      return { kind: "number", value: token.value, text: token.text, position: token.position };
    }
    if (token.kind === "name") return this.#name(token);
    if (token.text === "(") {
      const inner = this.#nested(token, () => this.#or());
      this.#close(token);
      return inner;
    }
    throw new ExpressionError(
      `expected a value but found ${quoted(token)} ${column(token.position)}`,
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
          `function "${name}" ${column(at)} must be called with parentheses: ${usage(name)}`,
          at,
        );
      }
      return this.#call(token, name);
    }
    if (called) {
      if (this.#known.has(name)) {
        throw new ExpressionError(`"${name}" ${column(at)} is a variable, not a function`, at);
      }
      throw new ExpressionError(
        `unknown function "${name}" ${column(at)}${
          suggestion(name, FUNCTION_NAMES)
        }; --help lists the functions`,
        at,
      );
    }
    if (!this.#known.has(name)) {
      throw new ExpressionError(
        `unknown variable "${name}" ${column(at)}${
          suggestion(name, this.#knownNames)
        }; --help lists the variables`,
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
    const { least, most }: Arity = FUNCTIONS[name];
    if (args.length < least || args.length > most) {
      const wanted = most === Infinity
        ? `at least ${plural(least, "argument")}`
        : least === most
        ? least === 0 ? "no arguments" : `exactly ${plural(least, "argument")}`
        : `${least} or ${plural(most, "argument")}`;
      throw new ExpressionError(
        `${name}() ${column(token.position)} takes ${wanted}, got ${args.length}: ${usage(name)}`,
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
        `missing ")" for the "(" ${column(open.position)}`,
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
      return new ExpressionError(`unmatched ")" ${column(at)}`, at);
    }
    if (token.kind === "symbol" && token.text === ",") {
      return new ExpressionError(
        `"," is only allowed between function arguments ${column(at)}`,
        at,
      );
    }
    const reserved = token.kind === "name" ? RESERVED_WORDS.get(token.text) : undefined;
    if (reserved !== undefined) return problemError(reserved, at);
    const previous = this.#tokens[this.#index - 1];
    const hint = token.kind === "name" && SIZE_SUFFIXES.has(token.text) &&
        previous.kind === "number"
      ? ` (write number suffixes without a space, e.g. 512${token.text})`
      : "";
    return new ExpressionError(`missing operator before ${quoted(token)} ${column(at)}${hint}`, at);
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
 * one of `knownNames`, and that none of `byteNames` is compared with a fraction (`512m`). Throws
 * {@link ExpressionError} with a 1-based position where there is one.
 */
export function parseExpression(
  source: string,
  knownNames: readonly string[],
  byteNames: readonly string[] = [],
): ExpressionNode {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(
      `expression is too long (${source.length} characters; the limit is ${MAX_EXPRESSION_LENGTH})`,
    );
  }
  if ([...source].every(isWhitespace)) throw new ExpressionError("expression is empty");
  return new ExpressionParser(source, tokenize(source), knownNames, new Set(byteNames)).parse();
}
