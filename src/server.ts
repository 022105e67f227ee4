/**
 * The HTTP server for Prometheus and the kubelet: `/metrics`, `/healthz` and `/readyz`.
 * @module
 */
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { UsageError } from "./usage_error.ts";

/** Where the metrics server listens. */
export interface ListenAddress {
  /** A host name or IP address, without brackets; "0.0.0.0" is every IPv4 interface. */
  hostname: string;
  /** The TCP port; 0 picks a free one (tests). */
  port: number;
}

/** What `/healthz` and `/readyz` ask the scan loop. */
export interface HealthSource {
  /** When the last scan finished, on the `now` clock, or undefined before the first one. */
  lastScanEndMs(): number | undefined;
  /** The scan loop's interval in milliseconds. */
  loopIntervalMs: number;
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
  /** Stops listening and waits for requests in flight. */
  close(): Promise<void>;
}

/** Limits of {@linkcode startMetricsServer}; the defaults suit production. */
export interface MetricsServerOptions {
  /** A request not answered within this gets a 503; default 5000 ms, below scrape timeouts. */
  responseTimeoutMs?: number;
}

const FLAG = "--metrics-address";
const FORMS = 'use [host]:port, e.g. ":9000", "127.0.0.1:9000" or "[::1]:9000"';
/**
 * The host of an address without one. IPv4 so that every scraper reaches it: a "::" socket takes
 * IPv4 too only where the node allows dual-stack, and fails where IPv6 is disabled.
 */
const ALL_INTERFACES = "0.0.0.0";

/** Longest accepted request URL. Deno itself answers 400 to a request head over about 64 KiB. */
const MAX_URL_BYTES = 8 * 1024;
/** Largest accepted sum of header names and values; scrapers and probes send a few hundred. */
const MAX_HEADER_BYTES = 16 * 1024;
const DEFAULT_RESPONSE_TIMEOUT_MS = 5_000;
/** /healthz fails when no scan finished for 3 loop intervals, and never sooner than this. */
const MIN_HEALTH_LIMIT_MS = 5_000;

/**
 * Parses `--metrics-address`: `[host]:port`, where a missing host means every IPv4 interface
 * ("0.0.0.0"; write "[::]:9000" for IPv6) and an IPv6 address is bracketed. "" disables the
 * server (undefined).
 * @throws {UsageError} when the text is no such address.
 */
export function parseMetricsAddress(text: string): ListenAddress | undefined {
  if (text === "") return undefined;
  const bad = (problem: string) => new UsageError(FLAG, `"${text}": ${problem}`);
  if (text.includes("/")) throw bad(`give host:port only, without scheme or path; ${FORMS}`);

  let hostname: string;
  let portText: string;
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) throw bad(`no "]" closes the IPv6 address; ${FORMS}`);
    hostname = text.slice(1, end);
    if (text[end + 1] !== ":") throw bad(`no port after the IPv6 address; ${FORMS}`);
    portText = text.slice(end + 2);
    if (!isIPv6(hostname)) throw bad(`"${hostname}" is not an IPv6 address`);
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) {
      throw bad(/^\d+$/.test(text) ? `no ":" before the port; did you mean ":${text}"?` : FORMS);
    }
    hostname = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (hostname.includes(":")) throw bad('an IPv6 address needs brackets, e.g. "[::1]:9000"');
    if (hostname === "") hostname = ALL_INTERFACES;
    else if (/^[\d.]+$/.test(hostname) ? !isIPv4(hostname) : !isHostname(hostname)) {
      throw bad(`"${hostname}" is not a host name or IP address`);
    }
  }
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) throw bad(`the port must be a number from 1 to 65535`);
  return { hostname, port };
}

function isIPv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 &&
    parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

function isIPv6(text: string): boolean {
  // The character check also keeps zone ids ("%eth0") and stray brackets out of the URL.
  if (!/^[\da-f:.]+$/i.test(text)) return false;
  try {
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}

function isHostname(text: string): boolean {
  return text.length <= 253 &&
    text.split(".").every((label) => /^[a-z\d]([a-z\d-]{0,61}[a-z\d])?$/i.test(label));
}

/** `host:port`, with brackets around an IPv6 host. */
function formatAddress(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * Starts serving `/metrics` (Prometheus text, or OpenMetrics when the Accept header asks for
 * it), `/healthz` and `/readyz`.
 *
 * `/healthz` answers 200 "ok" while the last scan finished within max(3 × loop interval, 5 s),
 * and 503 with the reason once it did not. Before the first scan it answers 200 for that same
 * span from the server's start, so that a slow first scan does not get the pod restarted, then
 * 503. `/readyz` answers 200 once a scan finished, 503 before.
 *
 * Other paths get 404; methods other than GET and HEAD 405. URLs over 8 KiB get 414 and headers
 * over 16 KiB 431; a request not answered within the response timeout gets 503.
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
  const now = health.now ?? (() => performance.now());
  const startedAt = now();
  const limitMs = Math.max(3 * health.loopIntervalMs, MIN_HEALTH_LIMIT_MS);

  const healthz = (): Response => {
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
  const readyz = (): Response =>
    health.lastScanEndMs() === undefined ? text(503, "no scan finished yet") : text(200, "ready");
  const serveMetrics = async (request: Request): Promise<Response> => {
    const { contentType, body } = await metrics.render(request.headers.get("accept"));
    return new Response(body, { headers: { "content-type": contentType } });
  };
  const routes: Record<string, (request: Request) => Response | Promise<Response>> = {
    "/metrics": serveMetrics,
    "/healthz": healthz,
    "/readyz": readyz,
  };

  const route = (request: Request): Response | Promise<Response> => {
    if (request.url.length > MAX_URL_BYTES) return text(414, "request target too long");
    let headerBytes = 0;
    for (const [name, value] of request.headers) headerBytes += name.length + value.length;
    if (headerBytes > MAX_HEADER_BYTES) return text(431, "request headers too large");
    const handler = routes[new URL(request.url).pathname];
    if (handler === undefined) return text(404, "not found");
    if (request.method !== "GET" && request.method !== "HEAD") {
      return text(405, "method not allowed", { allow: "GET, HEAD" });
    }
    return handler(request);
  };

  const handle = async (request: Request): Promise<Response> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<Response>((resolve) => {
      timer = setTimeout(
        () => resolve(text(503, `no response within ${responseTimeoutMs} ms`)),
        responseTimeoutMs,
      );
    });
    try {
      return await Promise.race([route(request), late]);
    } finally {
      clearTimeout(timer);
    }
  };

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: address.hostname,
      port: address.port,
      // Replaces Deno's "Listening on" line on stdout.
      onListen(addr) {
        log.info("serving metrics", { address: formatAddress(addr.hostname, addr.port) });
      },
      onError(error) {
        log.error("metrics request failed", { error: String(error) });
        return text(500, "internal error");
      },
    }, handle);
  } catch (error) {
    throw new UsageError(FLAG, listenProblem(error, address));
  }
  return {
    port: server.addr.port,
    close: () => server.shutdown(),
  };
}

/** Why listening failed, in words for the user; never a stack trace. */
function listenProblem(error: unknown, { hostname, port }: ListenAddress): string {
  const where = formatAddress(hostname, port);
  if (error instanceof Deno.errors.AddrInUse) return `port ${port} is already in use`;
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return `${hostname} is not an address of this machine`;
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return `not permitted to listen on ${where} (ports below 1024 need CAP_NET_BIND_SERVICE)`;
  }
  if (error instanceof Deno.errors.NotCapable) {
    return `not permitted to listen on ${where}: Deno needs --allow-net`;
  }
  return `cannot listen on ${where}: ${error instanceof Error ? error.message : String(error)}`;
}

/** Milliseconds as seconds with at most one decimal: 12345 → "12.3", 5000 → "5". */
function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

/** A plain-text response. */
function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(`${body}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}
