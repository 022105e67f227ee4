/**
 * Signal names and numbers as users may write them (`SIGUSR1`, `USR1`, `usr1` or `10`), and what
 * a signal does to a process that does not handle it.
 * @module
 */
import type { SignalMasks } from "../kernel/procfs.ts";

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

/** Signals whose default action is to do nothing (signal(7)): harmless to any process. */
const IGNORED_BY_DEFAULT: readonly Deno.Signal[] = ["SIGCHLD", "SIGURG", "SIGWINCH", "SIGCONT"];

/** Signals whose default action stops (freezes) the process; the rest of 1–31 terminate it. */
const STOP_BY_DEFAULT: readonly Deno.Signal[] = ["SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU"];

/**
 * Signals users pick to end a process (upstream's README sends `--critical-signal SIGTERM`), and
 * SIGSTOP, which no process can catch: sent whether or not the process handles them.
 */
export const DELIBERATE_SIGNALS: readonly Deno.Signal[] = [
  "SIGTERM",
  "SIGINT",
  "SIGQUIT",
  "SIGKILL",
  "SIGSTOP",
];

/** What `signal` does to a process that neither catches nor ignores it. */
export function defaultAction(signal: Deno.Signal): "ignore" | "stop" | "terminate" {
  if (IGNORED_BY_DEFAULT.includes(signal)) return "ignore";
  return STOP_BY_DEFAULT.includes(signal) ? "stop" : "terminate";
}

/**
 * Whether oomhero sends `signal` only to a process that catches it: its default action would end
 * or freeze the process, and it is not one users pick to end a process.
 */
export function needsHandler(signal: Deno.Signal): boolean {
  return defaultAction(signal) !== "ignore" && !DELIBERATE_SIGNALS.includes(signal);
}

/**
 * How a process treats a signal, from its `/proc/<pid>/status` masks: `caught` by a handler,
 * `ignored` (SIG_IGN: the kernel discards it), `blocked` by its main thread without a handler (a
 * signalfd or sigwait reader takes it; anything else gets the default action once it unblocks),
 * or `not_handled` (the default action).
 */
export type SignalHandling = "caught" | "ignored" | "blocked" | "not_handled";

/** The {@link SignalHandling} of `signal` by a process with these masks. */
export function signalHandling(masks: SignalMasks, signal: Deno.Signal): SignalHandling {
  const bit = 1n << BigInt(signalNumber(signal) - 1);
  if ((masks.caught & bit) !== 0n) return "caught";
  if ((masks.ignored & bit) !== 0n) return "ignored";
  return (masks.blocked & bit) !== 0n ? "blocked" : "not_handled";
}
