import assert from "node:assert/strict";
import {
  formatResponseHead,
  headEnd,
  headStart,
  parseRequestHead,
} from "../../../src/report/http_wire.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);
const parse = (text: string) => parseRequestHead(bytes(text));

/** What Prometheus 3 sends to a target. */
const PROMETHEUS_HEAD = "GET /metrics HTTP/1.1\r\n" +
  "Host: 10.0.0.7:9000\r\n" +
  "User-Agent: Prometheus/3.5.0\r\n" +
  "Accept: application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4\r\n" +
  "Accept-Encoding: gzip\r\n" +
  "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n" +
  "\r\n";

Deno.test("headEnd: just past the empty line, CRLF or bare LF; -1 until it is there", () => {
  const head = bytes(PROMETHEUS_HEAD);
  assert.equal(headEnd(head, 0, head.length), head.length);
  // Not all there: one byte short, or the end of the window before it.
  assert.equal(headEnd(head, 0, head.length - 1), -1);
  const twice = bytes(PROMETHEUS_HEAD + PROMETHEUS_HEAD);
  assert.equal(headEnd(twice, 0, twice.length), head.length);
  assert.equal(headEnd(twice, head.length, twice.length), twice.length);
  assert.equal(headEnd(bytes("GET / HTTP/1.0\n\nrest"), 0, 20), 16);
  assert.equal(headEnd(bytes("GET / HTTP/1.0\nHost: x\r\n\r\n"), 0, 26), 26);
  assert.equal(headEnd(bytes("GET / HTTP/1.1\r\nHost: x\r\n"), 0, 25), -1);
});

Deno.test("headStart: the empty lines between requests are skipped", () => {
  const text = bytes("\r\n\r\n\nGET / HTTP/1.1\r\n");
  assert.equal(headStart(text, 0, text.length), 5);
  assert.equal(headStart(text, 5, text.length), 5);
  assert.equal(headStart(text, 0, 3), 3);
});

Deno.test("a Prometheus request: method, target, Accept, header bytes, kept alive", () => {
  const head = parse(PROMETHEUS_HEAD);
  const lines = PROMETHEUS_HEAD.split("\r\n").slice(1, -2);
  assert.deepEqual(head, {
    method: "GET",
    target: "/metrics",
    // Names and values, without the colon and the space after it.
    headerBytes: lines.reduce((sum, line) => sum + line.length - 2, 0),
    accept: "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4",
    keepAlive: true,
    lastOnConnection: false,
  });
});

Deno.test("Connection and the version decide keep-alive", () => {
  const keepAlive = (text: string) => parse(text).keepAlive;
  assert.equal(keepAlive("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), false);
  assert.equal(keepAlive("GET / HTTP/1.1\r\nHost: x\r\nconnection: Foo, CLOSE\r\n\r\n"), false);
  assert.equal(keepAlive("GET / HTTP/1.0\r\n\r\n"), false);
  assert.equal(keepAlive("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), true);
  // Bare LF line ends, and no Host, are taken from HTTP/1.0.
  assert.equal(keepAlive("GET / HTTP/1.0\nConnection: Keep-Alive\n\n"), true);
});

Deno.test("a body, an upgrade or CONNECT makes the request the connection's last", () => {
  const last = (line: string, header = "") =>
    parse(`${line}\r\nHost: x\r\n${header}\r\n`).lastOnConnection;
  assert.equal(last("GET / HTTP/1.1"), false);
  assert.equal(last("GET / HTTP/1.1", "Content-Length: 0\r\n"), false);
  assert.equal(last("POST /metrics HTTP/1.1", "Content-Length: 5\r\n"), true);
  assert.equal(last("POST /metrics HTTP/1.1", "Transfer-Encoding: chunked\r\n"), true);
  assert.equal(last("GET / HTTP/1.1", "Connection: Upgrade\r\nUpgrade: websocket\r\n"), true);
  assert.equal(last("CONNECT 127.0.0.1:22 HTTP/1.1"), true);
});

Deno.test("Accept headers are joined; none is null", () => {
  assert.equal(parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n").accept, null);
  assert.equal(
    parse("GET / HTTP/1.1\r\nHost: x\r\nAccept: a/b\r\naccept:  c/d \r\n\r\n").accept,
    "a/b, c/d",
  );
});

Deno.test("bytes over 0x7f are read a character a byte, as Node does", () => {
  const head = new Uint8Array([...bytes("GET / HTTP/1.1\r\nHost: x\r\nX-Y: "), 0x80, 0xff, 13, 10]);
  // "Host" "x" "X-Y" and the two bytes of the value.
  assert.equal(parseRequestHead(head).headerBytes, 4 + 1 + 3 + 2);
});

Deno.test("malformed heads are refused with what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["\r\n", /request line/],
    ["GET /metrics\r\nHost: x\r\n\r\n", /request line/],
    ["GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", /request line/],
    ["GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n", /request line/],
    ["G(T /metrics HTTP/1.1\r\nHost: x\r\n\r\n", /method/],
    ["GET /m\x7fx HTTP/1.1\r\nHost: x\r\n\r\n", /target/],
    ["GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", /version/],
    ["GET /metrics http/1.1\r\nHost: x\r\n\r\n", /version/],
    ["GET /metrics HTTP/1.1\r\n\r\n", /without Host/],
    ["GET /metrics HTTP/1.1\r\nHost: x\r\n X-Folded: y\r\n\r\n", /folded/],
    ["GET /metrics HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n", /no name/],
    ["GET /metrics HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n", /no name/],
    ["GET /metrics HTTP/1.1\r\nHost x\r\nX Y: z\r\n\r\n", /no name/],
    ["GET /metrics HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n", /control character/],
    ["GET /metrics HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", /bare CR/],
    ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\n", /Content-Length/],
    [
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      /Content-Length/,
    ],
  ];
  for (const [text, problem] of cases) {
    assert.throws(() => parse(text), problem, JSON.stringify(text));
  }
  // The same Content-Length twice is one.
  assert.equal(
    parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n")
      .lastOnConnection,
    true,
  );
});

Deno.test("an answer's head: status line, headers, length, date and connection", () => {
  const date = new Date(Date.UTC(2026, 11, 3, 17, 30, 0));
  assert.equal(
    formatResponseHead(200, { "content-type": "text/plain" }, 3, 9, date),
    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n" +
      "date: Thu, 03 Dec 2026 17:30:00 GMT\r\nconnection: keep-alive\r\nkeep-alive: timeout=9\r\n\r\n",
  );
  assert.equal(
    formatResponseHead(408, {}, 0, undefined, date),
    "HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n" +
      "date: Thu, 03 Dec 2026 17:30:00 GMT\r\nconnection: close\r\n\r\n",
  );
});
