/**
 * Every oomhero command line that the documentation and the deployment examples show must be one
 * that oomhero accepts. This collects them from README.md and docs/ (fenced shell blocks), from
 * the Kubernetes examples (the `args` of containers named oomhero) and from the systemd unit's
 * ExecStart, and runs each through the real command-line parser. It also ties the Dockerfile and
 * the examples to the pinned Deno and to oomhero's version.
 * @module
 */
import assert from "node:assert/strict";
import denoJson from "../../../deno.json" with { type: "json" };
import { parseAllDocuments } from "yaml";
import { parseCommandLine } from "../../../src/cli/cli.ts";
import { UsageError } from "../../../src/base/usage_error.ts";
import { ROOT } from "../../support/oomhero_process.ts";
import { RUNTIME_ENV } from "../../../scripts/runtime_flags.ts";

/** An oomhero command line found in a file: its arguments after the program name. */
interface CommandLine {
  /** `file:line`. */
  where: string;
  args: string[];
}

const KUBERNETES_EXAMPLES = [
  "examples/kubernetes/sidecar.yaml",
  "examples/kubernetes/daemonset.yaml",
];
const SYSTEMD_EXAMPLE = "examples/systemd/oomhero.service";
const IMAGE = "ghcr.io/oomhero/oomhero";

/** Fence languages whose lines are shell commands. */
const SHELL_FENCES = new Set(["", "sh", "bash", "shell", "console", "zsh"]);

function read(path: string): string {
  return Deno.readTextFileSync(`${ROOT}${path}`);
}

/**
 * Splits a command into words as a POSIX shell would: quotes, backslashes, comments. With
 * `operators`, the command ends at the first unquoted pipe, list or redirection operator; systemd
 * takes those characters literally.
 */
function shellWords(text: string, operators = true): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  const end = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      end();
      i++;
    } else if (operators && c === "#" && word === undefined) {
      break;
    } else if (operators && "|;&<>".includes(c)) {
      // A redirection's file descriptor number (2>&1) is no argument.
      if ("<>".includes(c) && /^\d+$/.test(word ?? "")) word = undefined;
      break;
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) throw new Error(`unclosed ' in: ${text}`);
      word = (word ?? "") + text.slice(i + 1, close);
      i = close + 1;
    } else if (c === '"') {
      let j = i + 1;
      let quoted = "";
      while (j < text.length && text[j] !== '"') {
        if (text[j] === "\\" && '"\\$`'.includes(text[j + 1])) j++;
        quoted += text[j++];
      }
      if (j >= text.length) throw new Error(`unclosed " in: ${text}`);
      word = (word ?? "") + quoted;
      i = j + 1;
    } else if (c === "\\") {
      word = (word ?? "") + (text[i + 1] ?? "");
      i += 2;
    } else {
      word = (word ?? "") + c;
      i++;
    }
  }
  end();
  return words;
}

/**
 * oomhero's arguments if `words` run it: `oomhero`, `./oomhero` or any path ending in /oomhero,
 * or `deno task start` through any deno, after an optional `$ ` prompt, `sudo` and variables.
 */
function oomheroArguments(words: string[]): string[] | undefined {
  let rest = words;
  if (rest[0] === "$") rest = rest.slice(1);
  if (rest[0] === "sudo") rest = rest.slice(1);
  while (rest.length > 0 && /^[A-Za-z_]\w*=/.test(rest[0])) rest = rest.slice(1);
  const [program, ...args] = rest;
  if (program === undefined) return undefined;
  if (program === "oomhero" || program.endsWith("/oomhero")) return args;
  if ((program === "deno" || program.endsWith("/deno")) && args[0] === "task") {
    const task = args.slice(1).findIndex((a) => !a.startsWith("-")) + 1;
    if (task > 0 && args[task] === "start") return args.slice(task + 1);
  }
  return undefined;
}

/** The oomhero command lines in a Markdown file's shell code blocks. */
function markdownCommands(file: string, text: string): CommandLine[] {
  const found: CommandLine[] = [];
  const lines = text.split("\n");
  let fence: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const marker = lines[i].match(/^\s*(```+|~~~+)\s*([\w-]*)/);
    if (marker && fence === undefined) {
      fence = SHELL_FENCES.has(marker[2]) ? marker[1] : "";
      continue;
    }
    if (marker && fence !== undefined && lines[i].trim() === marker[1]) {
      fence = undefined;
      continue;
    }
    if (!fence) continue;
    const start = i;
    let command = lines[i];
    while (command.endsWith("\\") && i + 1 < lines.length) {
      command = command.slice(0, -1) + lines[++i];
    }
    const args = oomheroArguments(shellWords(command));
    if (args) found.push({ where: `${file}:${start + 1}`, args });
  }
  return found;
}

/** A value inside parsed YAML, or undefined where the path leads nowhere. */
function at(node: unknown, ...path: (string | number)[]): unknown {
  let here = node;
  for (const key of path) {
    if (here === null || typeof here !== "object") return undefined;
    here = (here as Record<string | number, unknown>)[key];
  }
  return here;
}

/** A container named oomhero in a manifest, with the pod it belongs to. */
interface OomheroContainer {
  /** `file: document N, kind/name`. */
  where: string;
  container: unknown;
  /** The pod's metadata and spec. */
  pod: { metadata: unknown; spec: unknown };
}

/** Every container named oomhero in the Pods and pod templates of a multi-document manifest. */
function oomheroContainers(file: string, text: string): OomheroContainer[] {
  return parseAllDocuments(text).flatMap((document, i) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0].message}`);
    const object = document.toJS() as unknown;
    const kind = at(object, "kind");
    const pod = kind === "Pod" ? { metadata: at(object, "metadata"), spec: at(object, "spec") } : {
      metadata: at(object, "spec", "template", "metadata"),
      spec: at(object, "spec", "template", "spec"),
    };
    const containers = [
      ...(at(pod.spec, "initContainers") as unknown[] | undefined ?? []),
      ...(at(pod.spec, "containers") as unknown[] | undefined ?? []),
    ];
    return containers.filter((c) => at(c, "name") === "oomhero").map((container) => ({
      where: `${file}: document ${i + 1}, ${kind}/${at(object, "metadata", "name")}`,
      container,
      pod,
    }));
  });
}

/** The `args` of every container named oomhero in a manifest. */
function kubernetesCommands(file: string, text: string): CommandLine[] {
  return oomheroContainers(file, text).map(({ where, container }) => {
    const args = at(container, "args") ?? [];
    assert.ok(Array.isArray(args) && args.every((a) => typeof a === "string"), `${where}: args`);
    return { where, args };
  });
}

/** The arguments of a systemd unit's ExecStart lines, after the program. */
function systemdCommands(file: string, text: string): CommandLine[] {
  const lines = text.split("\n");
  const found: CommandLine[] = [];
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i];
    while (line.endsWith("\\") && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i];
    const exec = line.match(/^ExecStart=[-@:+!]*(.*)$/);
    if (!exec) continue;
    // systemd quotes like a shell but has no operators, and writes a literal % as %%.
    const [, ...args] = shellWords(exec[1].replaceAll("%%", "%"), false);
    found.push({ where: `${file}:${start + 1}`, args });
  }
  return found;
}

/** The command lines oomhero rejects, each as `where: message`. */
function rejected(commands: CommandLine[]): string[] {
  return commands.flatMap(({ where, args }) => {
    try {
      parseCommandLine(args);
      return [];
    } catch (e) {
      if (e instanceof UsageError) return [`${where}: ${e.message} (args ${JSON.stringify(args)})`];
      throw e;
    }
  });
}

function docsFiles(): string[] {
  return [...Deno.readDirSync(`${ROOT}docs`)]
    .filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => `docs/${e.name}`)
    .sort();
}

function allCommands(): CommandLine[] {
  return [
    ...["README.md", ...docsFiles()].flatMap((f) => markdownCommands(f, read(f))),
    ...KUBERNETES_EXAMPLES.flatMap((f) => kubernetesCommands(f, read(f))),
    ...systemdCommands(SYSTEMD_EXAMPLE, read(SYSTEMD_EXAMPLE)),
  ];
}

Deno.test("docs: every oomhero command line in README.md and docs/ parses", () => {
  const readme = markdownCommands("README.md", read("README.md"));
  assert.ok(readme.length >= 4, `only ${readme.length} command lines found in README.md`);
  const docs = docsFiles().flatMap((f) => markdownCommands(f, read(f)));
  assert.ok(docs.length >= 1, "no command line found in docs/");
  assert.deepEqual(rejected([...readme, ...docs]), []);
});

Deno.test("docs: the oomhero args of every Kubernetes example parse", () => {
  for (const file of KUBERNETES_EXAMPLES) {
    const commands = kubernetesCommands(file, read(file));
    assert.equal(commands.length, 1, `${file}: expected one oomhero container`);
    assert.ok(commands[0].args.length >= 2, `${file}: no args read`);
    assert.deepEqual(rejected(commands), []);
  }
});

Deno.test("docs: the systemd unit's ExecStart parses and its Environment is the runtime's", () => {
  const unit = read(SYSTEMD_EXAMPLE);
  const commands = systemdCommands(SYSTEMD_EXAMPLE, unit);
  assert.equal(commands.length, 1);
  assert.ok(commands[0].args.length >= 2, "no arguments read from ExecStart");
  assert.deepEqual(rejected(commands), []);
  assert.deepEqual(
    unit.match(/^Environment=.*$/gm)?.map((l) => l.slice("Environment=".length)) ?? [],
    RUNTIME_ENV,
    "the unit's Environment= lines are scripts/runtime-env",
  );
});

Deno.test("docs: enough command lines are checked that the check means something", () => {
  const commands = allCommands();
  assert.ok(commands.length >= 10, `only ${commands.length} command lines found`);
});

Deno.test("docs: a broken command line in any of the three forms is caught", () => {
  const markdown = [
    "Run:",
    "",
    "```sh",
    'oomhero --warning "memory_usge > 75" --critical "memory_usage > 90"',
    "./scripts/deno task -q start inspect --format yaml",
    "./oomhero --loop-interval 100x \\",
    '  --warning "memory_usage > 75" --critical "memory_usage > 90"',
    "./scripts/deno task demo",
    "```",
    "",
    "```text",
    "oomhero --not-checked-in-a-text-block",
    "```",
  ].join("\n");
  const md = markdownCommands("x.md", markdown);
  assert.deepEqual(md.map((c) => c.where), ["x.md:4", "x.md:5", "x.md:6"]);
  const errors = rejected(md);
  assert.equal(errors.length, 3, errors.join("\n"));
  assert.match(errors[0], /--warning: invalid expression: unknown variable "memory_usge"/);
  assert.match(errors[1], /--format/);
  assert.match(errors[2], /--loop-interval/);

  const yaml = [
    "apiVersion: v1",
    "kind: Pod",
    "metadata: { name: p }",
    "spec:",
    "  containers:",
    "    - name: app",
    "      args: [--not-ours]",
    "    - name: oomhero",
    "      args:",
    '        - "--warning=memory_usage > 75"',
    "        - '--critical=memory_usage > 90'",
    "        - --cooldown-interval=soon",
  ].join("\n");
  const k8s = kubernetesCommands("x.yaml", yaml);
  assert.deepEqual(k8s, [{
    where: "x.yaml: document 1, Pod/p",
    args: [
      "--warning=memory_usage > 75",
      "--critical=memory_usage > 90",
      "--cooldown-interval=soon",
    ],
  }]);
  assert.match(rejected(k8s).join(), /--cooldown-interval/);

  const unit = '[Service]\nExecStart=/usr/bin/oomhero \\\n  "--warning=memory_usage > 75" \\\n' +
    "  --critical=memory_usage|\n";
  const systemd = systemdCommands("x.service", unit);
  assert.deepEqual(systemd[0].args, ["--warning=memory_usage > 75", "--critical=memory_usage|"]);
  assert.match(rejected(systemd).join(), /--critical/);
});

Deno.test("docs: the shell splitter handles quotes, escapes, comments and operators", () => {
  assert.deepEqual(
    shellWords(`oomhero --a "x > \\"1\\"" --b='y z' c\\ d # comment`),
    ["oomhero", "--a", 'x > "1"', "--b=y z", "c d"],
  );
  assert.deepEqual(shellWords("oomhero inspect --format json | jq . 2>&1"), [
    "oomhero",
    "inspect",
    "--format",
    "json",
  ]);
  assert.deepEqual(shellWords("oomhero inspect 2>/dev/null"), ["oomhero", "inspect"]);
  assert.deepEqual(shellWords("a|b;c", false), ["a|b;c"]);
  assert.throws(() => shellWords('oomhero "open'), /unclosed/);
});

Deno.test("docs: the Dockerfile builds with the pinned Deno and ships only the binary", () => {
  const dockerfile = read("Dockerfile");
  assert.equal(dockerfile.match(/^ARG DENO_VERSION=(\S+)$/m)?.[1], read(".deno-version").trim());
  assert.equal(dockerfile.match(/^ARG VERSION=(\S+)$/m)?.[1], denoJson.version);
  assert.match(dockerfile, /^FROM .*denoland\/deno:[a-z]+-\$\{DENO_VERSION\} AS build$/m);
  assert.match(dockerfile, /\.\/scripts\/compile /, "the image must compile with scripts/compile");
  const final = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
  assert.match(final, /^\nFROM gcr\.io\/distroless\/cc-debian12\n/);
  assert.deepEqual(final.match(/^COPY .*$/gm), ["COPY --from=build /out/oomhero /oomhero"]);
  assert.match(final, /^USER 0$/m);
  assert.match(final, /^EXPOSE 9000$/m);
  assert.match(final, /^ENTRYPOINT \["\/oomhero"\]$/m);
  assert.deepEqual(
    final.match(/^ENV .*$/gm)?.map((l) => l.slice("ENV ".length)) ?? [],
    RUNTIME_ENV,
    "the image's ENV lines are scripts/runtime-env",
  );
  for (const label of ["title", "description", "source", "licenses", "version"]) {
    assert.match(final, new RegExp(`org\\.opencontainers\\.image\\.${label}=`), label);
  }
});

Deno.test("docs: the Kubernetes examples run this version, hardened and observable", () => {
  for (const file of KUBERNETES_EXAMPLES) {
    for (const { where, container, pod } of oomheroContainers(file, read(file))) {
      assert.equal(at(container, "image"), `${IMAGE}:${denoJson.version}`, where);
      assert.equal(
        at(container, "command"),
        undefined,
        `${where}: command replaces the entrypoint`,
      );
      const security = at(container, "securityContext");
      assert.equal(at(security, "runAsUser"), 0, where);
      assert.equal(at(security, "allowPrivilegeEscalation"), false, where);
      assert.equal(at(security, "readOnlyRootFilesystem"), true, where);
      assert.deepEqual(at(security, "capabilities", "drop"), ["ALL"], where);
      assert.deepEqual(at(security, "capabilities", "add"), ["SYS_PTRACE", "KILL"], where);
      assert.equal(at(security, "seccompProfile", "type"), "RuntimeDefault", where);
      assert.deepEqual(at(container, "ports"), [{ name: "metrics", containerPort: 9000 }], where);
      assert.equal(at(container, "livenessProbe", "httpGet", "path"), "/healthz", where);
      assert.equal(at(container, "readinessProbe", "httpGet", "path"), "/readyz", where);
      assert.deepEqual(at(pod.metadata, "annotations"), {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "9000",
        "prometheus.io/path": "/metrics",
      }, where);
      assert.equal(at(pod.spec, "automountServiceAccountToken"), false, where);
      assert.ok(
        at(pod.spec, "shareProcessNamespace") === true || at(pod.spec, "hostPID") === true,
        `${where}: oomhero sees no other container's processes`,
      );
    }
  }
});

Deno.test("docs: the DaemonSet reads the node's cgroup tree where --cgroupfs points", () => {
  const [daemonset] = oomheroContainers(KUBERNETES_EXAMPLES[1], read(KUBERNETES_EXAMPLES[1]));
  const { container, pod } = daemonset;
  assert.ok((at(container, "args") as string[]).includes("--cgroupfs=/host/sys/fs/cgroup"));
  assert.deepEqual(at(container, "volumeMounts"), [
    { name: "host-cgroup", mountPath: "/host/sys/fs/cgroup", readOnly: true },
  ]);
  assert.deepEqual(at(pod.spec, "volumes"), [
    { name: "host-cgroup", hostPath: { path: "/sys/fs/cgroup", type: "Directory" } },
  ]);
});

Deno.test("docs: the NetworkPolicy example opens the metrics port of each example to Prometheus only", () => {
  const file = "examples/kubernetes/networkpolicy.yaml";
  const policies = parseAllDocuments(read(file)).map((d) => d.toJS() as unknown);
  for (const [i, example] of KUBERNETES_EXAMPLES.entries()) {
    const [{ pod }] = oomheroContainers(example, read(example));
    const labels = at(pod.metadata, "labels") as Record<string, string>;
    const policy = policies[i];
    assert.equal(at(policy, "kind"), "NetworkPolicy", `${file}: document ${i + 1}`);
    const selector = at(policy, "spec", "podSelector", "matchLabels") as Record<string, string>;
    for (const [key, value] of Object.entries(selector)) {
      assert.equal(labels[key], value, `${file}: document ${i + 1} selects ${example}'s pods`);
    }
    const rules = at(policy, "spec", "ingress") as unknown[];
    const metrics = rules.filter((r) =>
      (at(r, "ports") as unknown[]).some((p) => at(p, "port") === 9000)
    );
    assert.equal(metrics.length, 1, `${file}: document ${i + 1}: one rule for port 9000`);
    assert.equal(
      at(metrics[0], "from", 0, "podSelector", "matchLabels", "app.kubernetes.io/name"),
      "prometheus",
    );
    assert.equal((at(metrics[0], "ports") as unknown[]).length, 1, "port 9000 alone in it");
  }
});
