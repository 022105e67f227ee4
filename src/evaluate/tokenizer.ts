/**
 * The tokenizer of threshold expressions: numbers (with exponents, or fasteval's and Kubernetes'
 * suffixes), names and operator symbols, each with its 1-based position; anything else is refused
 * here.
 * @module
 */
import {
  column,
  ExpressionError,
  problemError,
  REJECTED_CHARACTERS,
  SIZE_SUFFIXES,
  SUFFIX_LIST,
} from "./syntax.ts";

// Operators of other languages, or ours written backwards, each with the one we spell it as.
const MISSPELLED_OPERATORS: ReadonlyMap<string, string> = new Map([
  ["=>", ">="],
  ["=<", "<="],
  ["===", "=="],
  ["!==", "!="],
]);

function misspelledOperatorAt(source: string, i: number): string | undefined {
  return [...MISSPELLED_OPERATORS.keys()].find((written) => source.startsWith(written, i));
}

const TWO_CHAR_OPERATORS: ReadonlySet<string> = new Set(["&&", "||", "==", "!=", ">=", "<="]);
const ONE_CHAR_SYMBOLS: ReadonlySet<string> = new Set([..."<>!+-*/%^(),"]);

/** One token; `end` closes every expression. */
export interface Token {
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

/** A character of a number's suffix: a name character, or µ (micro sign or Greek mu). */
function isSuffixChar(text: string, i: number): boolean {
  return isNameChar(text, i) || text[i] === "\u00b5" || text[i] === "\u03bc";
}

/** Space, tab, newline or carriage return. */
export function isWhitespace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

/**
 * Scans a number starting at `start` (a digit, or "." then a digit): digits, an optional fraction,
 * then either an exponent (`e`/`E`, optional sign, digits) or a suffix. `E` without digits
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
  while (isSuffixChar(text, end)) end++;
  let value = Number(numberText);
  if (end > i) {
    const suffix = text.slice(i, end);
    const unit = SIZE_SUFFIXES.get(suffix);
    if (unit === undefined) {
      throw new ExpressionError(
        `invalid number suffix "${suffix}" ${column(i + 1)}; valid suffixes: ${SUFFIX_LIST}`,
        i + 1,
      );
    }
    if (hasExponent) {
      throw new ExpressionError(
        `number suffix "${suffix}" ${column(i + 1)} cannot follow an exponent`,
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
      `number "${text.slice(start, end)}" ${column(start + 1)} is too large`,
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

/** The tokens of `source`, ending in an `end` token; throws {@link ExpressionError}. */
export function tokenize(source: string): Token[] {
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
    } else if (misspelledOperatorAt(source, i) !== undefined) {
      const written = misspelledOperatorAt(source, i)!;
      throw problemError(
        [`"${written}" is not an operator`, `use "${MISSPELLED_OPERATORS.get(written)}"`],
        position,
      );
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

/**
 * Parses a number the way expressions write it: plain, or with a suffix (`k K M G T P E` for
 * powers of 1000, `Ki Mi Gi Ti Pi Ei` for powers of 1024, `m u µ n p` for fractions).
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
