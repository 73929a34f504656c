import type { Counter, Gauge, MetricsRegistry } from "../observability/index.js";

/** Options every policy accepts for observability. */
export interface ObservedOptions {
  /** Registry to publish this policy's counters and gauges to; none by default. */
  readonly metrics?: MetricsRegistry;
  /** The `policy` label on this policy's metrics. Default: the policy kind. */
  readonly name?: string;
}

/** @internal Hands out metrics labelled with the policy's name, or nothing without a registry. */
export class PolicyMetrics {
  constructor(
    private readonly registry: MetricsRegistry | undefined,
    readonly name: string,
  ) {}

  counter(
    metric: string,
    help: string,
    labels: Readonly<Record<string, string>> = {},
  ): Counter | undefined {
    return this.registry?.counter(metric, help, { policy: this.name, ...labels });
  }

  gauge(
    metric: string,
    help: string,
    labels: Readonly<Record<string, string>> = {},
  ): Gauge | undefined {
    return this.registry?.gauge(metric, help, { policy: this.name, ...labels });
  }
}
