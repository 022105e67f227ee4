/**
 * The scan loop: collect → trends → evaluate → signal and report, every loop interval, never
 * overlapping.
 * Over 400 lines: the loop, its alert bookkeeping and the scrape-time read of what scans leave
 * out (`refresh`) share one state: the filter, the needs, the cooldowns and the trends.
 * @module
 */
import { CooldownTable } from "../act/cooldown.ts";
import {
  evaluateSeverity,
  referencedValues,
  type Severity,
  type Thresholds,
} from "../evaluate/evaluate.ts";
import { logFigures, type Logger, type LogLevel } from "../base/log.ts";
import { shownCmdline } from "../base/shown_cmdline.ts";
import { processKey, type ProcessSample } from "../collect/sample.ts";
import type { SignalMasks } from "../kernel/procfs.ts";
import {
  sendSignal,
  type SignallerDeps,
  withheldNotice,
  type WithheldReason,
} from "../act/signaller.ts";
import type { AlertOutcomeLabel, SignalResult } from "../report/metrics.ts";
import { WEBHOOK_SIGNAL, type WebhookNotifier } from "../act/webhook.ts";
import { DEFAULT_TREND_WINDOW_MS } from "../collect/trend.ts";
import { TrendTracker } from "../collect/trend_tracker.ts";
import { NothingToWatch } from "./nothing_to_watch.ts";
import {
  EVERY_FIGURE,
  type Needs,
  needsEveryFigure,
  needsEveryFile,
  needsOf,
  NO_NEEDS,
  unionNeeds,
} from "../collect/needs.ts";

/** Where samples come from: the collector, or a fake in tests. */
export interface ProcessSource {
  /**
   * Every visible process whose command line `watched` accepts, once, with the figures `needs`
   * asks for (the others NaN); `watched` is asked about every process but oomhero and kernel
   * threads.
   */
  scan(
    watched: (cmdline: string, pid: number) => boolean,
    needs: Readonly<Needs>,
  ): ProcessSample[];
  /** Current start time of a pid, undefined when it is gone. */
  readStartTime(pid: number): number | undefined;
  /** The signal masks of a pid's `status`, read before a signal is sent; throws when unreadable. */
  readSignalMasks(pid: number): SignalMasks;
}

/** Receives what each scan saw and did: the metrics registry in production. */
export interface ScanObserver {
  /** After every scan, with the watched processes and what the scan read (its needs). */
  observeScan(
    samples: readonly ProcessSample[],
    durationSeconds: number,
    read: Readonly<Needs>,
  ): void;
  /** After every send attempt. */
  countSignal(severity: Severity, signal: string, result: SignalResult): void;
  /** After a failed send, with its reason. */
  countError(reason: string): void;
  /** After a signal was withheld from a process that does not handle it. */
  countWithheld(severity: Severity, signal: string, reason: WithheldReason): void;
  /** After every send attempt or withholding, with the process it was for. */
  observeAlert(sample: ProcessSample, severity: Severity, outcome: AlertOutcomeLabel): void;
  /**
   * The files every scan must read for this observer (the metrics: the memory figures, the
   * history the growth gauges are fitted to); every file and the trends when not given.
   */
  readonly scanNeeds?: Readonly<Needs>;
  /**
   * The figures of the watched processes read in full for it, the trends fitted to the scans'
   * history, by {@link Monitor.refresh}.
   */
  observeFigures?(samples: readonly ProcessSample[]): void;
}

/** The monitor's settings. */
export interface MonitorOptions extends Thresholds {
  /** Time between the start of one scan and the next. */
  loopIntervalMs: number;
  /** Minimum time before the same severity is sent again to the same process. */
  cooldownMs: number;
  /** Signal sent when `warning` matches. */
  warningSignal: Deno.Signal;
  /** Signal sent when `critical` matches. */
  criticalSignal: Deno.Signal;
  /** Only processes whose command line matches one of these (all when empty). */
  include: RegExp[];
  /** Processes whose command line matches one of these are never watched. */
  exclude: RegExp[];
  /** Evaluate and log, but send nothing. */
  dryRun: boolean;
  /** Send signals even to processes that do not handle them (`--signal-unhandled`). */
  sendUnhandled?: boolean;
  /** With a webhook, send the signals as well; without one, signals are always sent. */
  signalToo?: boolean;
  /** The span the growth variables are fitted over; default 30 s. */
  trendWindowMs?: number;
}

/** What the monitor needs from outside; injected so tests can drive it. */
export interface MonitorDeps {
  source: ProcessSource;
  log: Logger;
  observer?: ScanObserver;
  kill?: (pid: number, signal: Deno.Signal) => void;
  selfPid?: number;
  /** oomhero's ancestors as process keys: refused like oomhero itself. */
  ancestors?: ReadonlySet<string>;
  now?: () => number;
  /** Where alerts are POSTed; replaces signals unless `signalToo`. */
  webhook?: WebhookNotifier;
  /** How long scans may find nothing to watch before it is reported; 30 s by default. */
  nothingToWatchAfterMs?: number;
}

/** What an alert became, as counted and logged; `reason` is the `oomhero_errors_total` label. */
type AlertOutcome =
  | { result: "sent" | "dry_run" }
  | { result: "failed"; reason: string; error: string; cause?: string };

/** Whether a command line passes the include and exclude filters. */
export function isWatched(cmdline: string, include: RegExp[], exclude: RegExp[]): boolean {
  return (include.length === 0 || anyMatches(include, cmdline)) && !anyMatches(exclude, cmdline);
}

/** Whether one of `patterns` matches: a loop, as `some` made a closure a process a scan. */
function anyMatches(patterns: readonly RegExp[], text: string): boolean {
  for (let i = 0; i < patterns.length; i++) if (patterns[i].test(text)) return true;
  return false;
}

const RATE_LOG_INTERVAL_MS = 10_000;

/** Scans, evaluates and signals. */
export class Monitor {
  readonly #opts: MonitorOptions;
  readonly #source: ProcessSource;
  readonly #log: Logger;
  readonly #observer: ScanObserver | undefined;
  readonly #signaller: SignallerDeps;
  readonly #now: () => number;
  readonly #cooldown: CooldownTable;
  readonly #sendsSignals: boolean;
  readonly #webhook: WebhookNotifier | undefined;
  /** A table of its own, so a webhook outage does not re-send signals that arrived. */
  readonly #webhookCooldown: CooldownTable;
  readonly #trends: TrendTracker;
  readonly #nothingToWatch: NothingToWatch;
  /** The pids of oomhero's ancestors: processes of its own, not ones to watch. */
  readonly #ancestorPids: ReadonlySet<number>;
  /** What a scan reads: what the expressions, the webhook and the observer look at. */
  readonly #needs: Readonly<Needs>;
  /** Failures already logged at warn, per process and reason, so a retry loop is quiet. */
  readonly #reportedFailures = new Set<string>();
  #lastScanEnd: number | undefined;
  #rateWindowStart: number;
  #rateWindowScans = 0;

  constructor(opts: MonitorOptions, deps: MonitorDeps) {
    this.#opts = opts;
    this.#source = deps.source;
    this.#log = deps.log;
    this.#observer = deps.observer;
    this.#now = deps.now ?? (() => performance.now());
    this.#cooldown = new CooldownTable(opts.cooldownMs);
    this.#webhook = deps.webhook;
    this.#sendsSignals = deps.webhook === undefined || opts.signalToo === true;
    this.#webhookCooldown = new CooldownTable(opts.cooldownMs);
    this.#trends = new TrendTracker({
      windowMs: opts.trendWindowMs ?? DEFAULT_TREND_WINDOW_MS,
      intervalMs: opts.loopIntervalMs,
    });
    this.#signaller = {
      readStartTime: (pid) => deps.source.readStartTime(pid),
      readSignalMasks: (pid) => deps.source.readSignalMasks(pid),
      sendUnhandled: opts.sendUnhandled === true,
      kill: deps.kill ?? Deno.kill,
      selfPid: deps.selfPid ?? Deno.pid,
      ancestors: deps.ancestors ?? new Set(),
      dryRun: opts.dryRun,
    };
    this.#rateWindowStart = this.#now();
    this.#ancestorPids = new Set(
      [...this.#signaller.ancestors].map((k) => Number(k.split(":")[0])),
    );
    this.#nothingToWatch = new NothingToWatch({
      log: deps.log,
      startMs: this.#rateWindowStart,
      afterMs: deps.nothingToWatchAfterMs,
    });
    // A webhook body carries every variable.
    const needs = deps.webhook !== undefined ? EVERY_FIGURE : unionNeeds(
      needsOf([...opts.warning.variables, ...opts.critical.variables]),
      deps.observer === undefined ? NO_NEEDS : deps.observer.scanNeeds ?? EVERY_FIGURE,
    );
    // A scan that reads every file fits the trends too: a scrape then reads nothing again.
    this.#needs = Object.freeze(needsEveryFile(needs) ? { ...needs, trends: true } : needs);
  }

  /** Why oomhero is not ready although it scans: nothing to watch since startup. */
  notReadyReason(): string | undefined {
    return this.#nothingToWatch.reason;
  }

  /** The files each scan reads. */
  get needs(): Readonly<Needs> {
    return this.#needs;
  }

  /**
   * Reads every figure of the watched processes for the observer (a scrape), where scans read
   * fewer; nothing is evaluated, tracked or counted.
   */
  refresh(): void {
    if (needsEveryFigure(this.#needs) || this.#observer?.observeFigures === undefined) return;
    try {
      const samples = this.#source.scan(this.#watched, EVERY_FIGURE);
      this.#trends.fill(samples);
      this.#observer.observeFigures(samples);
    } catch (err) {
      // The scrape shows what the scans read; the scan loop reports what is wrong.
      this.#log.debug("scrape's read failed", { error: String(err) });
    }
  }

  readonly #watched = (cmdline: string): boolean =>
    isWatched(cmdline, this.#opts.include, this.#opts.exclude);

  /** When the last scan finished, on the `now` clock; undefined before the first. */
  lastScanEnd(): number | undefined {
    return this.#lastScanEnd;
  }

  /** One scan: collect, filter, evaluate, act, report. */
  scanOnce(): void {
    const start = this.#now();
    // Whether any process but pid 1 and oomhero's own is visible: asked only in the first scans.
    let othersVisible = !this.#nothingToWatch.looking;
    const samples = this.#source.scan((cmdline, pid) => {
      othersVisible ||= pid !== 1 && !this.#ancestorPids.has(pid);
      return isWatched(cmdline, this.#opts.include, this.#opts.exclude);
    }, this.#needs);
    // The history is of the memory figures: without them, nothing looks at a trend.
    if (this.#needs.memory) this.#trends.update(samples, start, this.#needs.trends);
    this.#nothingToWatch.observe(
      samples,
      (s) => s.pid === 1 || this.#signaller.ancestors.has(processKey(s.pid, s.startTime)),
      othersVisible,
      start,
    );
    // The processes' keys only while some table holds one: none do until an alert.
    const live = this.#cooldown.size > 0 || this.#webhookCooldown.size > 0 ||
        this.#reportedFailures.size > 0
      ? new Set<string>()
      : undefined;
    for (const sample of samples) {
      const severity = evaluateSeverity(this.#opts, sample.variables);
      if (!severity && live === undefined) continue;
      const key = processKey(sample.pid, sample.startTime);
      live?.add(key);
      if (!severity) continue;
      if (this.#sendsSignals && this.#cooldown.allows(key, severity, start)) {
        this.#act(sample, key, severity);
      }
      if (this.#webhook && this.#webhookCooldown.allows(key, severity, start)) {
        this.#notify(this.#webhook, sample, key, severity);
      }
    }
    if (live !== undefined) this.#retain(live);
    const end = this.#now();
    this.#lastScanEnd = end;
    this.#observer?.observeScan(samples, (end - start) / 1000, this.#needs);
    this.#logRate(end, samples.length);
  }

  /** Forgets the cooldowns and reported failures of processes not in `live`. */
  #retain(live: ReadonlySet<string>): void {
    this.#cooldown.retain(live);
    this.#webhookCooldown.retain(live);
    for (const k of this.#reportedFailures) {
      if (!live.has(k.slice(0, k.lastIndexOf("/")))) this.#reportedFailures.delete(k);
    }
  }

  #act(sample: ProcessSample, key: string, severity: Severity): void {
    const signal = severity === "critical" ? this.#opts.criticalSignal : this.#opts.warningSignal;
    const outcome = sendSignal(sample, signal, this.#signaller);
    if (outcome.result === "gone" || outcome.result === "refused") {
      this.#log.debug("not signalled", {
        pid: sample.pid,
        severity,
        why: outcome.result === "gone" ? "process exited or pid reused" : outcome.reason,
      });
      return;
    }
    if (outcome.result === "withheld") {
      // Retried like a failure, 1 s on: a handler installed meanwhile gets the next signal.
      this.#cooldown.record(key, severity, this.#now(), false);
      this.#withheld(sample, key, severity, signal, outcome.reason, outcome.cause);
      return;
    }
    this.#cooldown.record(key, severity, this.#now(), outcome.result !== "failed");
    this.#report(
      sample,
      key,
      severity,
      signal,
      outcome.result === "failed"
        ? {
          result: "failed",
          reason: `kill_${outcome.reason}`,
          error: outcome.reason,
          cause: outcome.cause,
        }
        : outcome,
    );
  }

  /**
   * Starts a POST without waiting for it. It counts as sent when it starts, so later scans hold
   * off; a failure, reported later, re-records it so the retry comes 1 s after the failure.
   */
  #notify(webhook: WebhookNotifier, sample: ProcessSample, key: string, severity: Severity): void {
    if (this.#opts.dryRun) {
      this.#webhookCooldown.record(key, severity, this.#now(), true);
      this.#report(sample, key, severity, WEBHOOK_SIGNAL, { result: "dry_run" });
      return;
    }
    const dispatched = webhook.dispatch(severity, sample, (outcome) => {
      if (!outcome.ok) this.#webhookCooldown.record(key, severity, this.#now(), false);
      this.#report(
        sample,
        key,
        severity,
        WEBHOOK_SIGNAL,
        outcome.ok
          ? { result: "sent" }
          : { result: "failed", reason: `webhook_${outcome.reason}`, error: outcome.error },
      );
    });
    switch (dispatched) {
      case "started":
        this.#webhookCooldown.record(key, severity, this.#now(), true);
        return;
      case "in_flight":
        this.#log.debug("webhook still in flight", { pid: sample.pid, severity });
        return;
      case "full":
        // Dropped, not queued: retried like a failure once a slot is free.
        this.#webhookCooldown.record(key, severity, this.#now(), false);
        this.#observer?.countError("webhook_dropped");
        this.#log.log(this.#levelOnce(key, "webhook_dropped"), "webhook dropped", {
          pid: sample.pid,
          severity,
          why: `${webhook.inFlight} requests in flight`,
        });
    }
  }

  /**
   * Counts and logs an alert; `signal` is the signal's name or `webhook`. Sent alerts are logged
   * at warn, as upstream logs them: they are what an operator looks for.
   */
  #report(
    sample: ProcessSample,
    key: string,
    severity: Severity,
    signal: string,
    outcome: AlertOutcome,
  ): void {
    this.#observer?.countSignal(severity, signal, outcome.result);
    this.#observer?.observeAlert(sample, severity, outcome.result);
    const what = signal === WEBHOOK_SIGNAL ? "webhook" : "signal";
    const expr = severity === "critical" ? this.#opts.critical : this.#opts.warning;
    const fields = {
      pid: sample.pid,
      cmdline: shownCmdline(sample),
      severity,
      signal,
      ...logFigures(referencedValues(expr, sample.variables)),
    };
    if (outcome.result === "failed") {
      this.#observer?.countError(outcome.reason);
      this.#log.log(this.#levelOnce(key, outcome.reason), `${what} failed`, {
        ...fields,
        error: outcome.error,
        ...(outcome.cause === undefined ? {} : { cause: outcome.cause }),
      });
    } else {
      this.#log.warn(
        outcome.result === "dry_run" ? `would send ${what} (dry run)` : `${what} sent`,
        fields,
      );
    }
  }

  /**
   * Counts a withheld signal, and says so at warn once per process, signal and reason (a retry
   * every second stays at debug).
   */
  #withheld(
    sample: ProcessSample,
    key: string,
    severity: Severity,
    signal: Deno.Signal,
    reason: WithheldReason,
    cause: string | undefined,
  ): void {
    this.#observer?.countWithheld(severity, signal, reason);
    this.#observer?.observeAlert(sample, severity, "withheld");
    const { msg, why } = withheldNotice(signal, reason);
    this.#log.log(this.#levelOnce(key, `withheld_${signal}_${reason}`), msg, {
      pid: sample.pid,
      cmdline: shownCmdline(sample),
      severity,
      signal,
      reason,
      ...(cause === undefined ? {} : { error: cause }),
      why,
    });
  }

  /** `warn` the first time a process fails for `reason`, `debug` after, so retries stay quiet. */
  #levelOnce(key: string, reason: string): LogLevel {
    const once = `${key}/${reason}`;
    const level = this.#reportedFailures.has(once) ? "debug" : "warn";
    this.#reportedFailures.add(once);
    return level;
  }

  #logRate(now: number, processes: number): void {
    this.#rateWindowScans++;
    const elapsed = now - this.#rateWindowStart;
    if (elapsed < RATE_LOG_INTERVAL_MS) return;
    this.#log.debug("scanning", {
      scans_per_second: Number((this.#rateWindowScans * 1000 / elapsed).toFixed(2)),
      processes,
    });
    this.#rateWindowStart = now;
    this.#rateWindowScans = 0;
  }

  /**
   * Scans every loop interval until `signal` aborts; rejects with what a scan throws. One
   * repeating timer rather than a timeout per scan: at 10 processes the timeouts' bookkeeping was
   * a tenth of oomhero's CPU. Deno re-arms a repeating timer from the start of its callback and
   * fires a late one once, so a scan that overruns the interval is followed at once by one
   * more scan, not by a burst, and scans never overlap (the scan is synchronous).
   */
  run(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const end = () => {
      clearInterval(timer);
      signal.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      end();
      resolve();
    };
    const scan = () => {
      try {
        this.scanOnce();
      } catch (err) {
        end();
        reject(err);
      }
    };
    signal.addEventListener("abort", onAbort);
    const timer = setInterval(scan, this.#opts.loopIntervalMs);
    scan();
    return promise;
  }
}
