/**
 * End to end: oomhero watches a known process and a real Prometheus scrapes it. Skipped, with a
 * printed reason, when `prometheus` is not installed (apt-get install prometheus).
 */
import assert from "node:assert/strict";
import { freePort, oomheroArgv, ROOT } from "../../scripts/runtime_flags.ts";
import { waitFor } from "../support/live_oomhero.ts";
import { startNamed, stopNamed } from "../support/named_process.ts";

/** Bound of every wait here; Prometheus's first scrape comes within one 1 s interval. */
const TIMEOUT_MS = 60_000;

function prometheusVersion(): string | undefined {
  try {
    const out = new Deno.Command("prometheus", { args: ["--version"] }).outputSync();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return /version (\d+\.\d+\.\d+)/.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

const version = prometheusVersion();
if (version === undefined) {
  console.log("prometheus_e2e_test: skipped, prometheus is not installed");
}

/** oomhero's command and arguments, as `deno task start` runs it. */
function oomheroCommand(args: string[]): [string, string[]] {
  const [bin, ...rest] = oomheroArgv(args);
  return [bin, rest];
}

/** Spawns a command whose stdout and stderr go to `logPath`. */
async function spawnLogged(
  command: string,
  args: string[],
  logPath: string,
): Promise<{ child: Deno.ChildProcess; logged: Promise<void> }> {
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log = await Deno.open(logPath, { write: true, create: true, append: true });
  const out = child.stdout.pipeThrough(new TextDecoderStream());
  const err = child.stderr.pipeThrough(new TextDecoderStream());
  const write = async (stream: ReadableStream<string>) => {
    for await (const chunk of stream) await log.write(new TextEncoder().encode(chunk));
  };
  const logged = Promise.all([write(out), write(err)]).then(() => log.close());
  return { child, logged };
}

/** Stops a child: SIGTERM, then SIGKILL when it lingers. */
async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, 5_000);
  await child.status;
  clearTimeout(timer);
}

/** {@link waitFor} on a probe that fails until the server is up: a failure counts as not yet. */
function waitUp<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  describe: () => Promise<string>,
): Promise<T> {
  const patient = () => probe().catch(() => undefined);
  return waitFor(what, patient, { timeoutMs: TIMEOUT_MS, everyMs: 250, describe });
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(prometheus: string, promql: string): Promise<Sample[]> {
  const response = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = await response.json();
  assert.equal(body.status, "success", JSON.stringify(body));
  return body.data.result;
}

Deno.test({
  name: "Prometheus scrapes oomhero watching a known process",
  ignore: version === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "oomhero_e2e_" });
    const marker = `oomhero-e2e-target-${crypto.randomUUID().slice(0, 8)}`;
    const oomheroPort = freePort();
    const prometheusPort = freePort();
    const oomheroUrl = `http://127.0.0.1:${oomheroPort}`;
    const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    await Deno.writeTextFile(
      `${dir}/prometheus.yml`,
      [
        "global:",
        "  scrape_interval: 1s",
        "  scrape_timeout: 1s",
        "scrape_configs:",
        "  - job_name: oomhero",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${oomheroPort}"]`,
        "",
      ].join("\n"),
    );

    // argv[0] is the marker, so it is in both the command line and the first arg.
    const target = await startNamed(marker);
    const started: { child: Deno.ChildProcess; logged: Promise<void> }[] = [];
    const logs = async () => {
      const read = (name: string) => Deno.readTextFile(`${dir}/${name}`).catch(() => "");
      return `--- oomhero:\n${await read("oomhero.log")}\n--- prometheus:\n${await read(
        "prometheus.log",
      )}`;
    };
    try {
      started.push(
        await spawnLogged(
          ...oomheroCommand([
            "--warning",
            "memory_usage > 1000",
            "--critical",
            "memory_usage > 2000",
            "--loop-interval",
            "100ms",
            "--metrics-address",
            `127.0.0.1:${oomheroPort}`,
            "--include",
            marker,
          ]),
          `${dir}/oomhero.log`,
        ),
      );
      await waitUp("oomhero's /readyz", async () => {
        const response = await fetch(`${oomheroUrl}/readyz`);
        await response.body?.cancel();
        return response.ok ? true : undefined;
      }, logs);
      // The server's default clock must be the monitor's, or a fresh scan looks ages old.
      const health = await fetch(`${oomheroUrl}/healthz`);
      assert.deepEqual([health.status, await health.text()], [200, "ok\n"]);

      // Prometheus 2.x and 3.x take these flags alike.
      console.log(`prometheus ${version}`);
      started.push(
        await spawnLogged("prometheus", [
          `--config.file=${dir}/prometheus.yml`,
          `--storage.tsdb.path=${dir}/data`,
          `--web.listen-address=127.0.0.1:${prometheusPort}`,
          "--log.level=warn",
        ], `${dir}/prometheus.log`),
      );
      const describe = async () => {
        const targets = await fetch(`${prometheusUrl}/api/v1/targets`)
          .then((r) => r.text()).catch((e) => String(e));
        return `targets: ${targets}\n${await logs()}`;
      };

      const usage = await waitUp("memory_usage of the target in Prometheus", async () => {
        const result = await query(prometheusUrl, `memory_usage{pid="${target.pid}"}`);
        return result.length > 0 ? result : undefined;
      }, describe);
      assert.equal(usage.length, 1);
      assert.equal(usage[0].metric.cmdline, marker);
      assert.equal(usage[0].metric.job, "oomhero");
      const percent = Number(usage[0].value[1]);
      assert.ok(percent >= 0 && percent <= 100, `memory_usage ${percent}`);

      const scans = await waitUp("oomhero_scans_total in Prometheus", async () => {
        const result = await query(prometheusUrl, "oomhero_scans_total");
        return result.length > 0 ? result : undefined;
      }, describe);
      assert.ok(Number(scans[0].value[1]) > 0, `oomhero_scans_total ${scans[0].value[1]}`);

      const pressure = await query(prometheusUrl, `memory_pressure{pid="${target.pid}"}`);
      assert.equal(pressure.length, 8, "2 severities × 4 windows");
      const up = await query(prometheusUrl, 'up{job="oomhero"}');
      assert.equal(up[0]?.value[1], "1");
    } finally {
      for (const { child } of started.reverse()) await stop(child);
      await Promise.all(started.map(({ logged }) => logged));
      await stopNamed(target);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
