/**
 * Command lines as oomhero shows them: in logs, webhook bodies and `inspect`. A command line may
 * be kilobytes long and carry secrets passed as arguments (a JSON blob of environment values), so
 * what is shown is bounded: the first argument, then at most {@link SHOWN_TAIL_MAX} characters of
 * the rest, with a mark saying how much was left out. The full command line stays in memory for
 * `--include` and `--exclude` only.
 * @module
 */

/** A command line as the collector reads it (`ProcessSample` has both). */
export interface CommandLine {
  /** The arguments joined by spaces. */
  cmdline: string;
  /** The first argument, usually the program. */
  firstArg: string;
}

/**
 * The most of the first argument shown. Longer than any path a program is run from, but a
 * program that rewrites its title (setproctitle) may put everything into the first argument.
 */
export const SHOWN_FIRST_ARG_MAX = 200;

/** The most of the arguments after the first shown: enough to tell processes apart. */
export const SHOWN_TAIL_MAX = 80;

/** `text` cut to `max` characters, never inside a surrogate pair. */
function cut(text: string, max: number): string {
  const end = /[\uD800-\uDBFF]/.test(text[max - 1] ?? "") ? max - 1 : max;
  return text.slice(0, end);
}

/** `text` if it has at most `max` characters, else its start and how much was left out. */
function bounded(text: string, max: number): string {
  if (text.length <= max) return text;
  const kept = cut(text, max);
  return `${kept}…(+${text.length - kept.length} chars)`;
}

/** The arguments after the first, with the space that separates them; "" when there are none. */
function tail(line: CommandLine): string {
  // The command line starts with the first argument: parseCmdline joins the arguments.
  return line.cmdline.slice(line.firstArg.length);
}

/**
 * The first argument alone, bounded: the webhook body's `process.cmdline`, as upstream oomhero
 * sends it.
 */
export function shownFirstArg(line: CommandLine): string {
  return bounded(line.firstArg, SHOWN_FIRST_ARG_MAX);
}

/**
 * The command line for logs and `inspect --format json`: the first argument and a bounded tail of
 * the others, e.g. `python3 worker.py --config {"DB_PASSWORD":…(+1934 chars)`.
 */
export function shownCmdline(line: CommandLine): string {
  return shownFirstArg(line) + bounded(tail(line), SHOWN_TAIL_MAX);
}

/**
 * The command line for a table cell of `width` characters: the program's base name and the
 * arguments, since the directory is what processes of one interpreter share
 * (`/root/.pyenv/versions/3.11.7/bin/python a.py` shows as `python a.py`).
 */
export function compactCmdline(line: CommandLine, width: number): string {
  const program = line.firstArg.slice(line.firstArg.lastIndexOf("/") + 1) || line.firstArg;
  const text = program + tail(line);
  return text.length <= width ? text : `${cut(text, width - 1)}…`;
}
