/**
 * The webhook notifier and the monitor's use of it, against real HTTP servers on loopback.
 */
import assert from "node:assert/strict";
import { parseDocument } from "yaml";
import type { MonitorOptions } from "../../../src/scan/monitor.ts";
import type { ProcessSample } from "../../../src/collect/sample.ts";
import { VARIABLE_NAMES } from "../../../src/collect/variables.ts";
import { NO_TREND } from "../../../src/collect/trend.ts";
import {
  type DeliveryOutcome,
  WebhookNotifier,
  type WebhookNotifierOptions,
} from "../../../src/act/webhook.ts";
import { parseWebhookConfig } from "../../../src/act/webhook_config.ts";
import { fakeSample, monitorHarness } from "../../support/fake_sample.ts";
import { waitFor } from "../../support/live_oomhero.ts";
import { ROOT } from "../../support/oomhero_process.ts";
import { refusedUrl, WebhookReceiver } from "../../support/webhook_receiver.ts";

const SECRET = "tok-9f8e7d6c";
const USER_AGENT = "oomhero/test";

/** A notifier for `url` with an Authorization header taken from the environment. */
function notifier(
  url: string,
  options: Partial<WebhookNotifierOptions> = {},
  extraHeaders = "",
): WebhookNotifier {
  const config = parseWebhookConfig(
    `url: ${url}\nheaders:\n  - name: Authorization\n    value: Bearer \${TOKEN}\n${extraHeaders}`,
    (name) => (name === "TOKEN" ? SECRET : undefined),
    parseDocument,
  );
  return new WebhookNotifier(config, { userAgent: USER_AGENT, ...options });
}

/** Dispatches one alert and resolves with its outcome. */
function deliver(
  n: WebhookNotifier,
  sample: ProcessSample = fakeSample(10, {}),
): Promise<DeliveryOutcome> {
  return new Promise((resolve) => assert.equal(n.dispatch("warning", sample, resolve), "started"));
}

Deno.test("webhook POSTs upstream's body with every variable, and the configured headers", async () => {
  const receiver = new WebhookReceiver();
  try {
    // Every variable a different value, so a mix-up between two of them shows.
    const values = Object.fromEntries(VARIABLE_NAMES.map((name, i) => [name, i + 0.5]));
    const sample = fakeSample(4321, values, "java -Xmx1g -jar app.jar");
    const outcome = await new Promise<DeliveryOutcome>((resolve) =>
      notifier(receiver.url("/alerts?team=payments")).dispatch("critical", sample, resolve)
    );
    assert.deepEqual(outcome, { ok: true });

    const [request] = await receiver.received(1);
    assert.equal(request.method, "POST");
    assert.equal(request.path, "/alerts?team=payments");
    assert.equal(request.headers["content-type"], "application/json");
    assert.equal(request.headers["user-agent"], USER_AGENT);
    assert.equal(request.headers["authorization"], `Bearer ${SECRET}`);

    // Upstream nests pressure as resource → some/full → window; the flat names are ours.
    const pressure: Record<string, Record<string, Record<string, number>>> = {};
    for (const [name, value] of Object.entries(values)) {
      const m = /^(memory|io|cpu)_pressure_(some|full)_(avg10|avg60|avg300|total)$/.exec(name);
      if (!m) continue;
      ((pressure[m[1]] ??= {})[m[2]] ??= {})[m[3]] = value;
    }
    assert.equal(Object.keys(pressure).length, 3);
    // Upstream's spelling: its Rust enum's variant, and the first argument only.
    assert.deepEqual(JSON.parse(request.body), {
      severity: "Critical",
      process: { pid: 4321, cmdline: "java" },
      collected_data: { ...values, pressure },
    });
  } finally {
    await receiver.close();
  }
});

Deno.test("webhook: severity is Warning for a warning; a long first argument is bounded", async () => {
  const receiver = new WebhookReceiver();
  try {
    // setproctitle: the whole title, secret included, in the first argument.
    const title = `worker: ${"x".repeat(2000)} DB_PASSWORD=${SECRET}`;
    const sample = { ...fakeSample(10, {}), cmdline: title, firstArg: title };
    assert.deepEqual(await deliver(notifier(receiver.url()), sample), { ok: true });
    const [request] = await receiver.received(1);
    const body = JSON.parse(request.body);
    assert.equal(body.severity, "Warning");
    assert.ok(!request.body.includes(SECRET));
    assert.match(body.process.cmdline, /^worker: x+…\(\+\d+ chars\)$/);
    assert.ok(body.process.cmdline.length < 300, body.process.cmdline);
  } finally {
    await receiver.close();
  }
});

Deno.test("webhook: a Content-Type or User-Agent in the file replaces ours, once", async () => {
  const receiver = new WebhookReceiver();
  try {
    const n = notifier(
      receiver.url(),
      {},
      "  - name: Content-Type\n    value: application/vnd.alert+json\n" +
        "  - name: User-Agent\n    value: my-agent\n",
    );
    assert.deepEqual(await deliver(n), { ok: true });
    const [request] = await receiver.received(1);
    assert.equal(request.headers["content-type"], "application/vnd.alert+json");
    assert.equal(request.headers["user-agent"], "my-agent");
  } finally {
    await receiver.close();
  }
});

Deno.test("webhook: a non-2xx answer fails with its status; a redirect is not followed", async () => {
  const receiver = new WebhookReceiver(500);
  try {
    const n = notifier(receiver.url());
    assert.deepEqual(await deliver(n), { ok: false, reason: "status_500", error: "HTTP 500" });
    receiver.answer = 302;
    assert.deepEqual(await deliver(n), {
      ok: false,
      reason: "status_302",
      error: "HTTP 302 (redirects are not followed)",
    });
    // Following it would have sent the token to /elsewhere.
    assert.deepEqual(receiver.requests.map((r) => r.path), ["/hook", "/hook"]);
  } finally {
    await receiver.close();
  }
});

Deno.test("webhook: a refused connection fails with the cause and without the URL", async () => {
  const url = refusedUrl(`/services/${SECRET}`);
  const outcome = await deliver(notifier(url));
  assert.equal(outcome.ok, false);
  assert.ok(!outcome.ok);
  assert.equal(outcome.reason, "network");
  assert.match(outcome.error, /refused/i);
  assert.ok(!outcome.error.includes(SECRET), outcome.error);
});

Deno.test("webhook: a server that never answers times out", async () => {
  const receiver = new WebhookReceiver("hold");
  try {
    const outcome = await deliver(notifier(receiver.url(), { timeoutMs: 200 }));
    assert.deepEqual(outcome, { ok: false, reason: "timeout", error: "no response within 200 ms" });
    assert.equal(receiver.requests.length, 1);
  } finally {
    await receiver.close();
  }
});

Deno.test("webhook: at most maxInFlight POSTs at once, and one per process and severity", async () => {
  const receiver = new WebhookReceiver("hold");
  try {
    const n = notifier(receiver.url(), { maxInFlight: 3 });
    const done: DeliveryOutcome[] = [];
    const dispatch = (pid: number, severity: "warning" | "critical" = "warning") =>
      n.dispatch(severity, fakeSample(pid, {}), (o) => done.push(o));
    assert.deepEqual([dispatch(1), dispatch(1), dispatch(1, "critical"), dispatch(2)], [
      "started",
      "in_flight",
      "started",
      "started",
    ]);
    assert.equal(dispatch(3), "full");
    assert.equal(n.inFlight, 3);
    await receiver.received(3);
    receiver.release();
    await n.settled();
    assert.equal(n.inFlight, 0);
    assert.deepEqual(done, [{ ok: true }, { ok: true }, { ok: true }]);
    assert.equal(dispatch(3), "started");
    await receiver.received(4);
    receiver.release();
    await n.settled();
  } finally {
    await receiver.close();
  }
});

/** A monitor wired to `webhook`, with a fake source, a fake kill and a clock the test moves. */
function harness(webhook: WebhookNotifier, overrides: Partial<MonitorOptions> = {}) {
  const h = monitorHarness(overrides, { webhook });
  return { h, monitor: h.monitor };
}

Deno.test("monitor with a webhook POSTs instead of signalling, without waiting for the POST", async () => {
  const receiver = new WebhookReceiver("hold");
  try {
    const webhook = notifier(receiver.url());
    const { h, monitor } = harness(webhook);
    const sample = fakeSample(10, { memory_usage: 80 }, "java -jar app.jar");
    // As the collector hands it over: the trends are the monitor's to fit, for the body.
    for (const name of Object.keys(NO_TREND)) delete sample.variables[name];
    h.samples = [sample];
    monitor.scanOnce();
    // scanOnce has returned and the POST is still under way: nothing counted yet.
    assert.equal(webhook.inFlight, 1);
    assert.deepEqual(h.counted, []);
    const [request] = await receiver.received(1);
    const collected = JSON.parse(request.body).collected_data;
    for (const name of VARIABLE_NAMES) assert.equal(typeof collected[name], "number", name);
    assert.equal(collected.memory_seconds_to_limit, NO_TREND.memory_seconds_to_limit);
    assert.equal(webhook.inFlight, 1);
    receiver.release();
    await webhook.settled();
    assert.deepEqual(h.sent, []);
    assert.deepEqual(h.counted, ["warning webhook sent"]);
    const line = h.logs.find((l) => l.includes("webhook sent"));
    assert.match(
      line ?? "",
      / WARN .*pid=10 cmdline="java -jar app.jar" severity=warning signal=webhook/,
    );
    assert.match(line ?? "", /memory_usage=80/);
    // Sent: the next alert waits for the cooldown.
    h.clock.now = 29_999;
    monitor.scanOnce();
    assert.equal(webhook.inFlight, 0);
    h.clock.now = 30_000;
    monitor.scanOnce();
    assert.equal(webhook.inFlight, 1);
    await receiver.received(2);
  } finally {
    await receiver.close();
  }
});

Deno.test("monitor retries a failed POST 1 s after the failure, not after the cooldown", async () => {
  const receiver = new WebhookReceiver(500);
  try {
    const webhook = notifier(receiver.url());
    const { h, monitor } = harness(webhook);
    h.samples = [fakeSample(10, { memory_usage: 80 })];
    monitor.scanOnce();
    // The failure arrives at t=5000: the retry is due at 6000, whenever the POST started.
    h.clock.now = 5_000;
    await webhook.settled();
    assert.deepEqual(h.counted, ["warning webhook failed", "error webhook_status_500"]);
    h.clock.now = 5_999;
    monitor.scanOnce();
    assert.equal(webhook.inFlight, 0, "no retry before 1 s");
    h.clock.now = 6_000;
    monitor.scanOnce();
    assert.equal(webhook.inFlight, 1, "the retry");
    await webhook.settled();
    assert.equal(receiver.requests.length, 2);
    assert.equal(h.counted.length, 4);
    // Warned once; the retry's failure goes to debug.
    assert.equal(
      h.logs.filter((l) => / WARN .*webhook failed.*error="HTTP 500"/.test(l)).length,
      1,
    );
    assert.equal(h.logs.filter((l) => / DEBUG .*webhook failed/.test(l)).length, 1);
  } finally {
    await receiver.close();
  }
});

Deno.test("monitor starts no second POST for a pair in flight, but does for a new severity", async () => {
  const receiver = new WebhookReceiver("hold");
  try {
    const webhook = notifier(receiver.url());
    const { h, monitor } = harness(webhook, { cooldownMs: 10 });
    h.samples = [fakeSample(10, { memory_usage: 80 })];
    monitor.scanOnce();
    h.clock.now = 100;
    monitor.scanOnce();
    assert.equal(webhook.inFlight, 1);
    assert.ok(h.logs.some((l) => l.includes("webhook still in flight")));
    h.samples = [fakeSample(10, { memory_usage: 95 })];
    h.clock.now = 200;
    monitor.scanOnce();
    assert.equal(webhook.inFlight, 2);
    const requests = await receiver.received(2);
    assert.deepEqual(requests.map((r) => JSON.parse(r.body).severity), ["Warning", "Critical"]);
    receiver.release();
    await webhook.settled();
  } finally {
    await receiver.close();
  }
});

Deno.test("monitor drops an alert when the notifier is full, counts it and retries after 1 s", async () => {
  const receiver = new WebhookReceiver("hold");
  try {
    const webhook = notifier(receiver.url(), { maxInFlight: 1 });
    const { h, monitor } = harness(webhook);
    h.samples = [fakeSample(10, { memory_usage: 80 }), fakeSample(11, { memory_usage: 80 })];
    monitor.scanOnce();
    assert.deepEqual(h.counted, ["error webhook_dropped"]);
    assert.ok(h.logs.some((l) => / WARN .*webhook dropped pid=11/.test(l)));
    await receiver.received(1);
    receiver.release();
    await webhook.settled();
    h.clock.now = 999;
    monitor.scanOnce();
    assert.equal(webhook.inFlight, 0);
    h.clock.now = 1_000;
    monitor.scanOnce();
    assert.equal(webhook.inFlight, 1);
    const requests = await receiver.received(2);
    assert.deepEqual(requests.map((r) => JSON.parse(r.body).process.pid), [10, 11]);
  } finally {
    await receiver.close();
  }
});

Deno.test("monitor with signalToo signals and POSTs, each with its own cooldown", async () => {
  const receiver = new WebhookReceiver(500);
  try {
    const webhook = notifier(receiver.url());
    const { h, monitor } = harness(webhook, { signalToo: true });
    h.samples = [fakeSample(10, { memory_usage: 95 })];
    monitor.scanOnce();
    await webhook.settled();
    h.clock.now = 1_000;
    monitor.scanOnce();
    await webhook.settled();
    // The signal arrived and waits for its cooldown; the failing POST is retried.
    assert.deepEqual(h.sent, [[10, "SIGUSR2"]]);
    assert.equal(receiver.requests.length, 2);
    assert.deepEqual(h.counted.filter((c) => !c.startsWith("error")), [
      "critical SIGUSR2 sent",
      "critical webhook failed",
      "critical webhook failed",
    ]);
  } finally {
    await receiver.close();
  }
});

Deno.test("monitor in dry-run POSTs nothing and counts what it would send", async () => {
  const receiver = new WebhookReceiver();
  try {
    const webhook = notifier(receiver.url());
    const { h, monitor } = harness(webhook, { dryRun: true });
    h.samples = [fakeSample(10, { memory_usage: 95 })];
    monitor.scanOnce();
    assert.equal(webhook.inFlight, 0);
    assert.deepEqual(h.counted, ["critical webhook dry_run"]);
    assert.ok(h.logs.some((l) => l.includes("would send webhook (dry run)")));
    assert.equal(receiver.requests.length, 0);
  } finally {
    await receiver.close();
  }
});

Deno.test("monitor keeps scanning at its pace while a POST hangs", async () => {
  const receiver = new WebhookReceiver("hold");
  const stop = new AbortController();
  try {
    const webhook = notifier(receiver.url());
    const { h, monitor } = harness(webhook, { loopIntervalMs: 5 });
    h.samples = [fakeSample(10, { memory_usage: 80 })];
    const running = monitor.run(stop.signal);
    await receiver.received(1);
    const scansAtRequest = h.scans;
    // 20 more scans while the POST is still unanswered: the loop does not wait for it.
    await waitFor("20 scans during the POST", () => h.scans >= scansAtRequest + 20 || undefined);
    assert.equal(webhook.inFlight, 1);
    assert.equal(receiver.requests.length, 1);
    stop.abort();
    await running;
    receiver.release();
    await webhook.settled();
  } finally {
    stop.abort();
    await receiver.close();
  }
});

/** The modules `src/main.ts` reaches in Deno's module graph, with or without dynamic imports. */
async function reachable(dynamic: boolean): Promise<Set<string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `${ROOT}src/main.ts`],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: {
      specifier: string;
      dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
    }[];
    redirects: Record<string, string>;
  };
  const modules = new Map(graph.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const visit = (specifier: string) => {
    const resolved = graph.redirects[specifier] ?? specifier;
    if (seen.has(resolved)) return;
    seen.add(resolved);
    for (const dep of modules.get(resolved)?.dependencies ?? []) {
      // Type-only imports have no `code` and load nothing.
      if (dep.code && (dynamic || !dep.isDynamic)) visit(dep.code.specifier);
    }
  };
  graph.roots.forEach(visit);
  return seen;
}

Deno.test("the YAML parser loads only with --http-file-path: no static import reaches it", async () => {
  const yaml = "npm:/yaml@2.9.1";
  assert.ok((await reachable(true)).has(yaml), "src/act/webhook.ts imports yaml dynamically");
  assert.ok(!(await reachable(false)).has(yaml), "a static import would load yaml for everyone");
});
