/**
 * The HTTP/1.1 wire format the metrics port speaks (RFC 9112): where a request head ends, what it
 * says, and the head of an answer. Pure: bytes and strings in, typed values out; the server does
 * the reading and writing.
 *
 * A request head, as Prometheus sends it:
 *
 * ```
 * GET /metrics HTTP/1.1\r\n
 * Host: 10.0.0.7:9000\r\n
 * User-Agent: Prometheus/3.5.0\r\n
 * Accept: application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4\r\n
 * Accept-Encoding: gzip\r\n
 * \r\n
 * ```
 *
 * Only GET and HEAD are answered, so no request body is ever read: a request that announces one
 * is answered, then its connection closed, and its body never taken for a next request.
 * @module
 */

/** What the server reads of a request head. */
export interface RequestHead {
  method: string;
  /** The request target as sent: "/metrics?x=1", or an absolute URL. */
  target: string;
  /** The sum of the lengths of the header names and values. */
  headerBytes: number;
  /** The Accept header, null when there is none. */
  accept: string | null;
  /** Whether the client keeps the connection for another request (HTTP/1.1 unless it says not). */
  keepAlive: boolean;
  /**
   * Whether the connection cannot carry another request after this one: a body follows
   * (Content-Length over 0, or Transfer-Encoding), or the client asks to leave HTTP (CONNECT,
   * Upgrade).
   */
  lastOnConnection: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Where the head that starts at `from` ends in `bytes[from, to)`: the index just past its empty
 * line, or -1 when it is not all there yet. A line ends with CRLF or, as RFC 9112 §2.2 allows a
 * recipient to accept, a bare LF.
 */
export function headEnd(bytes: Uint8Array, from: number, to: number): number {
  for (let i = bytes.indexOf(LF, from); i >= 0 && i < to; i = bytes.indexOf(LF, i + 1)) {
    if (i + 1 < to && bytes[i + 1] === LF) return i + 2;
    if (i + 2 < to && bytes[i + 1] === CR && bytes[i + 2] === LF) return i + 3;
  }
  return -1;
}

/**
 * Where the next head starts at or after `from`: past the empty lines a client may send between
 * requests, which RFC 9112 §2.2 asks a server to ignore.
 */
export function headStart(bytes: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i < to && (bytes[i] === CR || bytes[i] === LF)) i++;
  return i;
}

/** A token (RFC 9110 §5.6.2): a method or a header name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A request target: visible ASCII, no spaces (RFC 9112 §3.2). */
const TARGET = /^[\x21-\x7e]+$/;
/** Optional whitespace around a field value (RFC 9110 §5.6.3). */
const OWS_ENDS = /^[ \t]+|[ \t]+$/g;
/** A field value: no control character but tab (RFC 9110 §5.5). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Parses a request head, the empty line included or not. Bytes are read as Latin-1, one
 * character a byte, as Node's parser reads them.
 * @throws {Error} saying what is wrong: a malformed request line or header line, an HTTP version
 * other than 1.0 and 1.1, a missing Host (HTTP/1.1), or a Content-Length that is not one number.
 */
export function parseRequestHead(head: Uint8Array): RequestHead {
  const lines = latin1(head).split("\n");
  // Each line but the empty last ones ends with LF; a CR may precede it, nowhere else.
  while (lines.length > 0 && (lines.at(-1) === "" || lines.at(-1) === "\r")) lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].endsWith("\r") ? lines[i].slice(0, -1) : lines[i];
    if (line.includes("\r")) throw new Error(`a bare CR in line ${i + 1}`);
    lines[i] = line;
  }
  const requestLine = (lines[0] ?? "").split(" ");
  if (requestLine.length !== 3) throw new Error("the request line is not method, target, version");
  const [method, target, version] = requestLine;
  if (!TOKEN.test(method)) throw new Error("the method is not a token");
  if (!TARGET.test(target)) throw new Error("the target is not visible ASCII");
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
    throw new Error("the version is not HTTP/1.1 or HTTP/1.0");
  }
  let headerBytes = 0;
  let accept: string | null = null;
  let host = false;
  let contentLength: string | undefined;
  let transferEncoding = false;
  let upgrade = false;
  const connection: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    // Obsolete line folding (RFC 9112 §5.2) is refused, as llhttp does.
    if (line.startsWith(" ") || line.startsWith("\t")) throw new Error("a folded header line");
    const colon = line.indexOf(":");
    const name = colon < 0 ? "" : line.slice(0, colon);
    if (!TOKEN.test(name)) throw new Error(`header line ${i} has no name and colon`);
    const value = line.slice(colon + 1).replace(OWS_ENDS, "");
    if (!FIELD_VALUE.test(value)) throw new Error(`header ${name} holds a control character`);
    headerBytes += name.length + value.length;
    switch (name.toLowerCase()) {
      case "accept":
        accept = accept === null ? value : `${accept}, ${value}`;
        break;
      case "host":
        host = true;
        break;
      case "content-length":
        if (!/^\d+$/.test(value) || (contentLength !== undefined && contentLength !== value)) {
          throw new Error("Content-Length is not one number");
        }
        contentLength = value;
        break;
      case "transfer-encoding":
        transferEncoding = true;
        break;
      case "upgrade":
        upgrade = true;
        break;
      case "connection":
        connection.push(...value.toLowerCase().split(",").map((token) => token.trim()));
        break;
    }
  }
  if (version === "HTTP/1.1" && !host) throw new Error("an HTTP/1.1 request without Host");
  const keepAlive = version === "HTTP/1.1"
    ? !connection.includes("close")
    : connection.includes("keep-alive");
  const body = transferEncoding || (contentLength !== undefined && !/^0+$/.test(contentLength));
  return {
    method,
    target,
    headerBytes,
    accept,
    keepAlive,
    lastOnConnection: body || upgrade || method === "CONNECT",
  };
}

/** `bytes` as Latin-1 text, a character a byte, in slices that stay under engines' argument limits. */
function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}

/** An answer: status, headers and a text body. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The reason phrases of the statuses the server sends. */
const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  414: "URI Too Long",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/**
 * The head of an answer: status line, `headers`, Content-Length, Date, and Connection (with the
 * Keep-Alive timeout, in whole seconds, when the connection is kept).
 */
export function formatResponseHead(
  status: number,
  headers: Readonly<Record<string, string>>,
  contentLength: number,
  keepAliveSeconds: number | undefined,
  date: Date = new Date(),
): string {
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  head += `content-length: ${contentLength}\r\ndate: ${date.toUTCString()}\r\n`;
  head += keepAliveSeconds === undefined
    ? "connection: close\r\n"
    : `connection: keep-alive\r\nkeep-alive: timeout=${keepAliveSeconds}\r\n`;
  return `${head}\r\n`;
}
