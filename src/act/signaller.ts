/**
 * Sends one signal to one process, safely: never to pid 1 or ourselves, never to a newcomer
 * that took over a pid since the scan, never one whose default action would end a process that
 * does not handle it, and not at all in dry-run mode.
 * @module
 */
import { processKey, type ProcessSample } from "../collect/sample.ts";
import type { SignalMasks } from "../kernel/procfs.ts";
import { defaultAction, needsHandler, type SignalHandling, signalHandling } from "./signals.ts";

/**
 * Why a signal was withheld, the `reason` label of `oomhero_signals_withheld_total`: how the
 * process treats it ({@link SignalHandling} but `caught`), or `unreadable` when its
 * `/proc/<pid>/status` could not be read, since sending blind could end it.
 */
export type WithheldReason = Exclude<SignalHandling, "caught"> | "unreadable";

/** What became of one send. */
export type SendOutcome =
  | { result: "sent" }
  | { result: "dry_run" }
  /** `cause`, when known, says what to change: EPERM is a missing CAP_KILL. */
  | { result: "failed"; reason: string; cause?: string }
  /** The process exited or its pid was reused since the scan: nothing was sent. */
  | { result: "gone" }
  /** pid 1 or oomhero itself: never signalled. */
  | { result: "refused"; reason: string }
  /** Not sent: the process does not catch it, and its default action would end the process. */
  | { result: "withheld"; reason: WithheldReason; cause?: string };

/** What the signaller needs from the outside world; tests substitute their own. */
export interface SignallerDeps {
  /** Current start time of a pid, undefined when it no longer exists. */
  readStartTime(pid: number): number | undefined;
  /** Sends the signal; throws like `Deno.kill`. */
  kill(pid: number, signal: Deno.Signal): void;
  /** Our own pid in the procfs we read. */
  selfPid: number;
  /** oomhero's ancestors, as process keys (pid:start time): never signalled either. */
  ancestors: ReadonlySet<string>;
  /** The signal masks of a pid's `/proc/<pid>/status`; throws when it cannot be read. */
  readSignalMasks(pid: number): SignalMasks;
  /** Send even to processes that do not handle the signal (`--signal-unhandled`). */
  sendUnhandled: boolean;
  /** Evaluate and log only. */
  dryRun: boolean;
}

/** The short reason of a failed `kill`, e.g. `EPERM`, for logs and metrics. */
export function killErrorReason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "ESRCH";
  if (e instanceof Deno.errors.PermissionDenied) return "EPERM";
  const m = /^(E[A-Z]+)/.exec((e as Error)?.message ?? "");
  return m ? m[1] : String((e as Error)?.message ?? e);
}

/**
 * What a failed `kill` means for the deployment. EPERM: the target belongs to another user and
 * oomhero lacks CAP_KILL, the capability that lifts that rule.
 */
export function killErrorCause(reason: string): string | undefined {
  return reason === "EPERM"
    ? "oomhero lacks CAP_KILL, which signalling a process of another user needs"
    : undefined;
}

/** Sends `signal` to the process of `sample` if it is still the same process. */
export function sendSignal(
  sample: ProcessSample,
  signal: Deno.Signal,
  deps: SignallerDeps,
): SendOutcome {
  if (sample.pid === 1) return { result: "refused", reason: "pid 1 is never signalled" };
  if (sample.pid === deps.selfPid) return { result: "refused", reason: "oomhero itself" };
  if (deps.ancestors.has(processKey(sample.pid, sample.startTime))) {
    return { result: "refused", reason: "an ancestor of oomhero" };
  }
  // The pid may have been reused between the scan and now: compare start times.
  if (deps.readStartTime(sample.pid) !== sample.startTime) return { result: "gone" };
  if (!deps.sendUnhandled && needsHandler(signal)) {
    const withheld = withholding(sample, signal, deps);
    if (withheld !== undefined) return withheld;
  }
  if (deps.dryRun) return { result: "dry_run" };
  try {
    deps.kill(sample.pid, signal);
    return { result: "sent" };
  } catch (e) {
    const reason = killErrorReason(e);
    // ESRCH: it exited between the start-time check and the kill.
    if (reason === "ESRCH") return { result: "gone" };
    const cause = killErrorCause(reason);
    return cause === undefined ? { result: "failed", reason } : { result: "failed", reason, cause };
  }
}

/**
 * Why `signal` must not go to the process, undefined when it catches it. Read afresh before each
 * send, so a process that installs its handler later gets the next signal.
 */
function withholding(
  sample: ProcessSample,
  signal: Deno.Signal,
  deps: SignallerDeps,
): SendOutcome | undefined {
  let masks: SignalMasks;
  try {
    masks = deps.readSignalMasks(sample.pid);
  } catch (e) {
    // Exited since the start-time check: its files went with it.
    if (deps.readStartTime(sample.pid) !== sample.startTime) return { result: "gone" };
    return { result: "withheld", reason: "unreadable", cause: (e as Error)?.message ?? String(e) };
  }
  const handling = signalHandling(masks, signal);
  return handling === "caught" ? undefined : { result: "withheld", reason: handling };
}

/** The log line of a withheld signal: what happened, and why nothing was sent. */
export function withheldNotice(
  signal: Deno.Signal,
  reason: WithheldReason,
): { msg: string; why: string } {
  const effect = defaultAction(signal) === "stop" ? "stop (freeze)" : "end";
  switch (reason) {
    case "not_handled":
      return {
        msg: `does not handle ${signal}; not sent`,
        why: `its default action would ${effect} the process; give it a handler, or pass ` +
          "--signal-unhandled to send anyway",
      };
    case "ignored":
      return {
        msg: `ignores ${signal}; not sent`,
        why: "the process set it to SIG_IGN, so the kernel would discard it",
      };
    case "blocked":
      return {
        msg: `blocks ${signal} without a handler; not sent`,
        why: `once unblocked its default action would ${effect} the process; a program that ` +
          "reads it with signalfd or sigwait needs --signal-unhandled",
      };
    case "unreadable":
      return {
        msg: `cannot tell whether it handles ${signal}; not sent`,
        why: `sending blind could ${effect} the process`,
      };
  }
}
