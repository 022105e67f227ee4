/**
 * Alerts as HTTP POSTs (`--http-file-path`): loading the webhook file, the JSON body in upstream
 * oomhero's shape, and a notifier that sends in the background with a bounded number in flight.
 * The one module in `src/` that opens outbound connections.
 * @module
 */
import type { Severity } from "../evaluate/evaluate.ts";
import { processKey, type ProcessSample } from "../collect/sample.ts";
import { shownFirstArg } from "../base/shown_cmdline.ts";
import { UsageError } from "../base/usage_error.ts";
import { pressureVariable, VARIABLE_NAMES } from "../collect/variables.ts";
import { PRESSURE_RESOURCES, PRESSURE_SEVERITIES, PRESSURE_WINDOWS } from "../kernel/pressure.ts";
import {
  type EnvLookup,
  parseWebhookConfig,
  type WebhookConfig,
  WebhookConfigError,
} from "./webhook_config.ts";

/** The `signal` label of `oomhero_signals_total` and the `signal` log field for webhook alerts. */
export const WEBHOOK_SIGNAL = "webhook";
/** Each POST is abandoned after this long, as upstream's. */
export const WEBHOOK_TIMEOUT_MS = 3_000;
/** At most this many POSTs at once; more events are dropped, so an outage cannot pile them up. */
export const WEBHOOK_MAX_IN_FLIGHT = 8;

const FLAG = "--http-file-path";

/** Upstream's nested pressure figures: resource → severity → window → value. */
export type PressureTree = Record<string, Record<string, Record<string, number>>>;

/** Upstream's spelling of a severity in the body: its Rust enum's variant names. */
export type WebhookSeverity = "Warning" | "Critical";

const WEBHOOK_SEVERITY: Record<Severity, WebhookSeverity> = {
  warning: "Warning",
  critical: "Critical",
};

/** The JSON body of one alert, as upstream oomhero sends it. */
export interface WebhookBody {
  /** `Warning` or `Critical`. */
  severity: WebhookSeverity;
  /** The process alerted about; `cmdline` is its first argument only, as upstream's. */
  process: { pid: number; cmdline: string };
  /** Every expression variable by name, plus upstream's nested `pressure` object. */
  collected_data: Record<string, number | PressureTree>;
}

/** The body POSTed for `severity` about the process of `sample`. */
export function webhookBody(severity: Severity, sample: ProcessSample): WebhookBody {
  const vars = sample.variables;
  const collected: Record<string, number | PressureTree> = {};
  for (const name of VARIABLE_NAMES) collected[name] = vars[name];
  // Upstream nests pressure; the flat names above are ours. Both, so either reader works.
  const pressure: PressureTree = {};
  for (const resource of PRESSURE_RESOURCES) {
    pressure[resource] = {};
    for (const level of PRESSURE_SEVERITIES) {
      pressure[resource][level] = {};
      for (const window of PRESSURE_WINDOWS) {
        pressure[resource][level][window] = vars[pressureVariable(resource, level, window)];
      }
    }
  }
  collected.pressure = pressure;
  return {
    severity: WEBHOOK_SEVERITY[severity],
    process: { pid: sample.pid, cmdline: shownFirstArg(sample) },
    collected_data: collected,
  };
}

function readProblem(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.PermissionDenied) return "cannot read it: permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "is a directory, not a file";
  // Deno appends ": readfile '<path>'", which the message already starts with.
  return `cannot read it: ${(e as Error).message.replace(/: \w+ '.*'$/, "")}`;
}

/**
 * Reads and validates the webhook file at `path`. The YAML parser is imported here, so that
 * oomhero without a webhook never loads it.
 * @throws {UsageError} `--http-file-path: "<path>": <problem>`, never quoting a secret.
 */
export async function loadWebhookConfig(path: string, env: EnvLookup): Promise<WebhookConfig> {
  const bad = (problem: string) => new UsageError(FLAG, `${JSON.stringify(path)}: ${problem}`);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw bad(readProblem(e));
  }
  const { parseDocument } = await import("yaml");
  try {
    return parseWebhookConfig(text, env, parseDocument);
  } catch (e) {
    if (e instanceof WebhookConfigError) throw bad(e.message);
    throw e;
  }
}

/** How one POST ended. */
export type DeliveryOutcome =
  | { ok: true }
  /**
   * `reason` is short and bounded, for metric labels: `status_<code>`, `timeout` or `network`;
   * `error` says what happened, for the log.
   */
  | { ok: false; reason: string; error: string };

/** Whether {@linkcode WebhookNotifier.dispatch} started a POST, and if not, why. */
export type DispatchResult = "started" | "in_flight" | "full";

/** Settings of {@linkcode WebhookNotifier}. */
export interface WebhookNotifierOptions {
  /** The User-Agent header, unless the file sets one. */
  userAgent: string;
  /** Default {@linkcode WEBHOOK_MAX_IN_FLIGHT}. */
  maxInFlight?: number;
  /** Default {@linkcode WEBHOOK_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/** Sends alerts to the webhook in the background; the caller never waits for the network. */
export class WebhookNotifier {
  readonly #url: string;
  readonly #origin: string;
  readonly #headers: Headers;
  readonly #headerNames: readonly string[];
  readonly #maxInFlight: number;
  readonly #timeoutMs: number;
  /** POSTs under way, by the caller's id (process and severity). */
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(config: WebhookConfig, options: WebhookNotifierOptions) {
    this.#url = config.url.reveal();
    this.#origin = config.origin;
    this.#headers = new Headers();
    for (const h of config.headers) this.#headers.append(h.name, h.value.reveal());
    if (!this.#headers.has("content-type")) this.#headers.set("content-type", "application/json");
    if (!this.#headers.has("user-agent")) this.#headers.set("user-agent", options.userAgent);
    this.#headerNames = config.headers.map((h) => h.name);
    this.#maxInFlight = options.maxInFlight ?? WEBHOOK_MAX_IN_FLIGHT;
    this.#timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  }

  /** Scheme, host and port of the URL: all that logs show of it. */
  get origin(): string {
    return this.#origin;
  }

  /** Names of the configured headers (their values are never shown). */
  get headerNames(): readonly string[] {
    return this.#headerNames;
  }

  /** POSTs under way. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Starts POSTing the alert and returns at once; `onDone` gets the outcome later. Nothing
   * starts while a POST for the same process and severity is under way (`in_flight`) or the
   * limit is reached (`full`).
   */
  dispatch(
    severity: Severity,
    sample: ProcessSample,
    onDone: (outcome: DeliveryOutcome) => void,
  ): DispatchResult {
    const id = `${processKey(sample.pid, sample.startTime)}/${severity}`;
    if (this.#inFlight.has(id)) return "in_flight";
    if (this.#inFlight.size >= this.#maxInFlight) return "full";
    const body = JSON.stringify(webhookBody(severity, sample));
    this.#inFlight.set(id, this.#deliver(id, body, onDone));
    return "started";
  }

  /** Resolves once no POST is under way; for shutdown and tests. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight.values());
  }

  async #deliver(id: string, body: string, onDone: (o: DeliveryOutcome) => void): Promise<void> {
    const outcome = await this.#post(body);
    // Freed before onDone, so a retry recorded there is not refused as in flight.
    this.#inFlight.delete(id);
    onDone(outcome);
  }

  async #post(body: string): Promise<DeliveryOutcome> {
    try {
      const response = await fetch(this.#url, {
        method: "POST",
        headers: this.#headers,
        body,
        // Following would re-send the headers (tokens) wherever the redirect points.
        redirect: "manual",
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      await response.body?.cancel();
      if (response.status >= 200 && response.status < 300) return { ok: true };
      const redirect = response.status >= 300 && response.status < 400;
      return {
        ok: false,
        reason: `status_${response.status}`,
        error: `HTTP ${response.status}${redirect ? " (redirects are not followed)" : ""}`,
      };
    } catch (e) {
      if (e instanceof DOMException && e.name === "TimeoutError") {
        return { ok: false, reason: "timeout", error: `no response within ${this.#timeoutMs} ms` };
      }
      return { ok: false, reason: "network", error: this.#networkError(e) };
    }
  }

  /**
   * The cause of a failed request without the URL, which may hold a token: Deno's message is
   * "error sending request for url (<url>): client error (Connect): tcp connect error: ...",
   * since Deno 2.9.2 that of the `cause` of a TypeError "fetch failed".
   */
  #networkError(e: unknown): string {
    const cause = (e as Error)?.cause;
    const message = String((cause instanceof Error ? cause : e as Error)?.message ?? e);
    const at = message.lastIndexOf("): ");
    return (at < 0 ? message : message.slice(at + 3)).replaceAll(this.#url, this.#origin);
  }
}
