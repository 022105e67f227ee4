/**
 * The README's signal-handler examples, run for real: oomhero signals each one and the handler
 * reports what it shed.
 */
import assert from "node:assert/strict";
import { lines } from "../../demo/scenario.ts";
import { python } from "../support/named_process.ts";
import { ROOT, spawnOomhero } from "../support/oomhero_process.ts";

interface Runtime {
  name: string;
  argv: string[];
  signals: [string, string];
}

const RUNTIMES: Runtime[] = [
  {
    name: "Python",
    argv: [python(), `${ROOT}examples/handlers/handler.py`],
    signals: ["SIGUSR1", "SIGUSR2"],
  },
  // Node.js keeps SIGUSR1 for its inspector.
  {
    name: "Node.js",
    argv: ["node", `${ROOT}examples/handlers/handler.js`],
    signals: ["SIGUSR2", "SIGHUP"],
  },
];

/** Waits for the next line of `it` that matches, failing after `ms`. */
async function nextLine(it: AsyncIterator<string>, match: RegExp, ms = 20_000): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no line matching ${match} within ${ms} ms`)), ms);
  });
  try {
    for (;;) {
      const r = await Promise.race([it.next(), timeout]);
      if (r.done) throw new Error(`output ended before a line matching ${match}`);
      if (match.test(r.value)) return r.value;
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Runs oomhero with one expression always true, until the handler prints `expect`. */
async function signalOnce(
  runtime: Runtime,
  handler: AsyncIterator<string>,
  critical: boolean,
  expect: RegExp,
) {
  const oomhero = spawnOomhero([
    `--warning=${critical ? "0" : "1"}`,
    `--critical=${critical ? "1" : "0"}`,
    `--warning-signal=${runtime.signals[0]}`,
    `--critical-signal=${runtime.signals[1]}`,
    `--include=examples/handlers/handler`,
    "--metrics-address=",
  ]);
  try {
    return await nextLine(handler, expect);
  } finally {
    oomhero.kill("SIGTERM");
    await oomhero.status;
    await oomhero.stdout.cancel();
    await oomhero.stderr.cancel();
  }
}

for (const runtime of RUNTIMES) {
  Deno.test(`the ${runtime.name} handler example sheds memory on oomhero's signals`, async () => {
    const [cmd, ...args] = runtime.argv;
    const handler = new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    })
      .spawn();
    const out = lines(handler.stdout)[Symbol.asyncIterator]();
    try {
      await nextLine(out, /^ready$/);
      assert.equal(
        await signalOnce(runtime, out, false, /^warning:/),
        "warning: cache trimmed to 500 entries",
      );
      assert.equal(await signalOnce(runtime, out, true, /^critical:/), "critical: cache cleared");
    } finally {
      handler.kill("SIGKILL");
      await handler.status;
      await out.return?.(undefined);
    }
  });
}
