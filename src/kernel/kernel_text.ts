/**
 * What the kernel-file parsers share: a run of digits to a finite number, and a piece of input
 * quoted short, so a garbled or huge file still makes a short one-line message.
 * @module
 */

/** The most characters of input a message quotes. */
const QUOTE_LIMIT = 64;

/** `text` cut to {@link QUOTE_LIMIT} characters, with "…" when cut. */
export function clip(text: string): string {
  return text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}…` : text;
}

/** `text` clipped and JSON-quoted, for error messages. */
export function quote(text: string): string {
  return JSON.stringify(clip(text));
}

/** Kernel figures are at most 64-bit: anything larger is garbage (2^64 - 1 rounds to 2^64). */
const KERNEL_MAX = 2 ** 64;

/**
 * The number a decimal the caller has already validated stands for. Throws when its magnitude
 * exceeds 64 bits, which no kernel figure does, so a garbled file never reads as Infinity.
 */
export function finiteNumber(decimal: string): number {
  const value = Number(decimal);
  if (!(Math.abs(value) <= KERNEL_MAX)) throw new Error(`${quote(decimal)} is out of range`);
  return value;
}
