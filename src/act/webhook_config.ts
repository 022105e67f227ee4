/**
 * The `--http-file-path` file, upstream's format: `{ url, headers: [{ name, value }] }` in YAML or
 * JSON. Pure functions from text to a validated config; reading the file is `webhook.ts`'s job.
 * @module
 */
import type { parseDocument } from "yaml";

/**
 * A value that must not be printed: a header value or a URL that may hold a token. Logging,
 * `JSON.stringify` and `Deno.inspect` show `[redacted]`; only {@linkcode Secret.reveal} gives it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value itself, for the request and nothing else. */
  reveal(): string {
    return this.#value;
  }

  /** `[redacted]`, so string interpolation cannot leak it. */
  toString(): string {
    return "[redacted]";
  }

  /** `[redacted]`, so JSON logs cannot leak it. */
  toJSON(): string {
    return "[redacted]";
  }

  /** `[redacted]`, so `console.log` and `Deno.inspect` cannot leak it. */
  [Symbol.for("Deno.customInspect")](): string {
    return "[redacted]";
  }
}

/** One configured request header. */
export interface WebhookHeader {
  /** The header name, as written. */
  readonly name: string;
  /** The value with `${VAR}` expanded. */
  readonly value: Secret;
}

/** A validated webhook configuration. */
export interface WebhookConfig {
  /** Where alerts are POSTed (http or https), with `${VAR}` expanded. */
  readonly url: Secret;
  /** Scheme, host and port of `url`: what logs may show of it. */
  readonly origin: string;
  /** Extra request headers, in file order. */
  readonly headers: readonly WebhookHeader[];
  /**
   * Keys the file has that oomhero does not know, as paths (`header`, `headers[0].val`): ignored
   * as upstream ignores them, and warned about so that a typo shows.
   */
  readonly unknownKeys: readonly string[];
}

/** Reads an environment variable; undefined when it is not set. */
export type EnvLookup = (name: string) => string | undefined;

/** The `yaml` package's `parseDocument`, passed in so that the package loads only when needed. */
export type YamlParseDocument = typeof parseDocument;

/** What is wrong with a webhook file, without any secret in it. */
export class WebhookConfigError extends Error {
  constructor(problem: string) {
    super(problem);
    this.name = "WebhookConfigError";
  }
}

const TOP_KEYS = ["url", "headers"];
const HEADER_KEYS = ["name", "value"];
/** RFC 9110 token characters: what a header name may hold. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** `${NAME}`, a POSIX-style environment variable name. */
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** 1-based line and column of `offset` in `text`. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: offset - lineStart + 1 };
}

/**
 * Parses YAML (JSON is YAML too) into plain values. An error names the line and column but never
 * quotes the text, which may hold a token.
 * @throws {WebhookConfigError} on a syntax error, several documents or an unknown tag.
 */
export function parseYaml(text: string, parse: YamlParseDocument): unknown {
  // prettyErrors would append the offending line; "error" keeps warnings off stderr (not
  // "silent", which also drops the error for a second document).
  const doc = parse(text, { prettyErrors: false, logLevel: "error" });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    const { line, column } = lineColumn(text, problem.pos[0]);
    throw new WebhookConfigError(
      `not valid YAML at line ${line}, column ${column}: ${problem.message}`,
    );
  }
  return doc.toJS({ maxAliasCount: 100 });
}

/**
 * Replaces every `${NAME}` in `text` with the variable's value. A literal `$` not followed by
 * `{` stays as it is.
 * @throws {WebhookConfigError} naming `where` and the variable when one is not set, or when a
 * `${` does not form a reference.
 */
export function expandEnv(text: string, env: EnvLookup, where: string): string {
  const unmatched = text.replace(ENV_REFERENCE, "").indexOf("${");
  if (unmatched >= 0) {
    throw new WebhookConfigError(
      `${where}: "\${" must start a reference such as \${API_TOKEN} (letters, digits, _)`,
    );
  }
  return text.replace(ENV_REFERENCE, (_, name: string) => {
    const value = env(name);
    if (value === undefined) {
      throw new WebhookConfigError(`${where}: environment variable ${name} is not set`);
    }
    return value;
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The keys of `value` not in `allowed`. */
function unknownKeys(value: Record<string, unknown>, allowed: string[]): string[] {
  return Object.keys(value).filter((k) => !allowed.includes(k));
}

/**
 * ` (unknown key "val")` after "has no value": a misspelt key explains a missing one better than
 * the absence alone. "" without unknown keys.
 */
function unknownNote(keys: string[]): string {
  if (keys.length === 0) return "";
  return ` (unknown key${keys.length === 1 ? "" : "s"} ${
    keys.map((k) => JSON.stringify(k)).join(", ")
  })`;
}

function parseUrl(
  value: unknown,
  env: EnvLookup,
  besides: string,
): { url: Secret; origin: string } {
  if (value === undefined) {
    throw new WebhookConfigError(
      `has no url${besides}; expected url: https://... and optional headers`,
    );
  }
  if (typeof value !== "string") throw new WebhookConfigError("url: must be a string");
  const text = expandEnv(value, env, "url");
  // The URL is never quoted back: a Slack-style URL is itself a token.
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebhookConfigError("url: not an absolute URL; write it as https://host/path");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new WebhookConfigError(`url: scheme ${url.protocol} is not http: or https:`);
  }
  return { url: new Secret(url.href), origin: url.origin };
}

function parseHeader(
  value: unknown,
  index: number,
  env: EnvLookup,
  unknown: string[],
): WebhookHeader {
  const where = `headers[${index}]`;
  if (!isRecord(value)) {
    throw new WebhookConfigError(`${where}: must be a mapping with name and value`);
  }
  const extra = unknownKeys(value, HEADER_KEYS);
  unknown.push(...extra.map((k) => `${where}.${k}`));
  const besides = unknownNote(extra);
  const { name, value: raw } = value;
  if (name === undefined) throw new WebhookConfigError(`${where}: has no name${besides}`);
  if (typeof name !== "string" || name === "") {
    throw new WebhookConfigError(`${where}.name: must be a non-empty string`);
  }
  if (!HEADER_NAME.test(name)) {
    throw new WebhookConfigError(
      `${where}.name: ${JSON.stringify(name)} is not a valid header name`,
    );
  }
  const named = `${where} (${name}).value`;
  if (raw === undefined) throw new WebhookConfigError(`${where} (${name}): has no value${besides}`);
  if (typeof raw !== "string") {
    throw new WebhookConfigError(`${named}: must be a string; quote it`);
  }
  const expanded = expandEnv(raw, env, named);
  // What fetch rejects (with the value in its message): NUL, CR, LF and non-Latin-1 characters.
  // deno-lint-ignore no-control-regex
  if (/[\0\r\n]|[^\u0000-\u00ff]/.test(expanded)) {
    throw new WebhookConfigError(
      `${named}: holds a line break, NUL or a character beyond Latin-1, which HTTP cannot carry`,
    );
  }
  return { name, value: new Secret(expanded.trim()) };
}

/**
 * Validates a parsed file: a mapping with `url` (http or https) and an optional list of
 * `{ name, value }` headers. `${NAME}` in the url or a header value is replaced by the
 * environment variable. Unknown keys are ignored, as upstream ignores them, and listed in
 * `unknownKeys` for the caller to warn about.
 * @throws {WebhookConfigError} naming the key at fault, never a header value or the URL.
 */
export function webhookConfigFrom(doc: unknown, env: EnvLookup): WebhookConfig {
  if (doc === null || doc === undefined) {
    throw new WebhookConfigError("is empty; expected url: https://... and optional headers");
  }
  if (!isRecord(doc)) {
    throw new WebhookConfigError("must be a mapping with url and optional headers");
  }
  const unknown = unknownKeys(doc, TOP_KEYS);
  const { url, origin } = parseUrl(doc.url, env, unknownNote(unknown));
  const headers = doc.headers ?? [];
  if (!Array.isArray(headers)) {
    throw new WebhookConfigError("headers: must be a list of {name, value}");
  }
  const parsed = headers.map((h, i) => parseHeader(h, i, env, unknown));
  return { url, origin, headers: parsed, unknownKeys: unknown };
}

/**
 * Parses the text of a webhook file.
 * @throws {WebhookConfigError} with the reason, free of secrets.
 */
export function parseWebhookConfig(
  text: string,
  env: EnvLookup,
  parse: YamlParseDocument,
): WebhookConfig {
  return webhookConfigFrom(parseYaml(text, parse), env);
}
