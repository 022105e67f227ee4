/**
 * The functions an expression may call: fasteval's built-ins but `print`, their arities and what
 * each computes, with fasteval's meanings.
 * @module
 */

/** How many arguments a function takes, and how a call is written. */
export interface Arity {
  /** The fewest arguments. */
  readonly least: number;
  /** The most arguments; Infinity for `min` and `max`. */
  readonly most: number;
  /** The forms of a call, for messages and `--help`. */
  readonly usage: string;
}

const ONE: Arity = { least: 1, most: 1, usage: "(x)" };

/**
 * The functions an expression may call: fasteval's built-ins (all of them but `print`), with
 * fasteval's meanings; see {@link FUNCTION_IMPLEMENTATIONS}.
 */
export const FUNCTIONS = {
  int: ONE,
  ceil: ONE,
  floor: ONE,
  round: { least: 1, most: 2, usage: "(x) or round(modulus, x)" },
  abs: ONE,
  sign: ONE,
  log: { least: 1, most: 2, usage: "(x) for base 10, or log(base, x)" },
  min: { least: 1, most: Infinity, usage: "(x, ...)" },
  max: { least: 1, most: Infinity, usage: "(x, ...)" },
  e: { least: 0, most: 0, usage: "()" },
  pi: { least: 0, most: 0, usage: "()" },
  sin: ONE,
  cos: ONE,
  tan: ONE,
  asin: ONE,
  acos: ONE,
  atan: ONE,
  sinh: ONE,
  cosh: ONE,
  tanh: ONE,
  asinh: ONE,
  acosh: ONE,
  atanh: ONE,
} as const satisfies Record<string, Arity>;
/** The name of a function an expression may call, e.g. `min`. */
export type FunctionName = keyof typeof FUNCTIONS;
/** Every function name, in documentation order. */
export const FUNCTION_NAMES: readonly FunctionName[] = Object.keys(FUNCTIONS) as FunctionName[];

/** Rust's f64::signum, as fasteval's `sign`: 1 for +0, -1 for -0, NaN for NaN. */
function signum(x: number): number {
  if (Number.isNaN(x)) return NaN;
  return x > 0 || Object.is(x, 0) ? 1 : -1;
}

/** Rust's f64::round: halves go away from zero. */
function roundHalfAwayFromZero(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** fasteval's min and max: NaN when the first argument is NaN, later NaNs skipped (Rust's). */
function extreme(pick: (a: number, b: number) => number): (...xs: number[]) => number {
  return (...xs) => {
    let best = xs[0];
    for (const x of xs.slice(1)) {
      if (!Number.isNaN(x)) {
        best = Number.isNaN(best) ? best : pick(best, x);
      }
    }
    return best;
  };
}

/**
 * What each function computes, written from fasteval 0.2.4's evaluator: `int` truncates toward
 * zero, `round(m, x)` rounds x to a multiple of m (halves away from zero), `log(b, x)` is the
 * logarithm of x in base b (10 when b is left out), angles are in radians.
 */
export const FUNCTION_IMPLEMENTATIONS: Readonly<Record<FunctionName, (...xs: number[]) => number>> =
  {
    int: Math.trunc,
    ceil: Math.ceil,
    floor: Math.floor,
    round: (...xs) => {
      const [modulus, x] = xs.length === 2 ? xs : [1, xs[0]];
      return roundHalfAwayFromZero(x / modulus) * modulus;
    },
    abs: Math.abs,
    sign: signum,
    log: (...xs) => {
      const [base, x] = xs.length === 2 ? xs : [10, xs[0]];
      if (base === 2) return Math.log2(x);
      if (base === 10) return Math.log10(x);
      return Math.log(x) / Math.log(base);
    },
    min: extreme(Math.min),
    max: extreme(Math.max),
    e: () => Math.E,
    pi: () => Math.PI,
    sin: Math.sin,
    cos: Math.cos,
    tan: Math.tan,
    asin: Math.asin,
    acos: Math.acos,
    atan: Math.atan,
    sinh: Math.sinh,
    cosh: Math.cosh,
    tanh: Math.tanh,
    asinh: Math.asinh,
    acosh: Math.acosh,
    atanh: Math.atanh,
  };

/** How a call of `name` is written, e.g. `round(x) or round(modulus, x)`. */
export function usage(name: FunctionName): string {
  return `${name}${FUNCTIONS[name].usage}`;
}

/** Whether `name` is one of {@link FUNCTION_NAMES}. */
export function isFunctionName(name: string): name is FunctionName {
  return Object.hasOwn(FUNCTIONS, name);
}
