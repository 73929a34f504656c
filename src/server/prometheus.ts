import type { FastifyInstance } from "fastify";
import { Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { MetricSample, MetricsRegistry } from "../observability/index.js";

/**
 * Prometheus exposition: the process and HTTP metrics of prom-client plus every metric of the
 * Sluice registry (engine, queues, ...), latency histograms as summaries in seconds.
 */
export class PrometheusExporter {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<"method" | "route" | "status_code">;

  constructor(private readonly sluice: MetricsRegistry | undefined) {
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: "sluice_http_request_duration_seconds",
      help: "HTTP requests by route, from arrival to the last byte of the answer",
      labelNames: ["method", "route", "status_code"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25],
      registers: [this.registry],
    });
  }

  /** Times every request by its route pattern (never its raw URL: labels stay bounded). */
  instrument(app: FastifyInstance): void {
    app.addHook("onResponse", (request, reply, done) => {
      this.httpDuration.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? "unmatched",
          status_code: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
      done();
    });
  }

  /** The text exposition format (version 0.0.4). */
  async text(): Promise<string> {
    return (await this.registry.metrics()) + renderSamples(this.sluice?.collect() ?? []);
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Sluice registry samples in Prometheus text format, one HELP/TYPE block per name. */
export function renderSamples(samples: readonly MetricSample[]): string {
  const byName = new Map<string, MetricSample[]>();
  for (const sample of samples) {
    const name = sample.kind === "histogram" ? secondsName(sample.name) : sample.name;
    const group = byName.get(name);
    if (group === undefined) byName.set(name, [sample]);
    else group.push(sample);
  }
  let out = "";
  for (const [name, group] of byName) {
    const first = group[0]!;
    out += `# HELP ${name} ${escapeHelp(first.help)}\n# TYPE ${name} ${first.kind === "histogram" ? "summary" : first.kind}\n`;
    for (const sample of group) {
      if (sample.kind !== "histogram") {
        out += `${name}${labelText(sample.labels)} ${sample.value}\n`;
        continue;
      }
      const s = sample.summary;
      for (const [q, ms] of [
        ["0.5", s.p50Ms],
        ["0.95", s.p95Ms],
        ["0.99", s.p99Ms],
        ["0.999", s.p999Ms],
      ] as const)
        out += `${name}${labelText({ ...sample.labels, quantile: q })} ${ms / 1000}\n`;
      out += `${name}_sum${labelText(sample.labels)} ${(s.meanMs * s.count) / 1000}\n`;
      out += `${name}_count${labelText(sample.labels)} ${s.count}\n`;
    }
  }
  return out;
}

/** `sluice_log_fsync_ms` becomes `sluice_log_fsync_seconds`: Prometheus measures in seconds. */
function secondsName(name: string): string {
  return name.endsWith("_ms") ? `${name.slice(0, -3)}_seconds` : name;
}

function labelText(labels: Readonly<Record<string, string>>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`))}"`).join(",")}}`;
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}
