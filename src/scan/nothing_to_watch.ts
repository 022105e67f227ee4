/**
 * Notices a deployment that leaves oomhero nothing to watch: a sidecar whose pod lacks
 * `shareProcessNamespace: true` sees only itself (and pid 1), and an `--include` may match no
 * process. Said once in the log; the first, which no restart can fix, also on `/readyz`.
 * @module
 */
import { formatDuration } from "../base/duration.ts";
import type { Logger } from "../base/log.ts";
import type { ProcessSample } from "../collect/sample.ts";

/** How long after startup scans may find nothing to watch before it is reported. */
export const NOTHING_TO_WATCH_AFTER_MS = 30_000;

/** Settings of a {@link NothingToWatch}. */
export interface NothingToWatchOptions {
  log: Logger;
  /** When oomhero started, on the monitor's clock. */
  startMs: number;
  /** The grace after startup; {@link NOTHING_TO_WATCH_AFTER_MS} by default (tests shorten it). */
  afterMs?: number;
}

/**
 * Watches the scans of the first {@link NOTHING_TO_WATCH_AFTER_MS}. If none of them found a
 * process to watch, oomhero is likely deployed where it cannot do its job: when it saw no process
 * at all but pid 1 and its own, the pod lacks `shareProcessNamespace: true` and `reason` says so
 * for `/readyz`; when it saw others but `--include`/`--exclude` left none, that is logged only,
 * since a DaemonSet on a node without the workloads it names is not misconfigured. Once any scan
 * finds a process to watch, it stops looking: an application that exits later is no deployment
 * problem.
 */
export class NothingToWatch {
  readonly #log: Logger;
  readonly #afterMs: number;
  readonly #deadline: number;
  #found = false;
  #othersSeen = false;
  #reported = false;
  #reason: string | undefined;

  constructor(options: NothingToWatchOptions) {
    this.#log = options.log;
    this.#afterMs = options.afterMs ?? NOTHING_TO_WATCH_AFTER_MS;
    this.#deadline = options.startMs + this.#afterMs;
  }

  /** Whether scans still matter to it: until a process to watch is found or it was reported. */
  get looking(): boolean {
    return !this.#found && !this.#reported;
  }

  /** Why oomhero is not ready: it sees nothing to watch; undefined otherwise or while looking. */
  get reason(): string | undefined {
    return this.#reason;
  }

  /**
   * Takes one scan: its samples; `own` tells pid 1 and oomhero's ancestors (the launcher, a
   * shell), which do not count; and whether the scan saw any other process, watched or not.
   * Costs nothing once a process was found.
   */
  observe(
    samples: readonly ProcessSample[],
    own: (sample: ProcessSample) => boolean,
    othersVisible: boolean,
    now: number,
  ): void {
    if (this.#found) return;
    this.#othersSeen ||= othersVisible;
    if (samples.some((s) => !own(s))) {
      this.#found = true;
      if (this.#reported) this.#log.info("found a process to watch", { ready: true });
      this.#reason = undefined;
      return;
    }
    if (this.#reported || now < this.#deadline) return;
    this.#reported = true;
    const since = `in the ${formatDuration(this.#afterMs)} since start`;
    if (this.#othersSeen) {
      this.#log.warn("nothing to watch", {
        why: `--include and --exclude left no process to watch ${since}`,
      });
      return;
    }
    this.#reason = `nothing to watch: no process but pid 1 and oomhero's own ${since}; ` +
      "the pod likely lacks shareProcessNamespace: true";
    this.#log.warn("nothing to watch", { why: this.#reason });
  }
}
