/**
 * A webhook endpoint for tests: a real HTTP server on a loopback port that records every request
 * and answers as the test says, including not at all until released.
 * @module
 */
import { freePort, waitFor } from "./live_oomhero.ts";

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  method: string;
  /** Path and query. */
  path: string;
  headers: Record<string, string>;
  body: string;
  /** `performance.now()` when it arrived. */
  at: number;
}

/** How the receiver answers: a status, or `hold` to answer 204 only after {@link release}. */
export type Answer = number | "hold";

/** A recording HTTP server on 127.0.0.1. */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** How the next requests are answered; change it at any time. */
  answer: Answer;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  #held: (() => void)[] = [];

  constructor(answer: Answer = 204) {
    this.answer = answer;
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const url = new URL(req.url);
      this.requests.push({
        method: req.method,
        path: url.pathname + url.search,
        headers: Object.fromEntries(req.headers),
        body: await req.text(),
        at: performance.now(),
      });
      const answer = this.answer;
      if (answer === "hold") await new Promise<void>((resolve) => this.#held.push(resolve));
      const status = answer === "hold" ? 204 : answer;
      return new Response(null, {
        status,
        headers: status >= 300 && status < 400 ? { location: "/elsewhere" } : {},
      });
    });
  }

  /** `http://127.0.0.1:<port>` followed by `path`. */
  url(path = "/hook"): string {
    return `http://127.0.0.1:${this.#server.addr.port}${path}`;
  }

  /** Waits until `count` requests have arrived, for at most `timeoutMs`. */
  async received(count: number, timeoutMs = 10_000): Promise<ReceivedRequest[]> {
    await waitFor(`${count} webhook requests`, () => this.requests.length >= count || undefined, {
      timeoutMs,
      everyMs: 10,
      describe: () => `received ${this.requests.length}`,
    });
    return this.requests;
  }

  /** Answers every held request. */
  release(): void {
    for (const resolve of this.#held.splice(0)) resolve();
  }

  /** Releases held requests and stops the server. */
  async close(): Promise<void> {
    this.release();
    await this.#server.shutdown();
  }
}

/** A loopback URL on which nothing listens: connections to it are refused. */
export function refusedUrl(path = "/hook"): string {
  return `http://127.0.0.1:${freePort()}${path}`;
}
