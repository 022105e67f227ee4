/**
 * The connections of the metrics port, on a `Deno.Listener` of our own: how many are held, which
 * one goes when one more comes, when a silent, slow or idle one is closed, and one answer at a
 * time on each. What to answer is the caller's ({@link Answer}).
 *
 * Neither `Deno.serve` nor `node:http` fits a sidecar's port: `Deno.serve` (Deno 2.9) has no
 * connection cap and no timeout, so a flood of silent connections takes every descriptor; Deno's
 * `node:http` has both but costs about 4 ms of CPU a request at one request a second, three
 * scans' worth at 10 watched processes (README, "The metrics port").
 * @module
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import type { Logger } from "../base/log.ts";
import {
  formatResponseHead,
  headEnd,
  headStart,
  parseRequestHead,
  type Reply,
  type RequestHead,
} from "./http_wire.ts";

/** Answers one request. */
export type Answer = (head: RequestHead) => Promise<Reply>;

/** How connections are held. */
export interface ConnectionLimits {
  /** Most connections held at once. */
  maxConnections: number;
  /**
   * A connection silent this long, still sending its request head this long after its first
   * byte, idle this long after its last answer, or not reading its answer for this long, is
   * closed.
   */
  idleTimeoutMs: number;
}

/** Longest request head taken; a longer one is a 400. */
const MAX_HEAD_BYTES = 64 * 1024;
/** Requests a connection may have waiting for an answer; a client pipelining more is closed. */
const MAX_PIPELINED = 8;
/** What a connection's read buffer starts at: a scraper's head is a few hundred bytes. */
const FIRST_BUFFER_BYTES = 4096;
/** The Keep-Alive timeout told to clients is this much shorter, so that they close first. */
const KEEP_ALIVE_GRACE_MS = 1_000;
/** How long accepting pauses after it failed (EMFILE): the connection waits in the queue. */
const ACCEPT_RETRY_MS = 1_000;
const CAP_NOTICE_INTERVAL_MS = 60_000;

/** One held connection and where it is in its requests. */
interface Held {
  readonly conn: Deno.Conn;
  /** Since when it is idle: accepted, or its last answer written. */
  idleSince: number;
  /** When the first byte of the head being received came; undefined between requests. */
  headSince: number | undefined;
  /** Whether a request is being answered (rendered or written): never closed for room. */
  answering: boolean;
  /** When the answer being written last made progress; undefined when none is being written. */
  writeSince: number | undefined;
  /** Whether it got an answer: a client that speaks HTTP. */
  answered: boolean;
  /** Whether it was let go (closed, or being closed after a last answer). */
  dropped: boolean;
}

const encoder = new TextEncoder();

/** The connections of one listener. */
export class HttpConnections {
  readonly #listener: Deno.Listener;
  readonly #answer: Answer;
  readonly #limits: ConnectionLimits;
  readonly #keepAliveSeconds: number;
  readonly #log: Logger;
  readonly #capNotice: CapNotice;
  /** The held connections, oldest first: one moves to the end when it starts or ends a request. */
  readonly #held = new Map<Deno.Conn, Held>();
  /** The one timer of all connections' timeouts, armed for the earliest; undefined when none. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closing = false;
  #drained = () => {};
  /** The accept loop: it ends, and the port is free, once a pending accept is cancelled. */
  readonly #accepting: Promise<void>;

  /** Starts accepting on `listener`. */
  constructor(listener: Deno.Listener, answer: Answer, limits: ConnectionLimits, log: Logger) {
    this.#listener = listener;
    this.#answer = answer;
    this.#limits = limits;
    this.#keepAliveSeconds = Math.max(
      1,
      Math.floor((limits.idleTimeoutMs - KEEP_ALIVE_GRACE_MS) / 1000),
    );
    this.#log = log;
    this.#capNotice = new CapNotice(log, limits.maxConnections);
    this.#accepting = this.#accept();
  }

  /**
   * Stops accepting, closes the connections that wait for a request and resolves once those
   * being answered have had their answer.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#listener.close();
    const drained = new Promise<void>((resolve) => this.#drained = resolve);
    for (const held of [...this.#held.values()]) if (!held.answering) this.#drop(held);
    if (this.#held.size > 0) await drained;
    await this.#accepting;
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closing) return;
        // e.g. EMFILE: the server goes on, it must not end oomhero.
        this.#log.error("metrics server error", { error: String(error) });
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      if (this.#closing) return conn.close();
      // Past the cap, one turn of the event loop before the next: a connection closed with a
      // read pending keeps its descriptor until then, and a queued burst is otherwise accepted
      // in one go (measured: 155–180 sockets held at a cap of 64, 71 with the turn).
      if (this.#admit(conn)) await nextTurn();
    }
  }

  /** Holds a new connection, closing one for room beyond the cap; whether one was closed. */
  #admit(conn: Deno.Conn): boolean {
    try {
      // An answer's last segment goes out at once, not after the client's delayed ACK.
      (conn as Deno.TcpConn).setNoDelay(true);
    } catch {
      // Reset by the client already: its first read ends it.
    }
    const held: Held = {
      conn,
      idleSince: performance.now(),
      headSince: undefined,
      answering: false,
      writeSince: undefined,
      answered: false,
      dropped: false,
    };
    this.#held.set(conn, held);
    const full = this.#held.size > this.#limits.maxConnections;
    if (full) {
      this.#drop(this.#victim(held));
      this.#capNotice.closed();
    }
    if (held.dropped) return full;
    this.#arm();
    this.#serve(held);
    return full;
  }

  /**
   * Which connection makes room for `newest`: the longest waiting of those that never had an
   * answer (silent or slow clients), else of those idle between requests, else `newest` itself.
   * A flood of silent connections so cycles among its own, and leaves the scrapers' alone.
   */
  #victim(newest: Held): Held {
    let idle: Held | undefined;
    for (const held of this.#held.values()) {
      if (held === newest || held.answering) continue;
      if (!held.answered) return held;
      idle ??= held;
    }
    return idle ?? newest;
  }

  /** Reads requests and answers them, one after the other, until the connection ends. */
  async #serve(held: Held): Promise<void> {
    let buffer = new Uint8Array(FIRST_BUFFER_BYTES);
    // The bytes received and not yet taken as a request: [start, end).
    let start = 0;
    let end = 0;
    try {
      for (;;) {
        start = headStart(buffer, start, end);
        let stop = headEnd(buffer, start, end);
        while (stop < 0) {
          if (end - start > MAX_HEAD_BYTES) return await this.#refuse(held, 400);
          if (end === buffer.length) {
            if (start > 0) {
              buffer.copyWithin(0, start, end);
              end -= start;
              start = 0;
            } else {
              const bigger = new Uint8Array(Math.min(2 * buffer.length, MAX_HEAD_BYTES + 1));
              bigger.set(buffer);
              buffer = bigger;
            }
          }
          const n = await held.conn.read(buffer.subarray(end));
          if (n === null) return;
          end += n;
          start = headStart(buffer, start, end);
          if (start < end) held.headSince ??= performance.now();
          stop = headEnd(buffer, start, end);
        }
        if (stop - start > MAX_HEAD_BYTES) return await this.#refuse(held, 400);
        // More requests behind this one than may wait: a client that does not read its answers.
        if (pipelined(buffer, stop, end) >= MAX_PIPELINED) return;
        let head: RequestHead;
        try {
          head = parseRequestHead(buffer.subarray(start, stop));
        } catch {
          return await this.#refuse(held, 400);
        }
        start = stop;
        // The next request's bytes may have come with this one: its head is under way.
        held.headSince = headStart(buffer, start, end) < end ? performance.now() : undefined;
        if (!await this.#respond(held, head)) return;
      }
    } catch {
      // Closed for room or at a timeout (the pending read or write fails), or reset by the client.
    } finally {
      this.#drop(held);
    }
  }

  /**
   * Answers one request; whether the connection is kept for another. A method of its own, so that
   * the answer (megabytes at 1,000 processes) is not kept alive by the read loop's frame while it
   * waits for the next request.
   */
  async #respond(held: Held, head: RequestHead): Promise<boolean> {
    held.answering = true;
    this.#refresh(held);
    const reply = await this.#answer(head);
    const keep = head.keepAlive && !head.lastOnConnection && !this.#closing;
    await this.#write(held, reply, head.method === "HEAD", keep);
    held.answering = false;
    held.answered = true;
    held.idleSince = performance.now();
    this.#refresh(held);
    if (keep) this.#arm();
    return keep;
  }

  /** Writes an answer, its body left out for HEAD, and Connection as `keep` says. */
  async #write(held: Held, reply: Reply, headOnly: boolean, keep: boolean): Promise<void> {
    const body = encoder.encode(reply.body);
    const head = formatResponseHead(
      reply.status,
      reply.headers,
      body.byteLength,
      keep ? this.#keepAliveSeconds : undefined,
    );
    held.writeSince = performance.now();
    this.#arm();
    await this.#writeAll(held, encoder.encode(head));
    if (!headOnly) await this.#writeAll(held, body);
    held.writeSince = undefined;
  }

  async #writeAll(held: Held, bytes: Uint8Array): Promise<void> {
    for (let written = 0; written < bytes.length;) {
      written += await held.conn.write(bytes.subarray(written));
      held.writeSince = performance.now();
    }
  }

  /** Answers a request that cannot be read with `status`, and ends the connection. */
  async #refuse(held: Held, status: number): Promise<void> {
    held.answering = true;
    await this.#write(held, { status, headers: {}, body: "" }, false, false);
  }

  /** Moves `held` to the end of the age order. */
  #refresh(held: Held): void {
    if (held.dropped) return;
    this.#held.delete(held.conn);
    this.#held.set(held.conn, held);
  }

  /** Lets a connection go: closed now, or once `farewell` is written (best effort). */
  #drop(held: Held, farewell?: Uint8Array): void {
    if (held.dropped) return;
    held.dropped = true;
    this.#held.delete(held.conn);
    const close = () => {
      try {
        held.conn.close();
      } catch {
        // Closed already.
      }
    };
    if (farewell === undefined) close();
    else held.conn.write(farewell).then(close, close);
    if (this.#held.size > 0) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closing) this.#drained();
  }

  /** When `held` times out, on the `performance.now()` clock; Infinity while it is rendered. */
  #deadline(held: Held): number {
    const since = held.writeSince ??
      (held.answering ? undefined : held.headSince ?? held.idleSince);
    return since === undefined ? Infinity : since + this.#limits.idleTimeoutMs;
  }

  /**
   * Arms the timer for the earliest deadline, unless it is armed: every deadline set since is
   * later than the armed one, so one timer serves all, woken at most once per timeout span.
   */
  #arm(): void {
    if (this.#timer !== undefined) return;
    let earliest = Infinity;
    for (const held of this.#held.values()) earliest = Math.min(earliest, this.#deadline(held));
    if (earliest === Infinity) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#expire();
      this.#arm();
    }, Math.max(0, Math.ceil(earliest - performance.now())));
  }

  /** Closes the connections past their deadline; one sending its head slowly is told 408. */
  #expire(): void {
    const now = performance.now();
    for (const held of [...this.#held.values()]) {
      if (this.#deadline(held) > now) continue;
      const slowHead = held.headSince !== undefined && !held.answering;
      this.#drop(
        held,
        slowHead ? encoder.encode(formatResponseHead(408, {}, 0, undefined)) : undefined,
      );
    }
  }
}

/** How many whole request heads wait in `bytes[from, to)`, counted up to {@link MAX_PIPELINED}. */
function pipelined(bytes: Uint8Array, from: number, to: number): number {
  let count = 0;
  for (let at = from; count < MAX_PIPELINED; count++) {
    const stop = headEnd(bytes, headStart(bytes, at, to), to);
    if (stop < 0) break;
    at = stop;
  }
  return count;
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
