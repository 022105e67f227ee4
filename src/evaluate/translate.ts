/**
 * From a checked tree to `expr-eval-fork`: the tree printed in the library's syntax, and the one
 * library parser, cut down to what that printing emits.
 * @module
 */
import { Parser } from "expr-eval-fork";
import { FUNCTION_IMPLEMENTATIONS, FUNCTION_NAMES } from "./functions.ts";
import {
  type BinaryNode,
  type BinaryOperator,
  COMPARISON_OPERATORS,
  type ExpressionNode,
} from "./syntax.ts";

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
      // The constants become numbers; every other call goes to FUNCTION_IMPLEMENTATIONS.
      if (node.name === "e" || node.name === "pi") {
        return String(FUNCTION_IMPLEMENTATIONS[node.name]());
      }
      return `(${node.name}(${node.args.map(toExprEvalSyntax).join(", ")}))`;
  }
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
  const unary = ["-", "not"];
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
  tables.binaryOps = only(defaults.binaryOps, Object.values(LIBRARY_OPERATORS));
  tables.ternaryOps = Object.create(null);
  tables.functions = Object.create(null);
  for (const name of FUNCTION_NAMES) {
    const implementation = FUNCTION_IMPLEMENTATIONS[name];
    // Arithmetic counts true as 1 and false as 0, in arguments too.
    tables.functions[name] = (...xs: unknown[]) => implementation(...xs.map(Number));
  }
  tables.consts = Object.create(null);
  return parser;
}

/** The parser every expression compiles with. */
export const LIBRARY_PARSER: Parser = lockedDownParser();
