/**
 * A per-process metric family that prom-client's registry renders like any gauge, but whose
 * series are built from the caller's own compact storage when a scrape reads them: nothing is
 * kept per series between scrapes (a prom-client Gauge keeps a label object and a hashed label
 * string per series, ~175 B, 31 series per watched process).
 * @module
 */
import type { MetricObjectWithValues, MetricValue, MetricValueWithName } from "prom-client";
import { Gauge, type Registry } from "./prom_client.ts";

/** One series of a family: its labels and value. */
export interface FamilySeries {
  /** Label names to values, in the order they are rendered. */
  labels: Readonly<Record<string, string>>;
  /** The value; the family leaves unreadable figures out rather than render NaN. */
  value: number;
}

/** The labels of a preformatted {@link FamilyLine}: none for the registry to format. */
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * One series as the text exposition shows it, its name and labels formatted by the caller
 * (`name{a="x",b="y"}`, values escaped as prom-client does): the registry then writes
 * `metricName value` and formats no labels (it would escape and join each series' labels and
 * cache an empty object per series; 31 series per process make that most of a scrape).
 */
export interface FamilyLine {
  metricName: string;
  value: number;
  labels: Readonly<Record<string, string>>;
  sharedLabels: Readonly<Record<string, string>>;
}

/** A {@link FamilyLine} of `metricName` (labels included) and `value`. */
export function familyLine(metricName: string, value: number): FamilyLine {
  return { metricName, value, labels: NO_LABELS, sharedLabels: NO_LABELS };
}

/**
 * A label value escaped for the text exposition, as prom-client escapes it: backslash, newline
 * and double quote.
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** How a family's series are built when scraped: as labelled values, or as preformatted lines. */
export interface FamilySource {
  /** For `getMetricsAsJSON`. */
  series(): FamilySeries[];
  /**
   * For the text exposition: the registry only iterates them, so a generator may hand out one
   * line at a time (and the same object each time), never a scrape's worth at once.
   */
  lines(): Iterable<FamilyLine>;
}

/**
 * A gauge family, registered in `registry`, whose series `source` builds when a scrape reads it.
 * A Gauge underneath only for prom-client's types and registry; its own series stay empty.
 */
export class ProcessFamily extends Gauge<string> {
  readonly #source: FamilySource;

  constructor(registry: Registry, name: string, help: string, source: FamilySource) {
    super({ name, help, registers: [registry] });
    this.#source = source;
  }

  /** The family as `getMetricsAsJSON` reads it, built now. */
  override async get(): Promise<MetricObjectWithValues<MetricValue<string>>> {
    // The empty gauge's own answer gives name, help and type (a const enum prom-client's
    // types declare and its code lacks).
    return { ...await super.get(), values: this.#source.series() };
  }

  /** The family as the text exposition renders it (the registry asks this first), built now. */
  async getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    // An iterable where prom-client's types say array: its registry reads values with for…of.
    const values = this.#source.lines() as unknown as MetricValueWithName<string>[];
    return { ...await super.get(), values };
  }
}
