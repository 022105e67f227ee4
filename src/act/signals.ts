/**
 * Signal names and numbers as users may write them: `SIGUSR1`, `USR1`, `usr1` or `10`.
 * @module
 */

/** Linux signal numbers 1–31 in order: index + 1 is the number. */
const LINUX_SIGNALS: readonly Deno.Signal[] = [
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGILL",
  "SIGTRAP",
  "SIGABRT",
  "SIGBUS",
  "SIGFPE",
  "SIGKILL",
  "SIGUSR1",
  "SIGSEGV",
  "SIGUSR2",
  "SIGPIPE",
  "SIGALRM",
  "SIGTERM",
  "SIGSTKFLT",
  "SIGCHLD",
  "SIGCONT",
  "SIGSTOP",
  "SIGTSTP",
  "SIGTTIN",
  "SIGTTOU",
  "SIGURG",
  "SIGXCPU",
  "SIGXFSZ",
  "SIGVTALRM",
  "SIGPROF",
  "SIGWINCH",
  "SIGIO",
  "SIGPWR",
  "SIGSYS",
];

/** Signals an application cannot catch, so they cannot prompt it to shed memory. */
export const UNCATCHABLE_SIGNALS: readonly Deno.Signal[] = ["SIGKILL", "SIGSTOP"];

/**
 * Parses a signal name or number into Deno's signal name.
 * @throws {Error} naming a few valid signals when the input is not one.
 */
export function parseSignal(text: string): Deno.Signal {
  const s = text.trim();
  const valid = "valid signals include SIGUSR1, SIGUSR2, SIGHUP, SIGTERM, USR1 or a number 1-31";
  if (s === "") throw new Error(`is empty; ${valid}`);
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= LINUX_SIGNALS.length) return LINUX_SIGNALS[n - 1];
    throw new Error(`signal number ${s} is out of range; ${valid}`);
  }
  const upper = s.toUpperCase();
  const name = (upper.startsWith("SIG") ? upper : `SIG${upper}`) as Deno.Signal;
  if (name === "SIGPOLL" as Deno.Signal) return "SIGIO";
  if (LINUX_SIGNALS.includes(name)) return name;
  throw new Error(`unknown signal "${text}"; ${valid}`);
}

/** The Linux number of a signal name, for logs. */
export function signalNumber(signal: Deno.Signal): number {
  return LINUX_SIGNALS.indexOf(signal) + 1;
}
