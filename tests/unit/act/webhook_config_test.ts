import assert from "node:assert/strict";
import { parseDocument } from "yaml";
import {
  expandEnv,
  parseWebhookConfig,
  Secret,
  type WebhookConfig,
  WebhookConfigError,
} from "../../../src/act/webhook_config.ts";

const SECRET = "s3cr3t-token-value";
const ENV: Record<string, string> = { API_TOKEN: SECRET, TEAM: "payments", EMPTY: "" };
const env = (name: string): string | undefined => ENV[name];

function parse(text: string): WebhookConfig {
  return parseWebhookConfig(text, env, parseDocument);
}

/** The message of the WebhookConfigError that parsing `text` throws. */
function reason(text: string): string {
  try {
    parse(text);
  } catch (e) {
    assert.ok(e instanceof WebhookConfigError, String(e));
    return e.message;
  }
  assert.fail(`accepted: ${text}`);
}

/** What a config holds, with the secrets revealed, for deepEqual. */
function plain(config: WebhookConfig) {
  return {
    url: config.url.reveal(),
    origin: config.origin,
    headers: config.headers.map((h) => [h.name, h.value.reveal()]),
  };
}

Deno.test("webhook config: upstream's YAML format", () => {
  const config = parse(`
url: https://hooks.example.com/alerts
headers:
  - name: Authorization
    value: Bearer token123
  - name: Content-Type
    value: application/json
`);
  assert.deepEqual(plain(config), {
    url: "https://hooks.example.com/alerts",
    origin: "https://hooks.example.com",
    headers: [["Authorization", "Bearer token123"], ["Content-Type", "application/json"]],
  });
});

Deno.test("webhook config: JSON, tab-indented as editors write it", () => {
  const config = parse(
    '{\n\t"url": "http://10.0.0.5:8080/hook",\n\t"headers": [\n\t\t{"name": "X-Team", "value": "a"}\n\t]\n}\n',
  );
  assert.deepEqual(plain(config), {
    url: "http://10.0.0.5:8080/hook",
    origin: "http://10.0.0.5:8080",
    headers: [["X-Team", "a"]],
  });
});

Deno.test("webhook config: unknown keys are ignored, as upstream ignores them, and listed", () => {
  const config = parse(`
url: https://hooks.example.com/alerts
method: POST
header:
  - {name: X-Typo, value: a}
headers:
  - {name: Authorization, value: Bearer t, comment: ops token}
`);
  assert.deepEqual(plain(config).headers, [["Authorization", "Bearer t"]]);
  assert.deepEqual(config.unknownKeys, ["method", "header", "headers[0].comment"]);
  assert.deepEqual(parse("url: http://alerts.local/").unknownKeys, []);
});

Deno.test("webhook config: headers are optional", () => {
  assert.deepEqual(plain(parse("url: http://alerts.local/")).headers, []);
});

Deno.test("webhook config: ${NAME} in header values and the url comes from the environment", () => {
  const config = parse(`
url: https://hooks.example.com/\${TEAM}/alerts
headers:
  - name: Authorization
    value: "Bearer \${API_TOKEN}"
  - name: X-Route
    value: \${TEAM}-\${TEAM}$5
  - name: X-Empty
    value: "[\${EMPTY}]"
`);
  assert.deepEqual(plain(config), {
    url: "https://hooks.example.com/payments/alerts",
    origin: "https://hooks.example.com",
    headers: [
      ["Authorization", `Bearer ${SECRET}`],
      ["X-Route", "payments-payments$5"],
      ["X-Empty", "[]"],
    ],
  });
});

Deno.test("webhook config: expandEnv leaves text without references alone", () => {
  assert.equal(expandEnv("cost $5, {braces} and $HOME", env, "x"), "cost $5, {braces} and $HOME");
});

/** [case, file text, the reason expected (a regex over the whole message)] */
const BAD: [string, string, RegExp][] = [
  ["empty file", "", /^is empty; expected url/],
  ["only a comment", "# nothing\n", /^is empty; expected url/],
  ["a list", "- url: http://x/\n", /^must be a mapping with url/],
  ["a scalar", "http://x/\n", /^must be a mapping with url/],
  ["missing url", "headers: []\n", /^has no url; expected url: https:\/\/\.\.\./],
  ["url not a string", "url: 42\n", /^url: must be a string$/],
  ["relative url", "url: hooks.example.com/alerts\n", /^url: not an absolute URL/],
  ["ftp url", "url: ftp://files.example.com/\n", /^url: scheme ftp: is not http: or https:$/],
  ["file url", "url: file:///etc/passwd\n", /^url: scheme file: is not http: or https:$/],
  [
    "a misspelt url",
    "URL: http://x/\n",
    /^has no url \(unknown key "URL"\); expected url: https:\/\/\.\.\./,
  ],
  ["headers not a list", "url: http://x/\nheaders: {name: a}\n", /^headers: must be a list/],
  ["header not a mapping", "url: http://x/\nheaders: [a]\n", /^headers\[0\]: must be a mapping/],
  [
    "header with a misspelt value",
    `url: http://x/\nheaders:\n  - {name: a, val: "${SECRET}"}\n`,
    /^headers\[0\] \(a\): has no value \(unknown key "val"\)$/,
  ],
  [
    "header without name",
    "url: http://x/\nheaders:\n  - {value: b}\n",
    /^headers\[0\]: has no name$/,
  ],
  [
    "header with an empty name",
    "url: http://x/\nheaders:\n  - {name: '', value: b}\n",
    /^headers\[0\]\.name: must be a non-empty string$/,
  ],
  [
    "header name with a space",
    "url: http://x/\nheaders:\n  - {name: X Token, value: b}\n",
    /^headers\[0\]\.name: "X Token" is not a valid header name$/,
  ],
  [
    "header value a number",
    "url: http://x/\nheaders:\n  - {name: X-Id, value: 42}\n",
    /^headers\[0\] \(X-Id\)\.value: must be a string; quote it$/,
  ],
  [
    "header value with a line break",
    `url: http://x/\nheaders:\n  - name: X-Id\n    value: "a${SECRET}\\nInjected: 1"\n`,
    /^headers\[0\] \(X-Id\)\.value: holds a line break/,
  ],
  [
    "header value beyond Latin-1",
    `url: http://x/\nheaders:\n  - {name: X-Id, value: "${SECRET}\u0100"}\n`,
    /^headers\[0\] \(X-Id\)\.value: holds a line break, NUL or a character beyond Latin-1/,
  ],
  [
    "unset variable",
    "url: http://x/\nheaders:\n  - {name: Authorization, value: 'Bearer ${NOPE}'}\n",
    /^headers\[0\] \(Authorization\)\.value: environment variable NOPE is not set$/,
  ],
  [
    "unset variable in the url",
    "url: https://hooks.example.com/${HOOK_PATH}\n",
    /^url: environment variable HOOK_PATH is not set$/,
  ],
  [
    "malformed reference",
    "url: http://x/\nheaders:\n  - {name: A, value: '${API TOKEN}'}\n",
    /^headers\[0\] \(A\)\.value: "\$\{" must start a reference such as \$\{API_TOKEN\}/,
  ],
  [
    "unclosed reference",
    "url: http://x/\nheaders:\n  - {name: A, value: '${API_TOKEN'}\n",
    /^headers\[0\] \(A\)\.value: "\$\{" must start a reference/,
  ],
  [
    "bad YAML",
    `url: http://x/\nheaders:\n  - name: a\n   value: ${SECRET}\n`,
    /^not valid YAML at line 4, column 1: Sequence item without - indicator$/,
  ],
  [
    "unterminated quote",
    `url: 'http://x/?t=${SECRET}\n`,
    /^not valid YAML at line 2, column 1: Missing closing 'quote$/,
  ],
  [
    "duplicate key",
    "url: http://a/\nurl: http://b/\n",
    /^not valid YAML at line 2, column 1: Map keys/,
  ],
  [
    "two documents",
    "url: http://a/\n---\nurl: http://b/\n",
    /^not valid YAML at line 2, .*multiple/,
  ],
  [
    "unknown tag",
    "url: !secret http://a/\n",
    /^not valid YAML at line 1, column 6: Unresolved tag/,
  ],
  ["binary url", "url: !!binary aGVsbG8=\n", /^url: must be a string$/],
];

for (const [name, text, expected] of BAD) {
  Deno.test(`webhook config rejects ${name}, without quoting secrets`, () => {
    const message = reason(text);
    assert.match(message, expected);
    assert.ok(!message.includes(SECRET), message);
    assert.ok(!message.includes("\n"), "one line");
  });
}

Deno.test("webhook config never quotes the url, which may be a token itself", () => {
  const message = reason(`url: "https//hooks.slack.com/services/${SECRET}"\n`);
  assert.match(message, /^url: not an absolute URL/);
  assert.ok(!message.includes(SECRET), message);
});

Deno.test("a Secret prints as [redacted] in strings, JSON and Deno.inspect", () => {
  const config = parse(
    `url: https://h.example/\${API_TOKEN}\nheaders:\n  - {name: A, value: "\${API_TOKEN}"}\n`,
  );
  const shown = [
    JSON.stringify(config),
    Deno.inspect(config, { depth: 10 }),
    `${config.headers[0].value}`,
    String(config.url),
  ];
  for (const text of shown) {
    assert.ok(!text.includes(SECRET), text);
    assert.match(text, /\[redacted\]/);
  }
  assert.equal(new Secret("x").reveal(), "x");
});
