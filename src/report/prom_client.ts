/**
 * prom-client's registry, metric classes and the default metrics oomhero keeps, each loaded from
 * its own file, typed by the package's own declarations. The package's index loads all of it:
 * its Pushgateway (`node:http`, `https`, `zlib`, `url`) and every default metric (`node:fs`,
 * `node:perf_hooks`), 5–10 MiB of RSS under Deno for parts oomhero never runs
 * (BENCHMARKS.md). Import prom-client's values from here, its types from "prom-client" with
 * `import type` (erased, so the index never loads).
 * @module
 */
import type * as PromClient from "prom-client";
import CounterFile from "prom-client/lib/counter.js";
import GaugeFile from "prom-client/lib/gauge.js";
import HistogramFile from "prom-client/lib/histogram.js";
import RegistryFile from "prom-client/lib/registry.js";
import heapSizeAndUsedFile from "prom-client/lib/metrics/heapSizeAndUsed.js";
import heapSpacesSizeAndUsedFile from "prom-client/lib/metrics/heapSpacesSizeAndUsed.js";
import processCpuTotalFile from "prom-client/lib/metrics/processCpuTotal.js";
import processStartTimeFile from "prom-client/lib/metrics/processStartTime.js";

/** prom-client's `Registry`. */
export const Registry: typeof PromClient.Registry = RegistryFile;
/** prom-client's `Registry`. */
export type Registry = PromClient.Registry;
/** prom-client's `Gauge`. */
export const Gauge: typeof PromClient.Gauge = GaugeFile;
/** prom-client's `Gauge`. */
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
/** prom-client's `Counter`. */
export const Counter: typeof PromClient.Counter = CounterFile;
/** prom-client's `Counter`. */
export type Counter<T extends string = string> = PromClient.Counter<T>;
/** prom-client's `Histogram`. */
export const Histogram: typeof PromClient.Histogram = HistogramFile;
/** prom-client's `Histogram`. */
export type Histogram<T extends string = string> = PromClient.Histogram<T>;

/** The Prometheus text format's Content-Type, as prom-client's index exports it. */
export const prometheusContentType: PromClient.PrometheusContentType =
  Registry.PROMETHEUS_CONTENT_TYPE;
/** The OpenMetrics Content-Type, as prom-client's index exports it. */
export const openMetricsContentType: PromClient.OpenMetricsContentType =
  Registry.OPENMETRICS_CONTENT_TYPE;

/**
 * One of prom-client's default metrics (a `lib/metrics/` file): registers its metrics in
 * `registry`. The package declares no types for these files.
 */
export type DefaultMetric = (registry: Registry) => void;

/**
 * `process_cpu_user_seconds_total`, `process_cpu_system_seconds_total` and
 * `process_cpu_seconds_total`, from `process.cpuUsage()`.
 */
export const processCpuTotal: DefaultMetric = processCpuTotalFile;
/** `process_start_time_seconds`. */
export const processStartTime: DefaultMetric = processStartTimeFile;
/**
 * `nodejs_heap_size_total_bytes`, `nodejs_heap_size_used_bytes` and
 * `nodejs_external_memory_bytes`, from `process.memoryUsage()`.
 */
export const heapSizeAndUsed: DefaultMetric = heapSizeAndUsedFile;
/** `nodejs_heap_space_size_{total,used,available}_bytes` by V8 heap space. */
export const heapSpacesSizeAndUsed: DefaultMetric = heapSpacesSizeAndUsedFile;
