/**
 * `--http-file-path` through the real CLI: every bad file stops oomhero with one line and exit 2
 * without printing a secret, and a running oomhero POSTs, retries and keeps scanning whatever the
 * webhook does.
 */
import assert from "node:assert/strict";
import { VARIABLE_NAMES } from "../../src/collect/variables.ts";
import { metricValue, startOomhero } from "../support/live_oomhero.ts";
import { startNamed, stopNamed } from "../support/named_process.ts";
import { runOomhero } from "../support/oomhero_process.ts";
import { testTempDir } from "../support/temp_dir.ts";
import { refusedUrl, WebhookReceiver } from "../support/webhook_receiver.ts";

const SECRET = "s3cr3t-d0-not-print";
/** Every run gets the secret in its environment; no output may ever contain it. */
const ENV = { TOKEN: SECRET, BROKEN: `${SECRET}\r\nX-Injected: 1` };
const OK = ["--warning=memory_usage > 75", "--critical=memory_usage > 90"];

/** Every file and directory the tests make, removed when they end. */
const TEMP = testTempDir("oomhero_webhook_");

/** Writes `text` to a fresh temporary file and returns its path. */
async function webhookFile(text: string): Promise<string> {
  const path = await Deno.makeTempFile({ dir: TEMP, suffix: ".yaml" });
  await Deno.writeTextFile(path, text);
  return path;
}

/** [case, file text (or a path maker), the problem expected after `"<path>": `] */
const BAD_FILES: [string, string | (() => Promise<string>), RegExp][] = [
  ["missing file", () => Promise.resolve(`${TEMP}/absent.yaml`), /^no such file$/],
  ["directory", () => Deno.makeTempDir({ dir: TEMP }), /^is a directory, not a file$/],
  [
    "path through a file",
    async () => `${await webhookFile("url: http://x/\n")}/x.yaml`,
    /^cannot read it: Not a directory \(os error 20\)$/,
  ],
  ["empty file", "", /^is empty; expected url/],
  [
    "bad YAML",
    `url: http://x/\nheaders:\n  - name: Authorization\n   value: Bearer ${SECRET}\n`,
    /^not valid YAML at line 4, column 1: /,
  ],
  ["missing url", "headers:\n  - {name: A, value: '${TOKEN}'}\n", /^has no url/],
  [
    "non-http url",
    `url: ftp://user:${SECRET}@files.example.com/\n`,
    /^url: scheme ftp: is not http: or https:$/,
  ],
  [
    "bad header name",
    "url: http://x/\nheaders:\n  - {name: 'X Token', value: '${TOKEN}'}\n",
    /^headers\[0\]\.name: "X Token" is not a valid header name$/,
  ],
  [
    "header value that would inject a header",
    "url: http://x/\nheaders:\n  - name: Authorization\n    value: Bearer ${BROKEN}\n",
    /^headers\[0\] \(Authorization\)\.value: holds a line break/,
  ],
  [
    "unset variable",
    "url: http://x/\nheaders:\n  - name: Authorization\n    value: Bearer ${TOKEN_TYPO}\n",
    /^headers\[0\] \(Authorization\)\.value: environment variable TOKEN_TYPO is not set$/,
  ],
];

for (const [name, content, expected] of BAD_FILES) {
  Deno.test(`cli rejects a webhook file: ${name}, in one line without the secret`, async () => {
    const path = typeof content === "string" ? await webhookFile(content) : await content();
    const r = await runOomhero([...OK, `--http-file-path=${path}`], ENV);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
    const prefix = `oomhero: --http-file-path: ${JSON.stringify(path)}: `;
    assert.ok(lines[0].startsWith(prefix), lines[0]);
    assert.match(lines[0].slice(prefix.length), expected);
    assert.ok(!r.stderr.includes(SECRET) && !r.stdout.includes(SECRET), r.stderr);
    assert.equal(r.stdout, "");
  });
}

/** [case, args, the one stderr line expected] */
const BAD_FLAGS: [string, string[], RegExp][] = [
  ["empty path", [...OK, "--http-file-path="], /^oomhero: --http-file-path: is empty/],
  [
    "--signal-too alone",
    [...OK, "--signal-too"],
    /^oomhero: --signal-too: needs --http-file-path$/,
  ],
  [
    "a signal flag the webhook would ignore",
    [...OK, "--http-file-path=/x.yaml", "--critical-signal=SIGTERM"],
    /^oomhero: --critical-signal: has no effect with --http-file-path.*--signal-too/,
  ],
];

for (const [name, args, expected] of BAD_FLAGS) {
  Deno.test(`cli rejects ${name} with one line and exit 2`, async () => {
    const r = await runOomhero(args, ENV);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assert.match(r.stderr.trimEnd(), expected);
  });
}

/** A process to alert about: `sleep` under a unique name, which SIGUSR1 would kill. */
async function target(): Promise<{ child: Deno.ChildProcess; marker: string }> {
  const marker = `oomhero-webhook-target-${crypto.randomUUID().slice(0, 8)}`;
  return { child: await startNamed(marker), marker };
}

/** oomhero flags that put the target at warning on every scan. */
function alwaysWarn(marker: string, file: string, extra: string[] = []): string[] {
  return [
    "--warning=memory_current >= 0",
    "--critical=memory_current < 0",
    `--include=^${marker}`,
    "--loop-interval=50ms",
    `--http-file-path=${file}`,
    ...extra,
  ];
}

/** Runs `body` with a target process and cleans it up. */
async function withTarget(body: (t: Awaited<ReturnType<typeof target>>) => Promise<void>) {
  const t = await target();
  try {
    await body(t);
  } finally {
    await stopNamed(t.child);
  }
}

Deno.test("cli POSTs the real process's figures to the webhook instead of signalling it", async () => {
  const receiver = new WebhookReceiver();
  await withTarget(async ({ child, marker }) => {
    // A key oomhero does not know loads, as upstream's files do, with a warning naming it.
    const file = await webhookFile(
      `url: ${receiver.url()}\ntimeout: 5s\nheaders:\n  - name: Authorization\n` +
        "    value: Bearer ${TOKEN}\n",
    );
    const oomhero = await startOomhero(alwaysWarn(marker, file), { env: ENV });
    try {
      const [request] = await receiver.received(1);
      assert.equal(request.headers["authorization"], `Bearer ${SECRET}`);
      const body = JSON.parse(request.body);
      assert.equal(body.severity, "Warning");
      // startNamed runs `sleep 1000` under the marker as argv[0]: upstream sends argv[0] alone.
      assert.deepEqual(body.process, { pid: child.pid, cmdline: marker });
      for (const name of VARIABLE_NAMES) {
        assert.equal(typeof body.collected_data[name], "number", name);
      }
      assert.ok(body.collected_data.memory_current > 0);
      assert.equal(
        body.collected_data.pressure.memory.some.avg10,
        body.collected_data.memory_pressure_some_avg10,
      );
      await oomhero.waitForMetrics(
        "the webhook counted as sent",
        (m) =>
          metricValue(m, "oomhero_signals_total", { signal: "webhook", result: "sent" }) >= 1 ||
          undefined,
      );
      const started = oomhero.log.find((l) => l.includes("oomhero started")) ?? "";
      assert.match(
        started,
        new RegExp(`warning_signal=none critical_signal=none webhook=${receiver.url("")}`),
      );
      assert.match(started, /webhook_headers=Authorization/);
      const unknown = oomhero.log.filter((l) => l.includes("unknown key"));
      assert.equal(unknown.length, 1, oomhero.describe());
      assert.match(unknown[0], / WARN .*unknown key in the webhook file, ignored key=timeout /);
    } finally {
      assert.equal((await oomhero.stop()).code, 0);
    }
    // SIGUSR1 would have ended sleep: it got no signal.
    assert.equal(Deno.readTextFileSync(`/proc/${child.pid}/cmdline`).split("\0")[0], marker);
    assert.ok(!oomhero.log.join("\n").includes(SECRET), oomhero.describe());
  }).finally(() => receiver.close());
});

Deno.test("cli keeps scanning while the webhook refuses connections, and retries", async () => {
  await withTarget(async ({ marker }) => {
    const url = refusedUrl(`/services/${SECRET}`);
    const file = await webhookFile(
      `url: ${url}\nheaders:\n  - {name: X-Token, value: '\${TOKEN}'}\n`,
    );
    const oomhero = await startOomhero(alwaysWarn(marker, file), { env: ENV });
    try {
      const scansAtStart = await oomhero.waitForMetrics(
        "a first scan",
        (m) => metricValue(m, "oomhero_scans_total") || undefined,
      );
      // Each retry comes 1 s after the last failure; scans go on in between. No pace is
      // asserted (the machine may be busy), only that both keep counting.
      const m = await oomhero.waitForMetrics(
        "three failed POSTs and 20 more scans",
        (m) =>
          metricValue(m, "oomhero_errors_total", { reason: "webhook_network" }) >= 3 &&
            metricValue(m, "oomhero_scans_total") >= scansAtStart + 20
            ? m
            : undefined,
      );
      assert.ok(
        metricValue(m, "oomhero_signals_total", { signal: "webhook", result: "failed" }) >= 3,
      );
      assert.equal((await oomhero.get("/healthz")).status, 200);
      const warned = oomhero.log.filter((l) => / WARN .*webhook failed/.test(l));
      assert.equal(warned.length, 1, oomhero.describe());
      assert.match(warned[0], /signal=webhook .*error=".*refused/i);
    } finally {
      assert.equal((await oomhero.stop()).code, 0);
    }
    assert.ok(!oomhero.log.join("\n").includes(SECRET), oomhero.describe());
  });
});

Deno.test("cli retries a POST answered 500 about 1 s later, not after the cooldown", async () => {
  const receiver = new WebhookReceiver(500);
  await withTarget(async ({ marker }) => {
    const oomhero = await startOomhero(
      alwaysWarn(marker, await webhookFile(`url: ${receiver.url()}\n`)),
    );
    try {
      const [first, second] = await receiver.received(2);
      const gap = second.at - first.at;
      // At least the 1 s retry delay (less a scheduling margin), far below the 30 s cooldown.
      assert.ok(gap >= 900 && gap < 10_000, `second POST ${gap} ms after the first`);
      await oomhero.waitForLog(/ WARN .*webhook failed.*error="HTTP 500"/);
    } finally {
      assert.equal((await oomhero.stop()).code, 0);
    }
  }).finally(() => receiver.close());
});

Deno.test("cli gives up on a webhook that never answers after 3 s, then retries", async () => {
  const receiver = new WebhookReceiver("hold");
  await withTarget(async ({ marker }) => {
    const oomhero = await startOomhero(
      alwaysWarn(marker, await webhookFile(`url: ${receiver.url()}\n`)),
    );
    try {
      const [first, second] = await receiver.received(2, 20_000);
      const gap = second.at - first.at;
      // The 3 s timeout plus the 1 s retry delay, less a scheduling margin.
      assert.ok(gap >= 3_500 && gap < 15_000, `second POST ${gap} ms after the first`);
      await oomhero.waitForLog(/ WARN .*webhook failed.*error="no response within 3000 ms"/);
      await oomhero.waitForMetrics(
        "the timeout counted",
        (m) =>
          metricValue(m, "oomhero_errors_total", { reason: "webhook_timeout" }) >= 1 || undefined,
      );
    } finally {
      // A POST is in flight: shutdown waits for it (at most 3 s) and still exits 0.
      assert.equal((await oomhero.stop()).code, 0);
    }
  }).finally(() => receiver.close());
});
