/**
 * oomhero's entry point: parse the command line, then monitor or inspect.
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };
import { type InspectConfig, type MonitorConfig, parseCommandLine } from "./cli/cli.ts";
import { Collector } from "./collect/collector.ts";
import { inspect } from "./scan/inspect.ts";
import { processKey } from "./collect/sample.ts";
import { Logger } from "./base/log.ts";
import type { Metrics } from "./report/metrics.ts";
import { Monitor } from "./scan/monitor.ts";
import { checkOwnLimit } from "./report/own_limit.ts";
import { keptFilesBudget, knownOpenFilesLimit } from "./report/fd_budget.ts";
import { type MetricsServer, startMetricsServer } from "./report/server.ts";
import { UNCATCHABLE_SIGNALS } from "./act/signals.ts";
import { UsageError } from "./base/usage_error.ts";
import { loadWebhookConfig, WebhookNotifier } from "./act/webhook.ts";

/** oomhero's version, from deno.json. */
export const VERSION: string = denoJson.version;

/**
 * Signals whose default action would end oomhero: a stray SIGUSR1/SIGUSR2 from a second oomhero or
 * a `kill -USR1 -1`, or a SIGHUP from a closing terminal. oomhero has nothing to reload, so it logs
 * them and carries on.
 */
const IGNORED_SIGNALS: readonly Deno.Signal[] = ["SIGUSR1", "SIGUSR2", "SIGHUP"];

async function runMonitor(config: MonitorConfig): Promise<number> {
  // Before anything is logged, so that a bad webhook file is the one line printed.
  const webhookConfig = config.webhookFile === undefined
    ? undefined
    : await loadWebhookConfig(config.webhookFile, (name) => Deno.env.get(name));
  const webhook = webhookConfig &&
    new WebhookNotifier(webhookConfig, { userAgent: `oomhero/${VERSION}` });
  const log = new Logger(config.logLevel, config.logFormat);
  for (const key of webhookConfig?.unknownKeys ?? []) {
    // Upstream ignores them: its files load, and a misspelt key still shows.
    log.warn("unknown key in the webhook file, ignored", {
      key,
      file: config.webhookFile,
      expected: key.startsWith("headers[") ? "name, value" : "url, headers",
    });
  }
  for (
    const [flag, signal] of [
      ["--warning-signal", config.warningSignal],
      ["--critical-signal", config.criticalSignal],
    ] as const
  ) {
    if (UNCATCHABLE_SIGNALS.includes(signal)) {
      log.warn(
        `${flag} is ${signal}: the application cannot handle it, it will not get a chance to react`,
      );
    }
  }
  if (config.sendUnhandled) {
    log.warn("--signal-unhandled: signals go even to processes that do not handle them", {
      effect: "a process without a handler for a signal is ended by it",
    });
  }
  const collector = new Collector({
    procfs: config.procfs,
    cgroupfs: config.cgroupfs,
    log,
    keptFiles: keptFilesBudget(knownOpenFilesLimit()),
  });
  // prom-client, a CommonJS package, brings Deno's Node compatibility layer with it (serving
  // metrics costs 5.4 MiB of RSS, BENCHMARKS.md): loaded only when metrics are served.
  const metrics: Metrics | undefined = config.metricsAddress === undefined
    ? undefined
    : new (await import("./report/metrics.ts")).Metrics({
      version: VERSION,
      cmdlineLabel: config.cmdlineLabel,
    });
  metrics?.setMemoryLimit(checkOwnLimit(collector.collect(Deno.pid), log));
  const ancestors = new Set(collector.ancestors().map((a) => processKey(a.pid, a.startTime)));
  const monitor = new Monitor(config, {
    source: collector,
    log,
    observer: metrics,
    webhook,
    ancestors,
  });
  // What scans leave out for the metrics is read when a scrape comes.
  metrics?.beforeScrape(() => monitor.refresh());
  const stop = new AbortController();
  let server: MetricsServer | undefined;
  if (config.metricsAddress && metrics) {
    server = startMetricsServer(config.metricsAddress, metrics, {
      lastScanEndMs: () => monitor.lastScanEnd(),
      notReadyReason: () => monitor.notReadyReason(),
      loopIntervalMs: config.loopIntervalMs,
    }, log);
  }
  const onSignal = (name: string) => () => {
    log.info("shutting down", { signal: name });
    stop.abort();
  };
  const onTerm = onSignal("SIGTERM");
  const onInt = onSignal("SIGINT");
  Deno.addSignalListener("SIGTERM", onTerm);
  Deno.addSignalListener("SIGINT", onInt);
  const onStray = IGNORED_SIGNALS.map((name) =>
    [name, () => log.info("ignoring signal", { signal: name })] as const
  );
  for (const [name, listener] of onStray) Deno.addSignalListener(name, listener);
  const signalsSent = webhook === undefined || config.signalToo;
  log.info("oomhero started", {
    version: VERSION,
    warning: config.warning.source,
    critical: config.critical.source,
    loop_interval_ms: config.loopIntervalMs,
    cooldown_ms: config.cooldownMs,
    trend_window_ms: config.trendWindowMs,
    dry_run: config.dryRun,
    metrics_port: server?.port,
    // "none": the webhook replaces signals (no --signal-too).
    warning_signal: signalsSent ? config.warningSignal : "none",
    critical_signal: signalsSent ? config.criticalSignal : "none",
    // The origin and header names only: the path, query and values may hold tokens.
    webhook: webhook?.origin,
    webhook_headers: webhook?.headerNames.join(","),
  });
  await monitor.run(stop.signal);
  // Lets the last alerts out; each POST ends within its timeout.
  await webhook?.settled();
  await server?.close();
  Deno.removeSignalListener("SIGTERM", onTerm);
  Deno.removeSignalListener("SIGINT", onInt);
  for (const [name, listener] of onStray) Deno.removeSignalListener(name, listener);
  return 0;
}

async function runInspect(config: InspectConfig): Promise<number> {
  const log = new Logger(config.logLevel, config.logFormat);
  console.log(await inspect(config, log));
  return 0;
}

/** Runs oomhero with `args` and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    const command = parseCommandLine(args);
    switch (command.kind) {
      case "help":
        console.log(command.text);
        return 0;
      case "version":
        console.log(`oomhero ${VERSION} (deno ${Deno.version.deno})`);
        return 0;
      case "inspect":
        return await runInspect(command.config);
      case "monitor":
        return await runMonitor(command.config);
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(e.message);
    return 2;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
