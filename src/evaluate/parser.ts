/**
 * The parser of threshold expressions: recursive descent over the tokens into a checked
 * {@link ExpressionNode} tree, with positions and did-you-mean hints in its errors.
 * @module
 */
import {
  type BinaryNode,
  type BinaryOperator,
  type CallNode,
  COMPARISON_OPERATORS,
  ExpressionError,
  type ExpressionNode,
  FUNCTION_NAMES,
  type FunctionName,
  isFunctionName,
  MAX_EXPRESSION_LENGTH,
  MAX_NESTING_DEPTH,
  problemError,
  RESERVED_WORDS,
  SIZE_SUFFIXES,
  type UnaryOperator,
} from "./syntax.ts";
import { isWhitespace, type Token, tokenize } from "./tokenizer.ts";

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
