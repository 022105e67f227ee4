/**
 * The HTTP server for Prometheus and the kubelet: `/metrics`, `/healthz` and `/readyz`.
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { CONNECTION_CAP, connectionCap, readOpenFilesLimit } from "./fd_budget.ts";
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
/** Longest request head the HTTP parser takes; a longer one is a 400. */
const MAX_HEAD_BYTES = 64 * 1024;
/** Largest accepted sum of header names and values; scrapers and probes send a few hundred. */
const MAX_HEADER_BYTES = 16 * 1024;
const DEFAULT_RESPONSE_TIMEOUT_MS = 5_000;
const DEFAULT_IDLE_TIMEOUT_MS = 10_000;
/** What Node's server adds to keepAliveTimeout before it closes an idle connection. */
const KEEP_ALIVE_GRACE_MS = 1_000;
const CAP_NOTICE_INTERVAL_MS = 60_000;
/** Requests a connection may have waiting for an answer; a client pipelining more is closed. */
const MAX_PIPELINED = 8;
/** /healthz fails when no scan finished for 3 loop intervals, and never sooner than this. */
const MIN_HEALTH_LIMIT_MS = 5_000;

/**
 * A held connection. Its requests are answered one after the other; while one is being answered
 * (`answering`), the connection is not closed to make room for a new one.
 */
interface Held {
  /** Requests being answered now: 0 or 1. */
  answering: number;
  /** Requests received and not yet answered, the one being answered included. */
  queued: number;
  /** Whether the connection got an answer: a client that speaks HTTP. */
  answered: boolean;
  /** Settles once the latest answer is handed to the kernel, or the connection closed. */
  lastSent: Promise<void>;
}

/** What the routes read of a request. */
interface RequestHead {
  method: string;
  /** The request target as sent: "/metrics?x=1", or an absolute URL. */
  target: string;
  /** The sum of the lengths of the header names and values. */
  headerBytes: number;
  accept: string | null;
}

/** An answer: status, headers and a text body. */
interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Starts serving `/metrics` (Prometheus text, or OpenMetrics when the Accept header asks for
 * it), `/healthz` and `/readyz`, and resolves once listening.
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
export async function startMetricsServer(
  address: ListenAddress,
  metrics: Metrics,
  health: HealthSource,
  log: Logger,
  options: MetricsServerOptions = {},
): Promise<MetricsServer> {
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

  // Loaded here, not at the top: the Node compatibility layer is worth loading only when metrics
  // are served.
  const { createServer, STATUS_CODES } = await import("node:http");
  const server = createServer({
    // A head the parser refuses is a 400, as it was under Deno.serve; ours are 414 and 431.
    maxHeaderSize: MAX_HEAD_BYTES,
    headersTimeout: idleTimeoutMs,
    requestTimeout: idleTimeoutMs,
    // Node closes an idle keep-alive connection this long plus 1 s after the last response, and
    // tells the client the shorter span (Keep-Alive: timeout=…) so that the client closes first.
    keepAliveTimeout: Math.max(1, idleTimeoutMs - KEEP_ALIVE_GRACE_MS),
    // How often heads are checked against headersTimeout: lateness of a slow head's close.
    connectionsCheckingInterval: Math.min(1_000, Math.ceil(idleTimeoutMs / 4)),
  });
  // Inactivity: a silent client, or one that does not read its answer, is closed.
  server.timeout = idleTimeoutMs;

  const held = new Map<Socket, Held>();
  /** Makes `socket` the newest held connection: Map order is age order. */
  const refresh = (socket: Socket, conn: Held) => {
    held.delete(socket);
    held.set(socket, conn);
  };
  let closing = false;
  const capNotice = new CapNotice(log, maxConnections);
  /**
   * Which connection makes room for `newest`: the longest waiting of those that never had an
   * answer (silent or slow clients), else of those idle between requests, else `newest` itself.
   * A flood of silent connections so cycles among its own, and leaves the scrapers' alone.
   */
  const victim = (newest: Socket): Socket => {
    let idle: Socket | undefined;
    for (const [socket, conn] of held) {
      if (socket === newest || conn.answering > 0) continue;
      if (!conn.answered) return socket;
      idle ??= socket;
    }
    return idle ?? newest;
  };
  server.on("connection", (socket: Socket) => {
    held.set(socket, { answering: 0, queued: 0, answered: false, lastSent: Promise.resolve() });
    socket.once("close", () => held.delete(socket));
    if (held.size <= maxConnections) return;
    const closed = victim(socket);
    held.delete(closed);
    closed.destroy();
    capNotice.closed();
  });
  const headOf = (request: IncomingMessage): RequestHead => {
    let headerBytes = 0;
    const raw = request.rawHeaders;
    for (let i = 0; i < raw.length; i++) headerBytes += raw[i].length;
    return {
      method: request.method ?? "",
      target: request.url ?? "",
      headerBytes,
      accept: request.headers.accept ?? null,
    };
  };

  server.on("request", async (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket as Socket;
    const conn = held.get(socket);
    // Closed at the cap meanwhile, or a client pipelining requests without reading the answers.
    if (conn === undefined || conn.queued >= MAX_PIPELINED) return void socket.destroy();
    conn.queued++;
    refresh(socket, conn);
    const previous = conn.lastSent;
    conn.lastSent = new Promise((resolve) => {
      response.once("finish", resolve);
      response.once("close", resolve);
    });
    // One answer at a time per connection: answers a client does not read do not pile up.
    await previous;
    conn.answering++;
    const reply = await handle(headOf(request));
    const body = encoder.encode(reply.body);
    response.writeHead(reply.status, {
      ...reply.headers,
      "content-length": String(body.byteLength),
    });
    response.end(body);
    conn.answering--;
    conn.queued--;
    conn.answered = true;
    if (held.has(socket)) refresh(socket, conn);
    if (closing && conn.queued === 0) socket.end();
  });
  // CONNECT and Upgrade requests leave the HTTP parser: answered the same, then closed.
  const detached = async (request: IncomingMessage, socket: Socket) => {
    const reply = await handle(headOf(request));
    const status = `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status]}`;
    const headers = Object.entries({
      ...reply.headers,
      "content-length": String(encoder.encode(reply.body).byteLength),
      connection: "close",
    }).map(([name, value]) => `${name}: ${value}\r\n`).join("");
    socket.end(`${status}\r\n${headers}\r\n${reply.body}`);
  };
  server.on("connect", detached);
  server.on("upgrade", detached);
  server.on("clientError", (error: Error & { code?: string }, socket: Socket) => {
    const answering = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (socket.writable && !answering?.headersSent) {
      const status = error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\n\r\n`);
    }
    socket.destroy();
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      // The accept queue is as long as the cap: a burst taken in one go is at most that long
      // (Deno's node:net, like libuv, accepts every queued connection before closing any),
      // so clients hold at most twice the cap in descriptors.
      server.listen(address.port, address.hostname, maxConnections, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    throw new UsageError(METRICS_ADDRESS_FLAG, listenProblem(error, address));
  }
  // After listening, e.g. EMFILE on accept: the server goes on, it must not end oomhero.
  server.on("error", (error) => log.error("metrics server error", { error: String(error) }));
  const { port } = server.address() as AddressInfo;
  log.info("serving metrics", { address: formatAddress(address.hostname, port) });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        server.close(() => resolve());
        // Requests in flight are answered, each within the response timeout, then closed.
        for (const [socket, conn] of held) if (conn.queued === 0) socket.destroy();
      }),
  };
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

/** Logs connections closed at the cap: the first at once, then a count at most once a minute. */
class CapNotice {
  readonly #log: Logger;
  readonly #cap: number;
  #lastMs = -Infinity;
  #unreported = 0;
  constructor(log: Logger, cap: number) {
    this.#log = log;
    this.#cap = cap;
  }
  closed(): void {
    this.#unreported++;
    const nowMs = performance.now();
    if (nowMs - this.#lastMs < CAP_NOTICE_INTERVAL_MS) return;
    this.#log.warn("metrics connections at the cap: closing the longest waiting", {
      max_connections: this.#cap,
      closed: this.#unreported,
    });
    this.#lastMs = nowMs;
    this.#unreported = 0;
  }
}

/** Milliseconds as seconds with at most one decimal: 12345 → "12.3", 5000 → "5". */
function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

const encoder = new TextEncoder();

/** A plain-text answer. */
function text(status: number, body: string, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
    body: `${body}\n`,
  };
}
