import assert from "node:assert/strict";
import { Logger } from "../../../src/base/log.ts";
import { Metrics } from "../../../src/report/metrics.ts";
import type { ProcessSample } from "../../../src/collect/sample.ts";
import {
  type HealthSource,
  type MetricsServer,
  startMetricsServer,
} from "../../../src/report/server.ts";
import type { ListenAddress } from "../../../src/report/listen_address.ts";
import { UsageError } from "../../../src/base/usage_error.ts";
import { VARIABLE_NAMES } from "../../../src/collect/variables.ts";
import { waitFor } from "../../support/live_oomhero.ts";
import { Attack, type AttackConnection } from "../../support/port_attack.ts";

const LOOPBACK: ListenAddress = { hostname: "127.0.0.1", port: 0 };

/** A health source on a clock the test moves. */
class FakeHealth implements HealthSource {
  clock = 1_000_000;
  last: number | undefined = undefined;
  loopIntervalMs: number;
  constructor(loopIntervalMs = 1_000) {
    this.loopIntervalMs = loopIntervalMs;
  }
  now = (): number => this.clock;
  lastScanEndMs = (): number | undefined => this.last;
  notReady: string | undefined = undefined;
  notReadyReason = (): string | undefined => this.notReady;
}

function fixtureSample(): ProcessSample {
  return {
    pid: 4242,
    startTime: 1,
    cmdline: "/usr/bin/java -jar app.jar",
    firstArg: "/usr/bin/java",
    source: {
      version: 2,
      view: "host",
      path: "/",
      memoryDir: "/sys/fs/cgroup",
      limitDir: "",
      memoryMaxScope: "effective",
      pressureSource: "/sys/fs/cgroup",
      pressureNote: "",
    },
    variables: Object.fromEntries(VARIABLE_NAMES.map((name, i) => [name, i])),
  };
}

/** Runs `body` against a server on an ephemeral loopback port, then closes it. */
async function withServer(
  body: (
    url: string,
    ctx: { health: FakeHealth; metrics: Metrics; logs: string[] },
  ) => void | Promise<void>,
  options: {
    health?: FakeHealth;
    metrics?: Metrics;
    responseTimeoutMs?: number;
    idleTimeoutMs?: number;
    maxConnections?: number;
  } = {},
): Promise<void> {
  const health = options.health ?? new FakeHealth();
  const metrics = options.metrics ?? new Metrics({ version: "test" });
  const logs: string[] = [];
  const server = startMetricsServer(
    LOOPBACK,
    metrics,
    health,
    new Logger("debug", "text", (line) => logs.push(line)),
    {
      responseTimeoutMs: options.responseTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
      maxConnections: options.maxConnections,
    },
  );
  try {
    await body(`http://127.0.0.1:${server.port}`, { health, metrics, logs });
  } finally {
    await server.close();
  }
}

async function get(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/**
 * Connects, sends `request` and hands the connection to `read`, then closes it. A write the server
 * cuts short (it may answer and close before reading everything) still counts.
 */
async function sendRaw<T>(
  port: number,
  request: string,
  read: (conn: Deno.Conn) => Promise<T>,
): Promise<T> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const bytes = new TextEncoder().encode(request);
    try {
      for (let written = 0; written < bytes.length;) {
        written += await conn.write(bytes.subarray(written));
      }
    } catch {
      // Answered and closed before reading everything; the answer still counts.
    }
    return await read(conn);
  } finally {
    conn.close();
  }
}

/** Sends raw bytes and returns the status line of the answer, or how the connection ended. */
function rawStatus(port: number, request: string): Promise<string> {
  return sendRaw(port, request, async (conn) => {
    const buffer = new Uint8Array(4096);
    const n = await conn.read(buffer);
    return n === null ? "closed" : new TextDecoder().decode(buffer.subarray(0, n)).split("\r\n")[0];
  });
}

/** Sends `request` and reads what comes back until the server ends (or resets) the connection. */
function exchange(port: number, request: string): Promise<string> {
  return sendRaw(port, request, async (conn) => {
    let text = "";
    const buffer = new Uint8Array(65536);
    try {
      for (let n; (n = await conn.read(buffer)) !== null;) {
        text += new TextDecoder().decode(buffer.subarray(0, n));
      }
    } catch {
      // Reset: what came before it is the answer.
    }
    return text;
  });
}

Deno.test("GET /metrics: 200, Prometheus text or OpenMetrics as asked", async () => {
  const metrics = new Metrics({ version: "test" });
  metrics.observeScan([fixtureSample()], 0.001);
  await withServer(async (url) => {
    const text = await get(`${url}/metrics`);
    assert.equal(text.status, 200);
    assert.equal(text.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    assert.ok(text.body.includes('memory_usage{pid="4242",cmdline="/usr/bin/java"} 0\n'));
    assert.ok(text.body.includes("oomhero_scans_total 1\n"));

    const om = await get(`${url}/metrics`, {
      headers: { accept: "application/openmetrics-text;version=1.0.0,text/plain;q=0.5" },
    });
    assert.equal(om.status, 200);
    assert.equal(
      om.headers.get("content-type"),
      "application/openmetrics-text; version=1.0.0; charset=utf-8",
    );
    assert.ok(om.body.endsWith("# EOF\n"));

    const head = await get(`${url}/metrics`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.body, "");
    assert.equal(head.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");

    const query = await get(`${url}/metrics?x=1`);
    assert.equal(query.status, 200);
  }, { metrics });
});

Deno.test("GET /healthz: 200 during the startup grace, 503 after it with no scan", async () => {
  await withServer(async (url, { health }) => {
    assert.deepEqual(await get(`${url}/healthz`).then((r) => [r.status, r.body]), [200, "ok\n"]);
    health.clock += 5_000;
    assert.equal((await get(`${url}/healthz`)).status, 200, "grace is max(3 × 1 s, 5 s)");
    health.clock += 7_300;
    const late = await get(`${url}/healthz`);
    assert.equal(late.status, 503);
    assert.equal(late.body, "no scan finished in the 12.3s since start (limit 5s)\n");
  });
});

Deno.test("GET /healthz: 503 once the last scan is stale, 200 again on recovery", async () => {
  await withServer(async (url, { health }) => {
    health.last = health.clock;
    health.clock += 30_000;
    assert.equal((await get(`${url}/healthz`)).status, 200, "limit is 3 × 10 s");
    health.clock += 6_700;
    const stale = await get(`${url}/healthz`);
    assert.equal(stale.status, 503);
    assert.equal(stale.body, "last scan finished 36.7s ago (limit 30s)\n");
    assert.equal(stale.headers.get("content-type"), "text/plain; charset=utf-8");
    health.last = health.clock - 100;
    assert.deepEqual(await get(`${url}/healthz`).then((r) => [r.status, r.body]), [200, "ok\n"]);
  }, { health: new FakeHealth(10_000) });
});

Deno.test("GET /healthz: the limit is never under 5 s", async () => {
  await withServer(async (url, { health }) => {
    health.last = health.clock;
    health.clock += 5_000;
    assert.equal((await get(`${url}/healthz`)).status, 200);
    health.clock += 1;
    const stale = await get(`${url}/healthz`);
    assert.equal(stale.status, 503);
    assert.equal(stale.body, "last scan finished 5s ago (limit 5s)\n");
  }, { health: new FakeHealth(100) });
});

Deno.test("GET /readyz: 503 before the first scan, 200 after", async () => {
  await withServer(async (url, { health }) => {
    const before = await get(`${url}/readyz`);
    assert.deepEqual([before.status, before.body], [503, "no scan finished yet\n"]);
    health.last = health.clock;
    const after = await get(`${url}/readyz`);
    assert.deepEqual([after.status, after.body], [200, "ready\n"]);
    // Readiness does not go stale: /healthz covers a stuck loop.
    health.clock += 3_600_000;
    assert.equal((await get(`${url}/readyz`)).status, 200);
  });
});

Deno.test("GET /readyz: 503 with the reason while there is nothing to watch; /healthz stays 200", async () => {
  await withServer(async (url, { health }) => {
    health.last = health.clock;
    health.notReady = "nothing to watch but pid 1 and oomhero itself in the 30s since start: x";
    const ready = await get(`${url}/readyz`);
    assert.deepEqual([ready.status, ready.body], [503, `${health.notReady}\n`]);
    assert.equal((await get(`${url}/healthz`)).status, 200);
    health.notReady = undefined;
    assert.equal((await get(`${url}/readyz`)).status, 200);
  });
});

Deno.test("unknown paths get 404, other methods 405 with Allow", async () => {
  await withServer(async (url) => {
    for (const path of ["/", "/metric", "/metrics/", "/healthz/x", "/METRICS", "/favicon.ico"]) {
      const r = await get(`${url}${path}`);
      assert.deepEqual([r.status, r.body], [404, "not found\n"], path);
    }
    for (
      const [method, path] of [["POST", "/metrics"], ["PUT", "/healthz"], ["DELETE", "/readyz"]]
    ) {
      const r = await get(`${url}${path}`, { method });
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(r.headers.get("allow"), "GET, HEAD");
    }
    assert.equal((await get(`${url}/nope`, { method: "POST" })).status, 404);
  });
});

Deno.test("a port in use is a UsageError naming the port, not a stack trace", async () => {
  await withServer((url) => {
    const port = Number(new URL(url).port);
    assert.throws(
      () =>
        startMetricsServer(
          { hostname: "127.0.0.1", port },
          new Metrics({ version: "t" }),
          new FakeHealth(),
          new Logger("error", "text", () => {}),
        ),
      (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.equal(error.input, "--metrics-address");
        assert.equal(error.message, `oomhero: --metrics-address: port ${port} is already in use`);
        return true;
      },
    );
  });
});

Deno.test("an address not on this machine is a UsageError", () => {
  assert.throws(
    () =>
      startMetricsServer(
        { hostname: "192.0.2.1", port: 9000 },
        new Metrics({ version: "t" }),
        new FakeHealth(),
        new Logger("error", "text", () => {}),
      ),
    new UsageError("--metrics-address", "192.0.2.1 is not an address of this machine"),
  );
});

Deno.test("close() frees the port", async () => {
  const log = new Logger("error", "text", () => {});
  const first = startMetricsServer(
    LOOPBACK,
    new Metrics({ version: "t" }),
    new FakeHealth(),
    log,
  );
  const port = first.port;
  await first.close();
  let second: MetricsServer | undefined;
  try {
    second = startMetricsServer(
      { hostname: "127.0.0.1", port },
      new Metrics({ version: "t" }),
      new FakeHealth(),
      log,
    );
    assert.equal(second.port, port);
  } finally {
    await second?.close();
  }
});

Deno.test("the listening address is logged, not printed", async () => {
  await withServer((url, { logs }) => {
    assert.equal(logs.length, 1);
    assert.match(
      logs[0],
      new RegExp(`INFO  serving metrics address=127\\.0\\.0\\.1:${new URL(url).port}$`),
    );
  });
});

Deno.test("200 concurrent scrapes all complete under a cap that allows them", async () => {
  const metrics = new Metrics({ version: "test" });
  metrics.observeScan([fixtureSample()], 0.001);
  await withServer(async (url) => {
    const started = performance.now();
    const responses = await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) =>
          get(
            `${url}/metrics`,
            i % 2 ? { headers: { accept: "application/openmetrics-text" } } : {},
          ),
      ),
    );
    assert.ok(performance.now() - started < 20_000);
    for (const [i, r] of responses.entries()) {
      assert.equal(r.status, 200);
      assert.ok(
        r.body.endsWith(
          i % 2
            ? "# EOF\n"
            : 'oomhero_build_info{version="test",deno="' + Deno.version.deno + '"} 1\n',
        ),
      );
    }
  }, { metrics, maxConnections: 200 });
});

Deno.test("oversized requests are refused and the server keeps serving", async () => {
  await withServer(async (url) => {
    const port = Number(new URL(url).port);
    const close = "Connection: close\r\n";
    // The HTTP parser refuses a request head over 64 KiB itself.
    const megabyte = "a".repeat(1 << 20);
    assert.equal(
      await rawStatus(
        port,
        `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${megabyte}\r\n${close}\r\n`,
      ),
      "HTTP/1.1 400 Bad Request",
    );
    assert.equal(
      await rawStatus(port, `GET /${megabyte} HTTP/1.1\r\nHost: x\r\n${close}\r\n`),
      "HTTP/1.1 400 Bad Request",
    );
    // Under that, our own limits: 8 KiB of URL, 16 KiB of headers.
    assert.equal(
      await rawStatus(
        port,
        `GET /metrics?${"q".repeat(9_000)} HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
      ),
      "HTTP/1.1 414 URI Too Long",
    );
    assert.equal(
      await rawStatus(
        port,
        `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${"h".repeat(20_000)}\r\n${close}\r\n`,
      ),
      "HTTP/1.1 431 Request Header Fields Too Large",
    );
    assert.equal(
      await rawStatus(
        port,
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Ok: ${"h".repeat(4_000)}\r\n${close}\r\n`,
      ),
      "HTTP/1.1 200 OK",
    );
    const after = await get(`${url}/metrics`);
    assert.equal(after.status, 200);
  });
});

Deno.test("a response not ready within the bound is a 503, and other requests go on", async () => {
  const stuck = new Metrics({ version: "test" });
  let release = () => {};
  const never = new Promise<void>((resolve) => release = resolve);
  stuck.render = async () => {
    await never;
    return { contentType: "text/plain", body: "late" };
  };
  try {
    await withServer(async (url) => {
      const started = performance.now();
      const slow = get(`${url}/metrics`);
      assert.equal((await get(`${url}/healthz`)).status, 200);
      const r = await slow;
      assert.deepEqual([r.status, r.body], [503, "no response within 200 ms\n"]);
      assert.ok(performance.now() - started < 5_000);
    }, { metrics: stuck, responseTimeoutMs: 200 });
  } finally {
    release();
  }
});

Deno.test("a failing render is a 500 without details, and is logged", async () => {
  const broken = new Metrics({ version: "test" });
  broken.render = () => Promise.reject(new Error("boom"));
  await withServer(async (url, { logs }) => {
    const r = await get(`${url}/metrics`);
    assert.deepEqual([r.status, r.body], [500, "internal error\n"]);
    assert.ok(logs.some((l) => l.includes("ERROR metrics request failed") && l.includes("boom")));
  }, { metrics: broken });
});

Deno.test("only the documented paths answer: no decoding, doubling or method tricks", async () => {
  await withServer(async (url) => {
    const port = Number(new URL(url).port);
    const request = (line: string) =>
      rawStatus(port, `${line}\r\nHost: x\r\nConnection: close\r\n\r\n`);
    for (const target of ["/%6Detrics", "//metrics", "/metrics%00", "/metrics;x", "/./metrics/"]) {
      assert.equal(await request(`GET ${target} HTTP/1.1`), "HTTP/1.1 404 Not Found", target);
    }
    for (const method of ["TRACE", "OPTIONS", "PATCH", "PROPFIND"]) {
      assert.equal(
        await request(`${method} /metrics HTTP/1.1`),
        "HTTP/1.1 405 Method Not Allowed",
        method,
      );
    }
    assert.match(await request("CONNECT 127.0.0.1:22 HTTP/1.1"), /^HTTP\/1\.1 4\d\d /);
    assert.equal(await request("GET /healthz HTTP/1.1"), "HTTP/1.1 200 OK");
  });
});

Deno.test("beyond the cap the longest waiting silent connection goes, a scraper's stays", async () => {
  await withServer(async (url, { logs }) => {
    const port = Number(new URL(url).port);
    const attack = new Attack(port);
    try {
      await attack.openKeepAlive(1);
      await waitFor("the answer", () => attack.keepAlive[0].answeredAt);
      await attack.openSilent(3, 1);
      await attack.openSilent(2, 1);
      const [oldest, second] = attack.silent;
      await waitFor("two closed", () => Attack.open(attack.silent).length === 3 || undefined);
      assert.deepEqual(Attack.open(attack.silent), attack.silent.slice(2));
      assert.ok(oldest.closedAfterMs! >= 0 && second.closedAfterMs! >= 0);
      // The scraper's connection still answers.
      const scraper = attack.keepAlive[0];
      scraper.answeredAt = undefined;
      await scraper.conn.write(
        new TextEncoder().encode("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
      );
      await waitFor("the second answer", () => scraper.answeredAt);
      assert.equal(Attack.open(attack.keepAlive).length, 1);
      assert.equal(
        logs.filter((l) => l.includes("WARN  metrics connections at the cap")).length,
        1,
      );
    } finally {
      await attack.stop();
    }
  }, { maxConnections: 4 });
});

Deno.test("silent, slow and idle keep-alive connections are closed after the idle timeout", async () => {
  const idleTimeoutMs = 2_000;
  await withServer(async (url) => {
    const attack = new Attack(Number(new URL(url).port));
    try {
      await attack.openSilent(3, 1);
      await attack.openSlow(3);
      await attack.openKeepAlive(3);
      const all = [...attack.silent, ...attack.slow, ...attack.keepAlive];
      await waitFor("all closed", () => Attack.open(all).length === 0 || undefined, {
        timeoutMs: 10_000,
      });
      const after = (c: AttackConnection, since: number | undefined) =>
        c.openedAt + c.closedAfterMs! - since!;
      for (const c of attack.silent) assert.ok(after(c, c.openedAt) >= idleTimeoutMs - 100);
      for (const c of attack.slow) assert.ok(after(c, c.firstByteAt) >= idleTimeoutMs - 100);
      for (const c of attack.keepAlive) assert.ok(after(c, c.answeredAt) >= idleTimeoutMs - 100);
    } finally {
      await attack.stop();
    }
  }, { idleTimeoutMs });
});

Deno.test("a client pipelining requests it does not read is closed; close() does not wait for idle ones", async () => {
  const metrics = new Metrics({ version: "test" });
  metrics.observeScan([fixtureSample()], 0.001);
  const server = startMetricsServer(
    LOOPBACK,
    metrics,
    new FakeHealth(),
    new Logger("error", "text", () => {}),
  );
  const attack = new Attack(server.port);
  try {
    await attack.openSilent(1, 1);
    // Read all that comes: at most 8 answers, then the end.
    const text = await exchange(server.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(20));
    const answered = text.split("HTTP/1.1 200 OK").length - 1;
    assert.ok(answered <= 8, `${answered} answers`);
  } finally {
    const started = performance.now();
    await server.close();
    assert.ok(performance.now() - started < 2_000, "close() waited for an idle connection");
    await attack.stop();
  }
});

/** The answers in `text`, each as its head's lines and its body (by its Content-Length). */
function answers(text: string, headOnly: boolean[] = []): { head: string[]; body: string }[] {
  const out: { head: string[]; body: string }[] = [];
  while (text !== "") {
    const end = text.indexOf("\r\n\r\n");
    assert.ok(end > 0, `no head in ${JSON.stringify(text)}`);
    const head = text.slice(0, end).split("\r\n");
    const length = headOnly[out.length]
      ? 0
      : Number(head.find((l) => l.startsWith("content-length: "))!.slice(16));
    out.push({ head, body: text.slice(end + 4, end + 4 + length) });
    text = text.slice(end + 4 + length);
  }
  return out;
}

Deno.test("HEAD has GET's length and no body; keep-alive tells its timeout, close ends it", async () => {
  await withServer(async (url) => {
    const port = Number(new URL(url).port);
    const text = await exchange(
      port,
      "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    const [head, get] = answers(text, [true]);
    assert.equal(head.head[0], "HTTP/1.1 200 OK");
    assert.ok(head.head.includes("content-length: 3"), head.head.join("|"));
    assert.ok(head.head.includes("keep-alive: timeout=9"), head.head.join("|"));
    assert.equal(head.body, "");
    assert.equal(get.head[0], "HTTP/1.1 200 OK");
    assert.ok(get.head.includes("connection: close"), get.head.join("|"));
    assert.equal(get.body, "ok\n");
    assert.ok(get.head.some((l) => /^date: \w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT$/.test(l)));
    // HTTP/1.0 closes unless asked not to.
    const [old] = answers(await exchange(port, "GET /readyz HTTP/1.0\r\n\r\n"));
    assert.equal(old.head[0], "HTTP/1.1 503 Service Unavailable");
    assert.ok(old.head.includes("connection: close"), old.head.join("|"));
  });
});

Deno.test("a request with a body is answered and its connection closed: the body is never a request", async () => {
  await withServer(async (url) => {
    const port = Number(new URL(url).port);
    const smuggled = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    for (
      const framing of [`Content-Length: ${smuggled.length}`, "Transfer-Encoding: chunked"]
    ) {
      const body = framing.startsWith("Content")
        ? smuggled
        : `${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
      const replies = answers(
        await exchange(port, `POST /metrics HTTP/1.1\r\nHost: x\r\n${framing}\r\n\r\n${body}`),
      );
      assert.deepEqual(replies.map((r) => r.head[0]), ["HTTP/1.1 405 Method Not Allowed"]);
      assert.ok(replies[0].head.includes("connection: close"));
    }
    // And one without Host is no HTTP/1.1 request.
    assert.deepEqual(
      answers(await exchange(port, "GET /healthz HTTP/1.1\r\n\r\n")).map((r) => r.head[0]),
      ["HTTP/1.1 400 Bad Request"],
    );
  });
});

Deno.test("pipelined requests within the bound are answered in order", async () => {
  await withServer(async (url) => {
    const port = Number(new URL(url).port);
    const text = await exchange(
      port,
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n\r\n" +
        "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert.deepEqual(answers(text).map((r) => [r.head[0], r.body]), [
      ["HTTP/1.1 200 OK", "ok\n"],
      ["HTTP/1.1 503 Service Unavailable", "no scan finished yet\n"],
      ["HTTP/1.1 404 Not Found", "not found\n"],
    ]);
  });
});

Deno.test("a head still coming at the idle timeout is told 408, then closed", async () => {
  const idleTimeoutMs = 2_000;
  await withServer(async (url) => {
    const started = performance.now();
    const text = await exchange(Number(new URL(url).port), "GET /metrics HTTP/1.1\r\nHost: x\r\n");
    assert.ok(performance.now() - started >= idleTimeoutMs - 100);
    assert.deepEqual(answers(text).map((r) => r.head[0]), ["HTTP/1.1 408 Request Timeout"]);
  }, { idleTimeoutMs });
});
