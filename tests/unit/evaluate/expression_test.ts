import assert from "node:assert/strict";
import {
  compileExpression,
  ExpressionError,
  type ExpressionNode,
  MAX_EXPRESSION_LENGTH,
  MAX_NESTING_DEPTH,
  parseExpression,
  parseSizeLiteral,
  PRECEDENCE_TABLE,
  toExprEvalSyntax,
} from "../../../src/evaluate/expression.ts";
import { BYTE_VARIABLE_NAMES, VARIABLE_NAMES } from "../../../src/collect/variables.ts";
import { prng } from "../../support/prng.ts";

type Value = number | boolean;

/** Every variable 0, then the given values. */
function vars(values: Record<string, number> = {}): Record<string, number> {
  return { ...Object.fromEntries(VARIABLE_NAMES.map((n) => [n, 0])), ...values };
}

/** The ExpressionError compiling `source` throws; fails if it compiles or throws anything else. */
function compileError(source: string): ExpressionError {
  try {
    compileExpression(source, VARIABLE_NAMES, BYTE_VARIABLE_NAMES);
  } catch (e) {
    if (e instanceof ExpressionError) return e;
    throw e;
  }
  assert.fail(`expected ${JSON.stringify(source)} to be rejected`);
}

/** Same type and value; NaN equals NaN, and -0 equals 0 (the library turns -0 into 0). */
function sameValue(actual: Value, expected: Value): boolean {
  if (typeof actual !== typeof expected) return false;
  return actual === expected ||
    (typeof actual === "number" && Number.isNaN(actual) && Number.isNaN(expected as number));
}

function assertValue(source: string, actual: Value, expected: Value): void {
  assert.ok(
    sameValue(actual, expected),
    `${JSON.stringify(source)}: got ${String(actual)} (${typeof actual}), want ${
      String(expected)
    } (${typeof expected})`,
  );
}

// --- The examples from the original tool's README -----------------------------------------------

const README_EXAMPLES: [
  source: string,
  below: Record<string, number>,
  above: Record<string, number>,
][] = [
  ["memory_usage > 75", { memory_usage: 75 }, { memory_usage: 75.5 }],
  ["memory_usage > 90", { memory_usage: 90 }, { memory_usage: 91 }],
  [
    "memory_usage > 70 || memory_pressure_full_avg60 > 50",
    { memory_usage: 70, memory_pressure_full_avg60: 50 },
    { memory_usage: 10, memory_pressure_full_avg60: 51 },
  ],
  [
    "memory_usage > 85 || memory_pressure_full_avg60 > 80",
    { memory_usage: 85, memory_pressure_full_avg60: 80 },
    { memory_usage: 86, memory_pressure_full_avg60: 0 },
  ],
  ["oom_score > 500", { oom_score: 500 }, { oom_score: 501 }],
  ["oom_score > 800", { oom_score: 799 }, { oom_score: 1000 }],
  ["memory_pressure_full_avg10 > 20", { memory_pressure_full_avg10: 20 }, {
    memory_pressure_full_avg10: 20.01,
  }],
];

for (const [source, below, above] of README_EXAMPLES) {
  Deno.test(`README example ${source}`, () => {
    const compiled = compileExpression(source, VARIABLE_NAMES);
    assert.equal(compiled.source, source);
    assert.equal(compiled.evaluate(vars(below)), false);
    assert.equal(compiled.matches(vars(below)), false);
    assert.equal(compiled.evaluate(vars(above)), true);
    assert.equal(compiled.matches(vars(above)), true);
  });
}

// --- Operators and precedence ---------------------------------------------------------------------

const SAMPLE = vars({ memory_usage: 80, oom_score: 600, memory_current: 500 * 2 ** 20 });

const OPERATOR_CASES: [source: string, expected: Value][] = [
  // logical not, and how tightly it binds
  ["!0", true],
  ["!1", false],
  ["!0.5", false],
  ["!!5", true],
  ["!!0", false],
  ["!!!0", true],
  ["!(1 > 2)", true],
  ["!(memory_usage > 75)", false],
  ["!0 * 5", 5],
  ["-!0", -1],
  ["!-1", false],
  ["!1 != !0", true],
  // != and == stay themselves, and compare booleans as 1 and 0
  ["1 != 2", true],
  ["2 != 2", false],
  ["2 == 2", true],
  ["(1 > 0) == 1", true],
  ["(1 > 0) != 1", false],
  ["1 == (2 > 1)", true],
  ["(1 < 0) == 0", true],
  ["(1 > 0) == (2 > 1)", true],
  // ^: right-associative, tighter than prefix minus on its left, takes one on its right
  ["2^3^2", 512],
  ["(2^3)^2", 64],
  ["-2^2", -4],
  ["(-2)^2", 4],
  ["2^-1", 0.5],
  ["2^-1^2", 0.5],
  ["-2^-2", -0.25],
  ["2 * 3 ^ 2", 18],
  ["2 ^ 3 * 2", 16],
  ["-memory_usage^2", -6400],
  // % and * / + -
  ["7 % 3", 1],
  ["-7 % 3", -1],
  ["7.5 % 2", 1.5],
  ["2 * 3 % 4", 2],
  ["2 + 3 * 4", 14],
  ["(2 + 3) * 4", 20],
  ["10 - 4 - 3", 3],
  ["100 / 10 / 5", 2],
  ["1 - 2 + 3", 2],
  ["-3 * -2", 6],
  ["1 - -1", 2],
  ["1 / 0", Infinity],
  ["0 / 0", NaN],
  // comparisons against && and ||
  ["1 + 2 > 2", true],
  ["1 || 0 && 0", true],
  ["(1 || 0) && 0", false],
  ["0 && 1 || 1", true],
  ["0 || 0", false],
  ["0.5 && 1", true],
  ["2 > 1 && 3 > 2", true],
  ["1 > 2 || 3 > 2", true],
  ["memory_usage > 75 && oom_score < 500 || memory_usage >= 80", true],
  ["memory_usage > 75 && (oom_score < 500 || memory_usage >= 81)", false],
  ["(1 > 0) + (2 > 1)", 2],
  // size literals and exponents
  ["1Ki", 1024],
  [".5Ki", 512],
  ["1.5Gi", 1.5 * 2 ** 30],
  ["512Mi", 536870912],
  ["2Ti", 2 * 2 ** 40],
  ["1Pi", 2 ** 50],
  ["1Ei", 2 ** 60],
  ["2G", 2e9],
  ["500M", 5e8],
  ["100k", 1e5],
  ["1.1k", 1100],
  ["1T", 1e12],
  ["1P", 1e15],
  ["1E", 1e18],
  ["1e3", 1000],
  ["1E3", 1000],
  ["1e+3", 1000],
  ["1.5e-3", 0.0015],
  ["1E - 1", 1e18 - 1],
  ["1E-1", 0.1],
  ["memory_current > 400Mi", true],
  ["memory_current > 600Mi", false],
  // functions
  ["min(3, 1, 2)", 1],
  ["max(3, 1, 2)", 3],
  ["min(5)", 5],
  ["abs(-3)", 3],
  ["floor(2.7)", 2],
  ["floor(-2.5)", -3],
  ["ceil(2.1)", 3],
  ["round(2.4)", 2],
  ["round(2.5)", 3],
  ["round(-2.5)", -3],
  ["abs(-2)^2", 4],
  ["-abs(-2)", -2],
  ["min(1 > 0, 0)", 0],
  ["max(memory_usage, oom_score / 10) > 70", true],
  ["max(min(1, 2), abs(-5), round(4.5))", 5],
];

// fasteval 0.2.4's documentation (src/lib.rs: "Numeric Literals", "Built-in Functions and
// Constants" and its examples), case by case, with the values it states; then what its evaluator
// (src/evaler.rs) gives where the documentation names a function without an example: int
// truncates, sign is Rust's signum (1 for 0), round(m, x) is round(x / m) * m away from zero,
// log(b, x) is log base b, the trigonometric functions take radians.
const FASTEVAL_CASES: [source: string, expected: Value][] = [
  ["1", 1],
  ["1001", 1001],
  ["1.0", 1],
  ["1.23456", 1.23456],
  ["0.000001", 0.000001],
  ["1e3", 1000],
  ["1E3", 1000],
  ["1e-3", 0.001],
  ["1E-3", 0.001],
  ["1.2345e100", 1.2345e100],
  ["1.23p", 0.00000000000123],
  ["1.23n", 0.00000000123],
  ["1.23µ", 0.00000123],
  ["1.23u", 0.00000123],
  ["1.23m", 0.00123],
  ["1.23K", 1230],
  ["1.23k", 1230],
  ["1.23M", 1230000],
  ["1.23G", 1230000000],
  ["1.23T", 1230000000000],
  ["log(100)", 2],
  ["log(100K)", 5],
  ["log(e(), 100)", Math.log(100)],
  ["e()", 2.718281828459045],
  ["pi()", 3.141592653589793],
  ["round(1.23456) == 1 && round(0.001, 1.23456) == 1.235", true],
  ["min(1, -2, 3, -4) == -4", true],
  ["max(1, -2, 3, -4) == 3", true],
  ["int(2.7)", 2],
  ["int(-2.7)", -2],
  ["ceil(-2.7)", -2],
  ["floor(-2.2)", -3],
  ["round(2.5)", 3],
  ["round(-2.5)", -3],
  ["round(5, 12.5)", 15],
  ["round(0.5, 1.3)", 1.5],
  ["abs(-1.5)", 1.5],
  ["sign(-3)", -1],
  ["sign(3)", 1],
  ["sign(0)", 1],
  ["log(2, 8)", 3],
  ["log(10, 1000)", 3],
  ["log(e(), e())", 1],
  ["log(0)", -Infinity],
  ["sin(pi() / 2)", 1],
  ["cos(0)", 1],
  ["tan(0)", 0],
  ["asin(1)", Math.PI / 2],
  ["acos(1)", 0],
  ["atan(1)", Math.PI / 4],
  ["sinh(0)", 0],
  ["cosh(0)", 1],
  ["tanh(0)", 0],
  ["asinh(0)", 0],
  ["acosh(1)", 0],
  ["atanh(0)", 0],
  ["sign(memory_usage - 80) + round(10, memory_usage + 4)", 81],
];

Deno.test(`fasteval's documented literals and functions: ${FASTEVAL_CASES.length} cases`, () => {
  for (const [source, expected] of FASTEVAL_CASES) {
    assertValue(source, compileExpression(source, VARIABLE_NAMES).evaluate(SAMPLE), expected);
  }
});

Deno.test("our byte suffixes and fasteval's live side by side", () => {
  const value = (source: string) => compileExpression(source, VARIABLE_NAMES).evaluate(SAMPLE);
  // Ki Mi Gi are powers of 1024, k K M G T powers of 1000, m u µ n p fractions; case matters.
  assert.equal(value("1Mi"), 1_048_576);
  assert.equal(value("1M"), 1_000_000);
  assert.equal(value("1m"), 0.001);
  assert.equal(value("1Ki"), 1024);
  assert.equal(value("1K"), 1000);
  assert.equal(value("1k"), 1000);
  // A fraction next to a byte figure is refused (byte names given), elsewhere it is a number.
  const bytes = BYTE_VARIABLE_NAMES;
  assert.throws(() => compileExpression("memory_current > 512m", VARIABLE_NAMES, bytes), /milli/);
  assert.throws(() => compileExpression("5n < memory_growth_rate", VARIABLE_NAMES, bytes), /nano/);
  assert.equal(
    compileExpression("memory_current > 512M", VARIABLE_NAMES, bytes).matches(SAMPLE),
    true,
  );
  assert.equal(
    compileExpression("memory_usage > 500m", VARIABLE_NAMES, bytes).matches(SAMPLE),
    true,
  );
});

Deno.test(`operator table: ${OPERATOR_CASES.length} cases`, () => {
  for (const [source, expected] of OPERATOR_CASES) {
    assertValue(source, compileExpression(source, VARIABLE_NAMES).evaluate(SAMPLE), expected);
  }
});

const MATCH_CASES: [source: string, matches: boolean][] = [
  ["0.5", false],
  ["0.999", false],
  ["1", true],
  ["2", true],
  ["-1", false],
  ["0", false],
  ["1 > 0", true],
  ["1 < 0", false],
  ["!0", true],
  ["0 / 0", false],
  ["-(0 / 0)", false],
  ["1 / 0", true],
  ["memory_usage / 100", false],
  ["memory_usage / 10", true],
];

Deno.test("matches: true, or a number >= 1; never NaN", () => {
  for (const [source, expected] of MATCH_CASES) {
    assert.equal(compileExpression(source, VARIABLE_NAMES).matches(SAMPLE), expected, source);
  }
});

Deno.test("matches: an expression over an unreadable (NaN) variable never fires", () => {
  const unreadable = { ...SAMPLE, memory_usage: NaN };
  for (
    const source of [
      "memory_usage > 90",
      "!(memory_usage > 90)",
      "memory_usage != 50",
      "memory_usage > 90 || 1",
      "memory_usage == memory_usage || oom_score >= 0",
    ]
  ) {
    const compiled = compileExpression(source, VARIABLE_NAMES);
    assert.equal(compiled.matches(unreadable), false, source);
  }
  // A variable the expression does not name does not matter.
  assert.equal(compileExpression("oom_score >= 0", VARIABLE_NAMES).matches(unreadable), true);
});

Deno.test("the translation keeps !=, nests ! and never emits the library's || or !", () => {
  const translate = (source: string) => toExprEvalSyntax(parseExpression(source, VARIABLE_NAMES));
  assert.equal(translate("1 != 2"), "(1 != 2)");
  assert.equal(translate("!!memory_usage"), "(not (not memory_usage))");
  assert.equal(translate("!(memory_usage > 1)"), "(not (memory_usage > 1))");
  assert.equal(translate("-2^2"), "(-(2 ^ 2))");
  assert.equal(
    translate("a || b && c".replace(/[abc]/g, "oom_score")),
    "(oom_score or (oom_score and oom_score))",
  );
  assert.equal(translate("1 + 2 - 3 + 4"), "(1 + 2 - 3 + 4)");
  assert.equal(translate("512Mi"), "536870912");
  const all = translate("!(1 || 2) != !3 && -min(1, 2) ^ 2 > 1");
  assert.doesNotMatch(all, /\|\||&&|![^=]/);
});

Deno.test("variables lists the referenced names once, sorted", () => {
  const compiled = compileExpression(
    "oom_score > 1 || memory_usage > 2 || min(memory_usage, oom_score_adj) < 0",
    VARIABLE_NAMES,
  );
  assert.deepEqual(compiled.variables, ["memory_usage", "oom_score", "oom_score_adj"]);
  assert.deepEqual(compileExpression("1 + 1", VARIABLE_NAMES).variables, []);
});

Deno.test("evaluate reads only referenced variables and rejects a missing one", () => {
  const compiled = compileExpression("memory_usage > 1", VARIABLE_NAMES);
  assert.equal(compiled.evaluate({ memory_usage: 2 }), true);
  assert.throws(
    () => compiled.evaluate({}),
    (e) => e instanceof ExpressionError && e.message === 'variable "memory_usage" has no value',
  );
});

Deno.test("compileExpression accepts any list of known names", () => {
  const compiled = compileExpression("a + b * 2", ["a", "b"]);
  assert.equal(compiled.evaluate({ a: 1, b: 3 }), 7);
  const e = (() => {
    try {
      compileExpression("c", ["a", "b"]);
    } catch (e) {
      return e;
    }
  })();
  assert.ok(e instanceof ExpressionError);
  assert.equal(e.message, 'unknown variable "c" at column 1; --help lists the variables');
});

Deno.test("PRECEDENCE_TABLE agrees with the parser", () => {
  assert.deepEqual(PRECEDENCE_TABLE.map((r) => r.operators.join(" ")), [
    "^",
    "- !",
    "* / %",
    "+ -",
    "> < >= <= == !=",
    "&&",
    "||",
  ]);
  const binaryRows = PRECEDENCE_TABLE.filter((r) =>
    r.associativity !== "right" || r.operators[0] === "^"
  );
  // For a tighter operator `hi` and a looser `lo`, `1 lo 2 hi 3` and `1 hi 2 lo 3` group round hi.
  for (let i = 0; i < binaryRows.length; i++) {
    for (let j = i + 1; j < binaryRows.length; j++) {
      for (const hi of binaryRows[i].operators) {
        for (const lo of binaryRows[j].operators) {
          const right = parseExpression(`1 ${lo} 2 ${hi} 3`, []);
          assert.ok(right.kind === "binary" && right.operator === lo, `1 ${lo} 2 ${hi} 3`);
          const left = parseExpression(`1 ${hi} 2 ${lo} 3`, []);
          assert.ok(left.kind === "binary" && left.operator === lo, `1 ${hi} 2 ${lo} 3`);
        }
      }
    }
  }
  // Prefix operators: looser than ^ on their right, tighter than every other binary operator.
  for (const op of ["-", "!"]) {
    const power = parseExpression(`${op}2 ^ 2`, []);
    assert.ok(power.kind === "unary" && power.operand.kind === "binary", `${op}2 ^ 2`);
    for (const row of binaryRows.slice(1)) {
      for (const bin of row.operators) {
        const node = parseExpression(`${op}2 ${bin} 2`, []);
        assert.ok(node.kind === "binary" && node.left.kind === "unary", `${op}2 ${bin} 2`);
      }
    }
  }
  for (const row of PRECEDENCE_TABLE) {
    if (row.associativity !== "left") continue;
    for (const op of row.operators) {
      const node = parseExpression(`1 ${op} 2 ${op} 3`, []);
      assert.ok(node.kind === "binary" && node.left.kind === "binary", `${op} groups left`);
    }
  }
});

Deno.test("parseSizeLiteral", () => {
  assert.equal(parseSizeLiteral("512Mi"), 536870912);
  assert.equal(parseSizeLiteral("1.5Gi"), 1610612736);
  assert.equal(parseSizeLiteral("2G"), 2e9);
  assert.equal(parseSizeLiteral("100k"), 100000);
  assert.equal(parseSizeLiteral("1E"), 1e18);
  assert.equal(parseSizeLiteral("1e3"), 1000);
  assert.equal(parseSizeLiteral("4096"), 4096);
  assert.equal(parseSizeLiteral("1K"), 1000);
  assert.equal(parseSizeLiteral("250m"), 0.25);
  for (
    const bad of [
      "",
      "Mi",
      "-1Mi",
      " 1Mi",
      "1Mi ",
      "5Mix",
      "5Xi",
      "1Kk",
      "1e3Ki",
      "0x10",
      "1..2",
      "1e999",
    ]
  ) {
    assert.equal(parseSizeLiteral(bad), undefined, JSON.stringify(bad));
  }
});

// --- Rejections -----------------------------------------------------------------------------------

const DEEP = "(".repeat(10_000) + "1" + ")".repeat(10_000);
const HUGE = "memory_usage > 1 || ".repeat(60_000) + "1";

const REJECTIONS: [source: string, fragment: string][] = [
  ["memory_usage.x > 1", 'member access (".") is not allowed at column 13'],
  ["a.b", "member access"],
  ["__proto__ > 1", 'reserved word "__proto__" is not allowed at column 1'],
  ["constructor", 'reserved word "constructor"'],
  ["this", 'reserved word "this"'],
  ["memory_usage > prototype", 'reserved word "prototype" is not allowed at column 16'],
  ["memory_usage = 1", 'assignment ("=") is not allowed at column 14; use "==" to compare'],
  ["f(x) = x + 1", 'assignment ("=") is not allowed'],
  ['"a" == "a"', "strings are not allowed at column 1"],
  ["'a'", "strings are not allowed"],
  ["[1]", 'brackets ("[") are not allowed at column 1'],
  ["memory_usage[0]", 'brackets ("[") are not allowed at column 13'],
  ["1 in memory_usage", 'the "in" operator is not allowed at column 3'],
  ["memory_usage > 1 ? 1 : 0", 'the conditional operator ("?:") is not allowed at column 18'],
  ["memory_usage > 1; 1", '";" is not allowed at column 17'],
  ["exp(1)", 'unknown function "exp" at column 1; --help lists the functions'],
  ["mx(1, 2)", 'unknown function "mx" at column 1 (did you mean max?)'],
  ["pow(2, 3)", 'unknown function "pow"'],
  ["if(1, 2, 3)", 'unknown function "if"'],
  ["sine(1)", 'unknown function "sine" at column 1 (did you mean sin or sinh?)'],
  ["valueOf()", 'unknown function "valueOf"'],
  ["memory_usage()", '"memory_usage" at column 1 is a variable, not a function'],
  ["round", 'function "round" at column 1 must be called with parentheses: round(x) or round('],
  ["pi > 1", 'function "pi" at column 1 must be called with parentheses: pi()'],
  ["min()", "min() at column 1 takes at least 1 argument, got 0: min(x, ...)"],
  ["abs(1, 2)", "abs() at column 1 takes exactly 1 argument, got 2: abs(x)"],
  ["log(1, 2, 3)", "log() at column 1 takes 1 or 2 arguments, got 3: log(x) for base 10, or log("],
  ["round()", "round() at column 1 takes 1 or 2 arguments, got 0"],
  ["e(1)", "e() at column 1 takes no arguments, got 1: e()"],
  [
    "memory_usge > 1",
    'unknown variable "memory_usge" at column 1 (did you mean memory_usage?); --help lists the',
  ],
  [
    "memory_pressure > 1",
    "(did you mean memory_pressure_some_avg10, memory_pressure_some_avg60 or memory_pressure_s",
  ],
  ["memory_usage => 75", '"=>" is not an operator at column 14; use ">="'],
  ["memory_usage =< 75", '"=<" is not an operator at column 14; use "<="'],
  ["memory_usage === 75", '"===" is not an operator at column 14; use "=="'],
  ["memory_usage !== 75", '"!==" is not an operator at column 14; use "!="'],
  [
    "memory_current > 512m",
    "512m at column 18 is 0.512 (m means milli), a fraction of a byte for memory_current; for " +
    "megabytes write 512M or 512Mi",
  ],
  ["2u < memory_working_set_growth_rate", "2u at column 1 is 0.000002 (u means micro)"],
  ["memory_max == 1µ", "1µ at column 15 is 0.000001 (µ means micro)"],
  ["memroy_usage > 1", "(did you mean memory_usage?)"],
  ["Memory_Usage > 1", "(did you mean memory_usage?)"],
  ["toString", 'unknown variable "toString"'],
  ["hasOwnProperty > 1", 'unknown variable "hasOwnProperty"'],
  ["PI > 1", 'unknown variable "PI"'],
  ["E", 'unknown variable "E"'],
  ["", "expression is empty"],
  ["  \t\n ", "expression is empty"],
  ["(memory_usage > 1", 'missing ")" for the "(" at column 1'],
  ["min(1, 2", 'missing ")" for the "(" at column 4'],
  ["memory_usage > 1)", 'unmatched ")" at column 17'],
  ["()", 'expected a value but found ")" at column 2'],
  ["memory_usage >", 'missing value after ">" at column 14'],
  ["memory_usage > 1 ||", 'missing value after "||" at column 18'],
  ["> 1", 'expected a value but found ">" at column 1'],
  ["3!", 'missing operator before "!" at column 2'],
  ["!", 'missing value after "!" at column 1'],
  ["/* c */ 1", 'expected a value but found "/" at column 1'],
  ["memory_usage 1", 'missing operator before "1" at column 14'],
  ["memory_usage oom_score", 'missing operator before "oom_score"'],
  ["(1)(2)", 'missing operator before "("'],
  ["memory_current > 512 Mi", "write number suffixes without a space"],
  ["1, 2", '"," is only allowed between function arguments at column 2'],
  ["min(1,)", 'expected a value but found ")" at column 7'],
  ["1 < memory_usage < 5", "comparisons cannot be chained at column 18"],
  [
    "1 < memory_usage < 5",
    "comparisons cannot be chained at column 18; write 1 < memory_usage && memory_usage < 5",
  ],
  ["oom_score * 2 >= 1 <= (", "comparisons cannot be chained at column 20; write a < b && b < c"],
  ["memory_usage > 1 and oom_score > 1", '"and" is not an operator at column 18; use "&&"'],
  ["not memory_usage", '"not" is not an operator at column 1; use "!"'],
  ["1 & 1", 'unexpected character "&" at column 3; use "&&"'],
  ["1 | 1", 'unexpected character "|" at column 3; use "||"'],
  [
    "5Mix",
    'invalid number suffix "Mix" at column 2; valid suffixes: p n u µ m k K M G T P E Ki Mi Gi Ti',
  ],
  ["5Xi", 'invalid number suffix "Xi" at column 2'],
  ["1Kk", 'invalid number suffix "Kk"'],
  ["1mi", 'invalid number suffix "mi"'],
  ["0x10", 'invalid number suffix "x10"'],
  ["1e3Ki", 'number suffix "Ki" at column 4 cannot follow an exponent'],
  ["1e3k", 'number suffix "k" at column 4 cannot follow an exponent'],
  ["1e999", 'number "1e999" at column 1 is too large'],
  ["$x", 'unexpected character "$" at column 1'],
  ["{}", 'unexpected character "{"'],
  ["memory_usage > 1\u0007", "unexpected character U+0007 at column 17"],
  ["\u0000", "unexpected character U+0000 at column 1"],
  ["mémoire > 1", "unexpected character U+00E9 at column 2"],
  ["memory_usage \u2265 1", "unexpected character U+2265 at column 14"],
  ["memory_usage\u00a0> 1", "unexpected character U+00A0 at column 13"],
  ["\u{1F600}", "unexpected character U+1F600 at column 1"],
  [DEEP, `expression is too long (20001 characters; the limit is ${MAX_EXPRESSION_LENGTH})`],
  [HUGE, "expression is too long"],
  [
    "(".repeat(2000) + "1" + ")".repeat(2000),
    "expression is nested too deeply at column 65 (more than 64 levels)",
  ],
  ["-".repeat(4000) + "1", "expression is nested too deeply"],
  ["2^".repeat(2000) + "1", "expression is nested too deeply"],
];

Deno.test(`rejection table: ${REJECTIONS.length} cases`, () => {
  for (const [source, fragment] of REJECTIONS) {
    const started = performance.now();
    const e = compileError(source);
    const label = source.length > 40 ? `${source.slice(0, 40)}...` : source;
    assert.ok(performance.now() - started < 500, `${JSON.stringify(label)} took too long`);
    assert.ok(
      e.message.includes(fragment),
      `${JSON.stringify(label)}: message ${JSON.stringify(e.message)} lacks ${
        JSON.stringify(fragment)
      }`,
    );
    assert.doesNotMatch(e.message, /\n/, `${JSON.stringify(label)}: message is one line`);
    assert.equal(e.name, "ExpressionError");
  }
});

Deno.test("errors carry the 1-based position they name", () => {
  assert.equal(compileError("memory_usge > 1").position, 1);
  assert.equal(compileError("1 + é").position, 5);
  assert.equal(compileError("memory_usage > 1)").position, 17);
  assert.equal(compileError("").position, undefined);
});

Deno.test("the unknown-variable message is short: the best guesses and a pointer to --help", () => {
  for (const source of ["memory_usge > 1", "memory_pressure > 1", "pressure > 1", "zzzzzzzz"]) {
    const message = compileError(source).message;
    assert.ok(message.length <= 200, `${message.length} characters: ${message}`);
    assert.ok(message.endsWith("--help lists the variables"), message);
  }
  assert.doesNotMatch(compileError("zzzzzzzz").message, /did you mean/);
});

Deno.test("nesting up to the limit compiles and evaluates", () => {
  const depth = MAX_NESTING_DEPTH;
  const parens = "(".repeat(depth) + "memory_usage" + ")".repeat(depth);
  assert.equal(compileExpression(parens, VARIABLE_NAMES).evaluate(SAMPLE), 80);
  assert.equal(compileError("(" + parens + ")").message.includes("nested too deeply"), true);
  assert.equal(compileExpression("!".repeat(depth) + "1", VARIABLE_NAMES).evaluate(SAMPLE), true);
  compileError("!".repeat(depth + 1) + "1");
  // Each level opens every binary precedence level inside it: the most nesting in the library.
  const worst = "1 || 1 && 1 > 1 + 1 * (".repeat(depth) + "1" + ")".repeat(depth);
  assert.equal(compileExpression(worst, VARIABLE_NAMES).evaluate(SAMPLE), true);
  const mixed = "1 || 1 && 1 > 1 + 1 * -min(1, 2 ^ (".repeat(depth / 4) + "1" +
    "))".repeat(depth / 4);
  assert.equal(compileExpression(mixed, VARIABLE_NAMES).evaluate(SAMPLE), true);
  // A long flat chain is not nesting and must not nest in the library either.
  const chain = Array(Math.floor(MAX_EXPRESSION_LENGTH / 2)).fill("1").join("+");
  assert.equal(compileExpression(chain, VARIABLE_NAMES).evaluate(SAMPLE), 2048);
  const ors = Array(Math.floor(MAX_EXPRESSION_LENGTH / 5)).fill("0").join(" || ");
  assert.equal(compileExpression(ors + " || 1", VARIABLE_NAMES).evaluate(SAMPLE), true);
});

// --- Property tests -------------------------------------------------------------------------------

const PROPERTY_VARIABLES = ["memory_usage", "oom_score", "memory_pressure_full_avg60"];
const VARIABLE_VALUES = [0, 1, -1, 0.5, -0.5, 2, 3, 75, 100, 1e9, NaN];
const LITERALS: [text: string, value: number][] = [
  ["0", 0],
  ["1", 1],
  ["2", 2],
  ["3", 3],
  ["10", 10],
  ["0.5", 0.5],
  [".5", 0.5],
  ["2.5e-1", 0.25],
  ["1e3", 1000],
  ["1Ki", 1024],
  ["512Mi", 512 * 1024 * 1024],
  ["1.5Gi", 1.5 * 1024 ** 3],
  ["1Ei", 2 ** 60],
  ["2G", 2_000_000_000],
  ["100k", 100_000],
  ["1E", 1_000_000_000_000_000_000],
];

function toNumber(v: Value): number {
  return typeof v === "boolean" ? (v ? 1 : 0) : v;
}

function truthy(v: Value): boolean {
  return typeof v === "boolean" ? v : v !== 0 && !Number.isNaN(v);
}

function roundAwayFromZero(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** The intended meaning of each operator, written independently of src/evaluate/expression.ts. */
function applyBinary(op: string, a: Value, b: Value): Value {
  const x = toNumber(a);
  const y = toNumber(b);
  switch (op) {
    case "||":
      return truthy(a) || truthy(b);
    case "&&":
      return truthy(a) && truthy(b);
    case ">":
      return x > y;
    case "<":
      return x < y;
    case ">=":
      return x >= y;
    case "<=":
      return x <= y;
    case "==":
      return x === y;
    case "!=":
      return x !== y;
    case "+":
      return x + y;
    case "-":
      return x - y;
    case "*":
      return x * y;
    case "/":
      return x / y;
    case "%":
      return x % y;
    case "^":
      return Math.pow(x, y);
  }
  throw new Error(`unknown operator ${op}`);
}

function applyFunction(name: string, args: Value[]): number {
  const xs = args.map(toNumber);
  switch (name) {
    // fasteval folds with Rust's f64::min/max, which skip a NaN; only a NaN first argument shows.
    case "min":
      return Number.isNaN(xs[0]) ? NaN : Math.min(...xs.filter((x) => !Number.isNaN(x)));
    case "max":
      return Number.isNaN(xs[0]) ? NaN : Math.max(...xs.filter((x) => !Number.isNaN(x)));
    case "abs":
      return Math.abs(xs[0]);
    case "floor":
      return Math.floor(xs[0]);
    case "ceil":
      return Math.ceil(xs[0]);
    case "round":
      return roundAwayFromZero(xs[0]);
    case "int":
      return Math.trunc(xs[0]);
  }
  throw new Error(`unknown function ${name}`);
}

/** Evaluates our own parse tree, for comparing with the library's result. */
function evaluateTree(node: ExpressionNode, values: Record<string, number>): Value {
  switch (node.kind) {
    case "number":
      return node.value;
    case "variable":
      return values[node.name];
    case "unary": {
      const v = evaluateTree(node.operand, values);
      return node.operator === "-" ? -toNumber(v) : !truthy(v);
    }
    case "binary":
      return applyBinary(
        node.operator,
        evaluateTree(node.left, values),
        evaluateTree(node.right, values),
      );
    case "call":
      return applyFunction(node.name, node.args.map((a) => evaluateTree(a, values)));
  }
}

// Binding strength used by the generator: 8 atoms and calls, 7 ^, 6 prefix, 5 * / %, 4 + -,
// 3 comparisons, 2 &&, 1 ||.
const GENERATED_BINARY: [op: string, strength: number][] = [
  ["||", 1],
  ["&&", 2],
  [">", 3],
  ["<", 3],
  [">=", 3],
  ["<=", 3],
  ["==", 3],
  ["!=", 3],
  ["+", 4],
  ["-", 4],
  ["*", 5],
  ["/", 5],
  ["%", 5],
  ["^", 7],
];

interface Generated {
  text: string;
  strength: number;
  value: Value;
}

/**
 * A random well-formed expression with the value it must have, parenthesised only where the
 * documented precedence requires (and sometimes where it does not), so parsing is tested too.
 */
function generate(random: () => number, values: Record<string, number>, depth: number): Generated {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const wrap = (g: Generated, atLeast: number): string =>
    g.strength < atLeast || random() < 0.05 ? `(${g.text})` : g.text;
  const r = random();
  if (depth <= 0 || r < 0.2) {
    if (random() < 0.5) {
      const name = pick(PROPERTY_VARIABLES);
      return { text: name, strength: 8, value: values[name] };
    }
    const [text, value] = pick(LITERALS);
    return { text, strength: 8, value };
  }
  if (r < 0.35) {
    const op = pick(["-", "!"]);
    const operand = generate(random, values, depth - 1);
    const value = op === "-" ? -toNumber(operand.value) : !truthy(operand.value);
    return { text: `${op}${wrap(operand, 6)}`, strength: 6, value };
  }
  if (r < 0.45) {
    const name = pick(["min", "max", "abs", "floor", "ceil", "round", "int"]);
    const count = name === "min" || name === "max" ? 1 + Math.floor(random() * 3) : 1;
    const args = Array.from({ length: count }, () => generate(random, values, depth - 1));
    return {
      text: `${name}(${args.map((a) => a.text).join(", ")})`,
      strength: 8,
      value: applyFunction(name, args.map((a) => a.value)),
    };
  }
  const [op, strength] = pick(GENERATED_BINARY);
  const left = generate(random, values, depth - 1);
  const right = generate(random, values, depth - 1);
  let leftNeeds = strength;
  let rightNeeds = strength + 1;
  if (op === "^") [leftNeeds, rightNeeds] = [8, 6];
  else if (strength === 3) [leftNeeds, rightNeeds] = [4, 4];
  return {
    text: `${wrap(left, leftNeeds)} ${op} ${wrap(right, rightNeeds)}`,
    strength,
    value: applyBinary(op, left.value, right.value),
  };
}

function randomValues(random: () => number): Record<string, number> {
  return vars(Object.fromEntries(
    PROPERTY_VARIABLES.map((
      n,
    ) => [n, VARIABLE_VALUES[Math.floor(random() * VARIABLE_VALUES.length)]]),
  ));
}

Deno.test("property: generated expressions evaluate to their intended value", () => {
  const random = prng(0x00badc0de);
  for (let i = 0; i < 3000; i++) {
    const values = randomValues(random);
    const expected = generate(random, values, 1 + Math.floor(random() * 5));
    const compiled = compileExpression(expected.text, VARIABLE_NAMES);
    assertValue(expected.text, compiled.evaluate(values), expected.value);
    const tree = parseExpression(expected.text, VARIABLE_NAMES);
    assertValue(expected.text, evaluateTree(tree, values), expected.value);
  }
});

const NOISE = [
  "(",
  ")",
  ",",
  "+",
  "-",
  "*",
  "/",
  "%",
  "^",
  "!",
  "&&",
  "||",
  ">",
  "<=",
  "==",
  "!=",
  "1",
  ".5",
  "1e3",
  "1E",
  "1Ki",
  "e",
  "E",
  "Mi",
  "memory_usage",
  "oom_score",
  "min",
  "round",
  "exp",
  "memory_usge",
  ".",
  "[",
  "]",
  "=",
  '"',
  "'",
  ";",
  "?",
  ":",
  "in",
  "this",
  "constructor",
  "__proto__",
  "and",
  "not",
  "&",
  "|",
  "$",
  "é",
  "\u0000",
  "\u{1F600}",
  "5Mix",
];

/** Tokens of a generated expression, mutated: tokens inserted, dropped, replaced, spaces lost. */
function mutatedStream(random: () => number, values: Record<string, number>): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const tokens = generate(random, values, Math.floor(random() * 4)).text.split(" ");
  const mutations = Math.floor(random() * 4);
  for (let m = 0; m < mutations; m++) {
    const at = Math.floor(random() * (tokens.length + 1));
    const kind = random();
    if (kind < 0.4) tokens.splice(at, 0, pick(NOISE));
    else if (kind < 0.7) tokens.splice(at, 1);
    else tokens.splice(at, 1, pick(NOISE));
  }
  return tokens.join(random() < 0.2 ? "" : " ");
}

Deno.test("property: random token streams compile or throw ExpressionError, never anything else", () => {
  const random = prng(42);
  const started = performance.now();
  let compiled = 0;
  for (let i = 0; i < 5000; i++) {
    const values = randomValues(random);
    const source = mutatedStream(random, values);
    let expression;
    try {
      expression = compileExpression(source, VARIABLE_NAMES);
    } catch (e) {
      assert.ok(e instanceof ExpressionError, `${JSON.stringify(source)} threw ${String(e)}`);
      continue;
    }
    compiled++;
    const tree = parseExpression(source, VARIABLE_NAMES);
    assertValue(source, expression.evaluate(values), evaluateTree(tree, values));
  }
  assert.ok(compiled > 1000, `only ${compiled} of 5000 streams compiled`);
  assert.ok(performance.now() - started < 20_000, "took too long");
});
