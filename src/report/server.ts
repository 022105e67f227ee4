/**
 * The HTTP server for Prometheus and the kubelet: `/metrics`, `/healthz` and `/readyz`.
 * @module
 */
import { CONNECTION_CAP, connectionCap, readOpenFilesLimit } from "./fd_budget.ts";
import { HttpConnections } from "./http_connections.ts";
import type { Reply, RequestHead } from "./http_wire.ts";
import type { Logger } from "../base/log.ts";
import type { Metrics } from "./metrics.ts";
import { UsageError } from "../base/usage_error.ts";
import {
  formatAddress,
  type ListenAddress,
  listenProblem,
  METRICS_ADDRESS_FLAG,
} from "./listen_address.ts";

/** What `/healthz` and `/readyz` ask the scan loop. */
export interface HealthSource {
  /** When the last scan finished, on the `now` clock, or undefined before the first one. */
  lastScanEndMs(): number | undefined;
  /** The scan loop's interval in milliseconds. */
  loopIntervalMs: number;
  /** Why oomhero is not ready although scans finish (nothing to watch), if it is not. */
  notReadyReason?(): string | undefined;
  /**
   * The clock `lastScanEndMs` reads, in milliseconds; default `performance.now()`, the monotonic
   * clock the monitor stamps scans with.
   */
  now?: () => number;
}

/** A running metrics server. */
export interface MetricsServer {
  /** The port actually listened on (the chosen one when asked for 0). */
  readonly port: number;
  /** Stops listening, answers the requests in flight and closes every connection. */
  close(): Promise<void>;
}

/** Limits of {@linkcode startMetricsServer}; the defaults suit production. */
export interface MetricsServerOptions {
  /** A request not answered within this gets a 503; default 5000 ms, below scrape timeouts. */
  responseTimeoutMs?: number;
  /**
   * A connection silent this long, still sending its request head this long after it began, or
   * idle this long after its last answer, is closed; default 10 000 ms, at least 2000.
   */
  idleTimeoutMs?: number;
  /** Most connections held at once; default 64, or a quarter of the open-file limit if less. */
  maxConnections?: number;
}

/** Longest accepted request URL. */
const MAX_URL_BYTES = 8 * 1024;
/** Largest accepted sum of header names and values; scrapers and probes send a few hundred. */
const MAX_HEADER_BYTES = 16 * 1024;
const DEFAULT_RESPONSE_TIMEOUT_MS = 5_000;
const DEFAULT_IDLE_TIMEOUT_MS = 10_000;
/**
 * The kernel's queue of connections not yet accepted. They hold no descriptor of ours, and each
 * one accepted beyond the cap closes one at once; a long queue keeps a flood's connects from
 * crowding out a scraper's (a dropped SYN is retried after a second).
 */
const ACCEPT_QUEUE = 511;
/** /healthz fails when no scan finished for 3 loop intervals, and never sooner than this. */
const MIN_HEALTH_LIMIT_MS = 5_000;

/**
 * Starts serving `/metrics` (Prometheus text, or OpenMetrics when the Accept header asks for
 * it), `/healthz` and `/readyz`, and returns once listening.
 *
 * `/healthz` answers 200 "ok" while the last scan finished within max(3 × loop interval, 5 s),
 * and 503 with the reason once it did not. Before the first scan it answers 200 for that same
 * span from the server's start, so that a slow first scan does not get the pod restarted, then
 * 503. `/readyz` answers 200 once a scan finished and `notReadyReason` gives none, 503 with the
 * reason otherwise.
 *
 * Other paths get 404; methods other than GET and HEAD 405. URLs over 8 KiB get 414 and headers
 * over 16 KiB 431, a request head over 64 KiB 400; a request not answered within the response
 * timeout gets 503.
 *
 * At most `maxConnections` are held: when one more arrives, the connection that has waited
 * longest without ever getting an answer is closed, else the longest idle one, else (every one
 * being answered) the new one. A connection silent for the idle timeout, not done sending its
 * request head within it, or idle that long after its last answer, is closed; so is one that
 * pipelines more than 8 requests without reading the answers.
 * @throws {UsageError} when the address cannot be listened on, e.g. the port is in use.
 */
export function startMetricsServer(
  address: ListenAddress,
  metrics: Metrics,
  health: HealthSource,
  log: Logger,
  options: MetricsServerOptions = {},
): MetricsServer {
  const responseTimeoutMs = options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const maxConnections = options.maxConnections ?? ownConnectionCap(log);
  const now = health.now ?? (() => performance.now());
  const startedAt = now();
  const limitMs = Math.max(3 * health.loopIntervalMs, MIN_HEALTH_LIMIT_MS);

  const healthz = (): Reply => {
    const last = health.lastScanEndMs();
    const ago = now() - (last ?? startedAt);
    if (ago <= limitMs) return text(200, "ok");
    return text(
      503,
      last === undefined
        ? `no scan finished in the ${seconds(ago)}s since start (limit ${seconds(limitMs)}s)`
        : `last scan finished ${seconds(ago)}s ago (limit ${seconds(limitMs)}s)`,
    );
  };
  const readyz = (): Reply => {
    if (health.lastScanEndMs() === undefined) return text(503, "no scan finished yet");
    const reason = health.notReadyReason?.();
    return reason === undefined ? text(200, "ready") : text(503, reason);
  };
  const serveMetrics = async (request: RequestHead): Promise<Reply> => {
    const { contentType, body } = await metrics.render(request.accept);
    return { status: 200, headers: { "content-type": contentType }, body };
  };
  const routes: Record<string, (request: RequestHead) => Reply | Promise<Reply>> = {
    "/metrics": serveMetrics,
    "/healthz": healthz,
    "/readyz": readyz,
  };

  const route = (request: RequestHead): Reply | Promise<Reply> => {
    if (request.target.length > MAX_URL_BYTES) return text(414, "request target too long");
    if (request.headerBytes > MAX_HEADER_BYTES) return text(431, "request headers too large");
    const handler = routes[pathOf(request.target) ?? ""];
    if (handler === undefined) return text(404, "not found");
    if (request.method !== "GET" && request.method !== "HEAD") {
      return text(405, "method not allowed", { allow: "GET, HEAD" });
    }
    return handler(request);
  };

  const handle = async (request: RequestHead): Promise<Reply> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<Reply>((resolve) => {
      timer = setTimeout(
        () => resolve(text(503, `no response within ${responseTimeoutMs} ms`)),
        responseTimeoutMs,
      );
    });
    try {
      return await Promise.race([route(request), late]);
    } catch (error) {
      log.error("metrics request failed", { error: String(error) });
      return text(500, "internal error");
    } finally {
      clearTimeout(timer);
    }
  };

  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({
      hostname: address.hostname,
      port: address.port,
      tcpBacklog: ACCEPT_QUEUE,
    });
  } catch (error) {
    throw new UsageError(METRICS_ADDRESS_FLAG, listenProblem(error, address));
  }
  const { port } = listener.addr;
  const connections = new HttpConnections(listener, handle, { maxConnections, idleTimeoutMs }, log);
  log.info("serving metrics", { address: formatAddress(address.hostname, port) });
  return { port, close: () => connections.close() };
}

/** The path of a request target, or undefined when it is neither a path nor an absolute URL. */
function pathOf(target: string): string | undefined {
  // A path is put under a base by hand, so "//host/metrics" cannot name another host.
  const url = target.startsWith("/") ? `http://host${target}` : target;
  return URL.canParse(url) ? new URL(url).pathname : undefined;
}

/** The connection cap for this process's open-file limit; warns when it is below the full one. */
function ownConnectionCap(log: Logger): number {
  let limit: number | undefined;
  try {
    limit = readOpenFilesLimit();
  } catch (error) {
    log.warn("cannot read the open-file limit", {
      error: error instanceof Error ? error.message : String(error),
      max_connections: CONNECTION_CAP,
    });
    return CONNECTION_CAP;
  }
  const cap = connectionCap(limit);
  if (cap < CONNECTION_CAP) {
    log.warn("low open-file limit: fewer metrics connections held", {
      open_files_limit: limit,
      max_connections: cap,
    });
  }
  return cap;
}

/** Milliseconds as seconds with at most one decimal: 12345 → "12.3", 5000 → "5". */
function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

/** A plain-text answer. */
function text(status: number, body: string, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
    body: `${body}\n`,
  };
}
