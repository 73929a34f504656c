import { LatencyHistogram, type LatencySummary } from "./latency-histogram.js";

export type Labels = Readonly<Record<string, string>>;

/** A monotonically increasing count (appends, bytes, fsyncs). */
export class Counter {
  private current = 0;
  inc(by = 1): void {
    this.current += by;
  }
  get value(): number {
    return this.current;
  }
}

/** A value that goes up and down (queue depth, lag, breaker state). */
export class Gauge {
  private current = 0;
  set(value: number): void {
    this.current = value;
  }
  inc(by = 1): void {
    this.current += by;
  }
  dec(by = 1): void {
    this.current -= by;
  }
  get value(): number {
    return this.current;
  }
}

export type MetricSample =
  | {
      readonly kind: "counter" | "gauge";
      readonly name: string;
      readonly help: string;
      readonly labels: Labels;
      readonly value: number;
    }
  | {
      readonly kind: "histogram";
      readonly name: string;
      readonly help: string;
      readonly labels: Labels;
      readonly summary: LatencySummary;
    };

type Metric = Counter | Gauge | LatencyHistogram;

interface Registered {
  readonly kind: MetricSample["kind"];
  readonly name: string;
  readonly help: string;
  readonly labels: Labels;
  readonly metric: Metric;
}

/**
 * Names metrics and hands out one instance per (name, labels). Components take a registry in
 * their options; the server exports `collect()` as Prometheus text later.
 */
export class MetricsRegistry {
  private readonly metrics = new Map<string, Registered>();
  private readonly refreshers = new Set<() => void>();

  /**
   * Runs `refresh` before every `collect()`, for gauges computed from state rather than kept
   * current (consumer lag moves with every produce); returns the function that removes it.
   */
  onCollect(refresh: () => void): () => void {
    this.refreshers.add(refresh);
    return () => this.refreshers.delete(refresh);
  }

  counter(name: string, help: string, labels: Labels = {}): Counter {
    return this.get("counter", name, help, labels, () => new Counter()) as Counter;
  }

  gauge(name: string, help: string, labels: Labels = {}): Gauge {
    return this.get("gauge", name, help, labels, () => new Gauge()) as Gauge;
  }

  histogram(name: string, help: string, labels: Labels = {}): LatencyHistogram {
    return this.get(
      "histogram",
      name,
      help,
      labels,
      () => new LatencyHistogram(),
    ) as LatencyHistogram;
  }

  /** The values of gauge `name`, one per label set (cheap: no refresh, no histogram). */
  gaugeValues(name: string): { readonly labels: Labels; readonly value: number }[] {
    const values: { labels: Labels; value: number }[] = [];
    for (const m of this.metrics.values())
      if (m.kind === "gauge" && m.name === name)
        values.push({ labels: m.labels, value: (m.metric as Gauge).value });
    return values;
  }

  /** A point-in-time copy of every metric. */
  collect(): MetricSample[] {
    for (const refresh of this.refreshers) refresh();
    return [...this.metrics.values()].map(({ kind, name, help, labels, metric }) =>
      kind === "histogram"
        ? { kind, name, help, labels, summary: (metric as LatencyHistogram).summary() }
        : { kind, name, help, labels, value: (metric as Counter | Gauge).value },
    );
  }

  private get(
    kind: Registered["kind"],
    name: string,
    help: string,
    labels: Labels,
    make: () => Metric,
  ): Metric {
    const key = `${name}{${Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(",")}}`;
    const existing = this.metrics.get(key);
    if (existing !== undefined) {
      if (existing.kind !== kind)
        throw new Error(`metric ${name} already registered as a ${existing.kind}`);
      return existing.metric;
    }
    const metric = make();
    this.metrics.set(key, { kind, name, help, labels, metric });
    return metric;
  }
}
