/**
 * An attack on oomhero's metrics port from this process, all on 127.0.0.1: connections opened and
 * left silent, slow clients sending their request head one byte a second, and scrapers that
 * measure how long each answer takes; and what the attacked process holds meanwhile (its
 * connections, open files and VmRSS, from /proc). Shared by
 * tests/e2e/metrics_port_attack_test.ts and bench/port_attack.ts.
 * @module
 */
import { delay, metricValue, waitFor } from "./live_oomhero.ts";

const encoder = new TextEncoder();
const LOOPBACK = "127.0.0.1";
/** What a slow client sends, a byte a second; it never ends its head. */
const SLOW_HEAD = `GET /metrics HTTP/1.1\r\nHost: oomhero\r\nX-Slow: ${"s".repeat(200)}`;

/**
 * Raises this process's open-file limit to at least `needed` (root may raise the hard limit),
 * so it can hold the attack's connections.
 */
export async function raiseOwnFileLimit(needed: number): Promise<void> {
  const out = await new Deno.Command("prlimit", {
    args: ["--pid", String(Deno.pid), `--nofile=${needed}:${needed}`],
    stdin: "null",
  }).output();
  if (!out.success) {
    throw new Error(`prlimit --nofile=${needed}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * The command prefix that runs oomhero in a PID namespace of its own, as in a pod: its scans read
 * only its own /proc whatever else runs on this (shared) machine, so its cadence shows what the
 * clients cost. With `nofile`, its open-file limit (soft and hard) is that.
 */
export function ownNamespacePrefix(nofile?: number): string[] {
  return [
    "unshare",
    "--pid",
    "--fork",
    "--mount-proc",
    "--kill-child",
    ...(nofile === undefined ? [] : ["prlimit", `--nofile=${nofile}:${nofile}`, "--"]),
  ];
}

/** The pid of the process `unshare` (pid `unsharePid`) runs: pid 1 inside, its child outside. */
export function namespacedPid(unsharePid: number): Promise<number> {
  return waitFor("the namespaced process", () => {
    const children = Deno.readTextFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`);
    return children.trim() === "" ? undefined : Number(children.trim().split(" ")[0]);
  });
}

/** What a process holds: its sockets, open files and VmRSS. */
export interface Holding {
  sockets: number;
  fds: number;
  rssBytes: number;
}

/**
 * The sockets, open files and VmRSS of `pid`, from /proc: one readlink per descriptor, cheap
 * enough to sample every 50 ms without taking the CPU the attacked process needs.
 */
export function holding(pid: number): Holding {
  let sockets = 0;
  let fds = 0;
  for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
    fds++;
    try {
      if (Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`).startsWith("socket:")) sockets++;
    } catch { /* closed meanwhile */ }
  }
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const rssBytes = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN) * 1024;
  return { sockets, fds, rssBytes };
}

/** How often a {@link HoldingSampler} samples unless told otherwise. */
export const HOLDING_SAMPLE_EVERY_MS = 50;

/** The highest figures of {@link holding} seen while sampling. */
export class HoldingSampler {
  readonly max: Holding = { sockets: 0, fds: 0, rssBytes: 0 };
  samples = 0;
  readonly #timer: ReturnType<typeof setInterval>;
  constructor(pid: number, everyMs = HOLDING_SAMPLE_EVERY_MS) {
    this.#timer = setInterval(() => {
      try {
        const now = holding(pid);
        this.max.sockets = Math.max(this.max.sockets, now.sockets);
        this.max.fds = Math.max(this.max.fds, now.fds);
        this.max.rssBytes = Math.max(this.max.rssBytes, now.rssBytes);
        this.samples++;
      } catch { /* the process ended */ }
    }, everyMs);
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

/** A connection of the attack, and when the server closed it (ms after it opened), if it did. */
export interface AttackConnection {
  conn: Deno.Conn;
  openedAt: number;
  /** When the first byte of the head was sent, for slow clients. */
  firstByteAt?: number;
  /** When the first byte of an answer arrived. */
  answeredAt?: number;
  closedAfterMs?: number;
}

/** Silent and slow connections, each watched for the server closing it. */
export class Attack {
  readonly silent: AttackConnection[] = [];
  readonly slow: AttackConnection[] = [];
  readonly keepAlive: AttackConnection[] = [];
  /** Why connects failed, when they did. */
  readonly refused: string[] = [];
  readonly #port: number;
  readonly #watching: Promise<void>[] = [];
  #slowTimer: ReturnType<typeof setInterval> | undefined;
  #slowByte = 0;

  constructor(port: number) {
    this.#port = port;
  }

  /**
   * Opens `count` connections that never send anything, `lanes` at a time: a connect the kernel
   * holds back while the server's accept queue is full waits for its retry without stalling the
   * others.
   */
  async openSilent(count: number, lanes = 100): Promise<void> {
    let left = count;
    const lane = async () => {
      while (left-- > 0) {
        try {
          this.silent.push(await this.#open());
        } catch (error) {
          // The server stopped listening (Deno.serve does when accept fails): counted.
          this.refused.push(String(error));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(lanes, count) }, lane));
  }

  /** Opens `count` connections that send their request head a byte a second, never ending it. */
  async openSlow(count: number): Promise<void> {
    for (let i = 0; i < count; i++) this.slow.push(await this.#open());
    this.#slowTimer ??= setInterval(() => this.#dripSlow(), 1_000);
    this.#dripSlow();
  }

  /** Opens `count` connections that send one request, read its answer and stay open. */
  async openKeepAlive(count: number, path = "/healthz"): Promise<void> {
    for (let i = 0; i < count; i++) {
      const entry = await this.#open();
      this.keepAlive.push(entry);
      await entry.conn.write(encoder.encode(`GET ${path} HTTP/1.1\r\nHost: oomhero\r\n\r\n`));
    }
  }

  /** The connections of `list` the server has not closed yet. */
  static open(list: AttackConnection[]): AttackConnection[] {
    return list.filter((c) => c.closedAfterMs === undefined);
  }

  async #open(): Promise<AttackConnection> {
    const conn = await Deno.connect({ hostname: LOOPBACK, port: this.#port });
    const entry: AttackConnection = { conn, openedAt: performance.now() };
    this.#watching.push(this.#watch(entry));
    return entry;
  }

  /** Reads until the server closes the connection (anything it sends, e.g. a 408, is dropped). */
  async #watch(entry: AttackConnection): Promise<void> {
    const buffer = new Uint8Array(1024);
    try {
      while (await entry.conn.read(buffer) !== null) entry.answeredAt ??= performance.now();
    } catch { /* reset, or closed by stop() */ }
    entry.closedAfterMs ??= performance.now() - entry.openedAt;
  }

  #dripSlow(): void {
    const byte = encoder.encode(SLOW_HEAD[this.#slowByte++ % SLOW_HEAD.length]);
    for (const entry of Attack.open(this.slow)) {
      entry.firstByteAt ??= performance.now();
      entry.conn.write(byte).catch(() => {/* closed by the server */});
    }
  }

  /** Closes every connection and waits for the watchers. */
  async stop(): Promise<void> {
    clearInterval(this.#slowTimer);
    const now = performance.now();
    for (const entry of [...this.silent, ...this.slow, ...this.keepAlive]) {
      // Marked first, so that a close of ours is not counted as the server's.
      entry.closedAfterMs ??= -(now - entry.openedAt);
      try {
        entry.conn.close();
      } catch { /* already closed */ }
    }
    await Promise.all(this.#watching);
  }
}

/** The kernel's TCP states (include/net/tcp_states.h), as `/proc/net/tcp` numbers them. */
const TCP_STATES: Record<string, string> = {
  "01": "established",
  "02": "syn_sent",
  "03": "syn_recv",
  "04": "fin_wait1",
  "05": "fin_wait2",
  "06": "time_wait",
  "07": "close",
  "08": "close_wait",
  "09": "last_ack",
  "0A": "listen",
  "0B": "closing",
};

/** The TCP sockets of a port, by side and state, as the kernel lists them. */
export interface PortSockets {
  /** The listening socket's accept queue: connections completed but not yet accepted. */
  acceptQueue: number;
  /** Sockets whose local port is the port, by state (the listening one aside). */
  server: Record<string, number>;
  /** Sockets connected to the port, by state. */
  client: Record<string, number>;
}

/**
 * The sockets of `port` from `/proc/net/tcp` (this network namespace): the kernel's view, not
 * this process's, which may be late to see a close among thousands of connections. A line:
 *
 * ```
 *   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid ...
 *    0: 0100007F:1F90 00000000:0000 0A 00000000:00000041 00:00000000 00000000     0 ...
 * ```
 * A listening socket's rx_queue is its accept queue's length.
 */
export function portSockets(port: number): PortSockets {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const sockets: PortSockets = { acceptQueue: 0, server: {}, client: {} };
  for (const line of Deno.readTextFileSync("/proc/net/tcp").split("\n").slice(1)) {
    const [, local, remote, code, queues] = line.trim().split(/\s+/);
    if (queues === undefined) continue;
    const state = TCP_STATES[code] ?? code;
    if (local.endsWith(suffix) && state === "listen") {
      sockets.acceptQueue += parseInt(queues.split(":")[1], 16);
    } else if (local.endsWith(suffix)) {
      sockets.server[state] = (sockets.server[state] ?? 0) + 1;
    } else if (remote.endsWith(suffix)) {
      sockets.client[state] = (sockets.client[state] ?? 0) + 1;
    }
  }
  return sockets;
}

/**
 * The connections of {@link portSockets} the server has not closed: held, or completed and
 * waiting in its accept queue (a queued connection is established already).
 */
export function serverOpen(sockets: PortSockets): number {
  return (sockets.server.established ?? 0) + (sockets.server.close_wait ?? 0);
}

/** What the scrapers saw. */
export interface ScrapeStats {
  scrapes: number;
  failures: string[];
  maxMs: number;
}

/**
 * Runs `count` scrapers, each with a client (and so a keep-alive connection) of its own, each
 * GETting `path` every `everyMs` until `signal` aborts; a scrape fails unless 200 within 5 s.
 */
export async function scrapers(
  port: number,
  { count, everyMs, path = "/metrics", signal }: {
    count: number;
    everyMs: number;
    path?: string;
    signal: AbortSignal;
  },
): Promise<ScrapeStats> {
  const stats: ScrapeStats = { scrapes: 0, failures: [], maxMs: 0 };
  const one = async () => {
    const client = Deno.createHttpClient({});
    try {
      while (!signal.aborted) {
        const started = performance.now();
        try {
          const response = await fetch(`http://${LOOPBACK}:${port}${path}`, {
            client,
            signal: AbortSignal.timeout(5_000),
          });
          await response.text();
          if (response.status !== 200) stats.failures.push(`status ${response.status}`);
        } catch (error) {
          stats.failures.push(String(error));
        }
        const ms = performance.now() - started;
        stats.scrapes++;
        stats.maxMs = Math.max(stats.maxMs, ms);
        await delay(Math.max(0, everyMs - ms));
      }
    } finally {
      client.close();
    }
  };
  await Promise.all(Array.from({ length: count }, one));
  return stats;
}

/** What oomhero went through in {@link flood}. */
export interface FloodFigures {
  /** Scans done over scans due at the loop interval, over the whole flood. */
  onCadence: number;
  scrapes: ScrapeStats;
  /** The highest figures while the flood lasted, and the last ones before it ended. */
  max: Holding;
  atEnd: Holding;
  /** The most TCP connections held at once: sockets beyond those held before the flood. */
  maxConnections: number;
  /** Those held at the end. */
  connectionsAtEnd: number;
  rssBeforeBytes: number;
  /**
   * How long after the last connect the server had closed all but twice `cap` and one of the
   * flood (the rest held, or in its accept queue, which takes the backlog and one more), by the
   * kernel's count; NaN when not within 2 s.
   */
  excessClosedMs: number;
  /** The port's sockets when that wait ended. */
  socketsThen: PortSockets;
  /** Connects that failed. */
  refused: number;
  seconds: number;
  samples: number;
}

/** How often each of {@link flood}'s scrapers asks for `/metrics`. */
export const FLOOD_SCRAPE_EVERY_MS = 250;

/**
 * Floods `target`'s metrics port: `scrapers` scrapers polling every {@link FLOOD_SCRAPE_EVERY_MS}
 * throughout, then `slow` slow clients and `silent` silent connections, held `holdMs` after the
 * last one opened.
 * Waits up to 2 s for the server to have closed all but twice `cap` and one of them.
 */
export async function flood(
  target: { port: number; pid: number; scrape: () => Promise<string> },
  { silent, slow, scrapers: count, holdMs, loopIntervalMs, cap }: {
    silent: number;
    slow: number;
    scrapers: number;
    holdMs: number;
    loopIntervalMs: number;
    cap: number;
  },
): Promise<FloodFigures> {
  const attack = new Attack(target.port);
  const stopScraping = new AbortController();
  // NaN when the server no longer answers.
  const scans = () => target.scrape().then((t) => metricValue(t, "oomhero_scans_total"), () => NaN);
  const scansBefore = await scans();
  const started = performance.now();
  const before = holding(target.pid);
  const sampler = new HoldingSampler(target.pid);
  const scraping = scrapers(target.port, {
    count,
    everyMs: FLOOD_SCRAPE_EVERY_MS,
    signal: stopScraping.signal,
  });
  try {
    await attack.openSlow(slow);
    await attack.openSilent(silent);
    const opened = performance.now();
    // The kernel's count, not the watchers': a connect answered with a SYN cookie while the
    // accept queue is full has its last ACK dropped by the server's kernel, which then holds
    // nothing of it, yet to a silent client it stays open; and among thousands of connections
    // this process may be late to see a close.
    let excessClosedMs = NaN;
    let socketsThen = portSockets(target.port);
    while (performance.now() - opened < 2_000) {
      socketsThen = portSockets(target.port);
      if (serverOpen(socketsThen) <= 2 * cap + 1) {
        excessClosedMs = performance.now() - opened;
        break;
      }
      await delay(50);
    }
    await delay(Math.max(0, opened + holdMs - performance.now()));
    const atEnd = holding(target.pid);
    const scansAfter = await scans();
    const elapsed = performance.now() - started;
    return {
      onCadence: (scansAfter - scansBefore) / (elapsed / loopIntervalMs),
      scrapes: await (stopScraping.abort(), scraping),
      max: sampler.max,
      atEnd,
      maxConnections: sampler.max.sockets - before.sockets,
      connectionsAtEnd: atEnd.sockets - before.sockets,
      rssBeforeBytes: before.rssBytes,
      excessClosedMs,
      socketsThen,
      refused: attack.refused.length,
      seconds: elapsed / 1000,
      samples: sampler.samples,
    };
  } finally {
    sampler.stop();
    stopScraping.abort();
    await scraping;
    await attack.stop();
  }
}
