/**
 * Where the metrics server listens: `--metrics-address` parsed and checked, an address printed
 * back, and why listening on one failed, in words for the user.
 * @module
 */
import { UsageError } from "../base/usage_error.ts";

/** Where the metrics server listens. */
export interface ListenAddress {
  /** A host name or IP address, without brackets; "0.0.0.0" is every IPv4 interface. */
  hostname: string;
  /** The TCP port; 0 picks a free one (tests). */
  port: number;
}

/** The flag the address comes from, named in every error about it. */
export const METRICS_ADDRESS_FLAG = "--metrics-address";
const FORMS = 'use [host]:port, e.g. ":9000", "127.0.0.1:9000" or "[::1]:9000"';
/**
 * The host of an address without one. IPv4 so that every scraper reaches it: a "::" socket takes
 * IPv4 too only where the node allows dual-stack, and fails where IPv6 is disabled.
 */
const ALL_INTERFACES = "0.0.0.0";

/**
 * Parses `--metrics-address`: `[host]:port`, where a missing host means every IPv4 interface
 * ("0.0.0.0"; write "[::]:9000" for IPv6) and an IPv6 address is bracketed. "" disables the
 * server (undefined).
 * @throws {UsageError} when the text is no such address.
 */
export function parseMetricsAddress(text: string): ListenAddress | undefined {
  if (text === "") return undefined;
  const bad = (problem: string) => new UsageError(METRICS_ADDRESS_FLAG, `"${text}": ${problem}`);
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
export function formatAddress(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/** Why listening failed, in words for the user; never a stack trace. */
export function listenProblem(error: unknown, { hostname, port }: ListenAddress): string {
  const where = formatAddress(hostname, port);
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === "EADDRINUSE") return `port ${port} is already in use`;
  // Deno's node:net reports the kernel's EADDRNOTAVAIL as EINVAL.
  if (code === "EADDRNOTAVAIL" || code === "EINVAL") {
    return `${hostname} is not an address of this machine`;
  }
  if (code === "EACCES") {
    return `not permitted to listen on ${where} (ports below 1024 need CAP_NET_BIND_SERVICE)`;
  }
  if (error instanceof Deno.errors.NotCapable) {
    return `not permitted to listen on ${where}: Deno needs --allow-net`;
  }
  return `cannot listen on ${where}: ${error instanceof Error ? error.message : String(error)}`;
}
