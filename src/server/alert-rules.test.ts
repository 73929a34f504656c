import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type Sluice, open } from "../sluice/index.js";
import { SluiceServer } from "./server.js";

// The rules in docs/ are checked by parsing them and matching every metric and label they use
// against what /metrics really exposes after each primitive has done some work; promtool's own
// check of their syntax is promtool-rules.int.test.ts (`.ci/run` unpacks Debian's promtool).
const RULES = fileURLToPath(new URL("../../docs/prometheus-alerts.yml", import.meta.url));

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

const PROMQL_WORDS = new Set([
  "and",
  "or",
  "unless",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "offset",
  "inf",
  "nan",
]);

/** The metric names a PromQL expression reads (functions, keywords, labels and strings removed). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, "")
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = match[0];
    const after = stripped.slice(match.index + word.length).trimStart();
    if (after.startsWith("(") || PROMQL_WORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names];
}

/** Label names an expression relies on: in `{...}` matchers and `by (...)` groupings. */
export function labelNames(expr: string): string[] {
  const out = new Set<string>();
  for (const [, body] of expr.matchAll(/\{([^}]*)\}/g))
    for (const [, name] of body!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g))
      out.add(name!);
  for (const [, list] of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g))
    for (const name of list!.split(",").map((l) => l.trim())) if (name !== "") out.add(name);
  return [...out];
}

/** Series in a text exposition: metric name -> label names seen on it. */
function seriesOf(exposition: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of exposition.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{([^}]*)\})?\s/.exec(line);
    if (match === null) continue;
    const labels = out.get(match[1]!) ?? new Set<string>();
    for (const [, name] of (match[2] ?? "").matchAll(/([A-Za-z_][A-Za-z0-9_]*)="/g))
      labels.add(name!);
    out.set(match[1]!, labels);
  }
  return out;
}

let dir: string;
let sluice: Sluice;
let server: SluiceServer;
let exposition: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-alerts-"));
  sluice = await open(dir, { fsync: "always" });
  server = await SluiceServer.create(sluice, { publicUrl: "http://localhost:8080" });
  await server.app.ready();

  // Queues: a message waiting, and one dead-lettered after one receive too many.
  const q = sluice.queues;
  const dlq = await q.createQueue({ QueueName: "jobs-dlq" });
  const dlqArn = (
    await q.getQueueAttributes({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] })
  ).Attributes.QueueArn!;
  const { QueueUrl } = await q.createQueue({
    QueueName: "jobs",
    Attributes: {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }),
    },
  });
  await q.sendMessage({ QueueUrl, MessageBody: "fails" });
  await q.receiveMessage({ QueueUrl, VisibilityTimeout: 0 });
  await q.receiveMessage({ QueueUrl });
  await q.sendMessage({ QueueUrl, MessageBody: "waits" });
  const drained = await q.createQueue({ QueueName: "drained" });
  await q.sendMessage({ QueueUrl: drained.QueueUrl, MessageBody: "done" });
  const [done] = (await q.receiveMessage({ QueueUrl: drained.QueueUrl })).Messages;
  await q.deleteMessage({ QueueUrl: drained.QueueUrl, ReceiptHandle: done!.ReceiptHandle });

  // Topics: a group that committed 3 of 10 records.
  await sluice.topics.admin.createTopic({ name: "clicks", partitions: 1 });
  const producer = sluice.topics.producer();
  await producer.sendBatch(
    Array.from({ length: 10 }, (_, i) => ({ topic: "clicks", value: `${i}` })),
  );
  await producer.close();
  const consumer = sluice.topics.consumer({ groupId: "reporting" });
  await consumer.commitSync([{ topic: "clicks", partition: 0, offset: 3 }]);
  await consumer.close();

  // Pub/sub: a subscription, so its delivery metrics exist.
  const { TopicArn } = await sluice.pubsub.createTopic({ Name: "news" });
  await sluice.pubsub.subscribe({ TopicArn, Protocol: "sqs", Endpoint: dlqArn });

  await server.app.inject({ method: "GET", url: "/healthz" });
  const response = await server.app.inject({ method: "GET", url: "/metrics" });
  exposition = response.body;
});

afterAll(async () => {
  await server?.close();
  await sluice?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("example alert rules in docs/prometheus-alerts.yml", () => {
  const file = parse(readFileSync(RULES, "utf8")) as { groups: { name: string; rules: Rule[] }[] };
  const rules = file.groups.flatMap((g) => g.rules);

  it("are a Prometheus rule file: named groups of alerts with an expression, labels and a summary", () => {
    expect(file.groups.length).toBeGreaterThan(0);
    for (const group of file.groups) expect(group.name).toMatch(/^[a-z-]+$/);
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(typeof rule.expr).toBe("string");
      expect(rule.labels?.severity).toMatch(/^(warning|critical)$/);
      expect(rule.annotations?.summary).toBeTruthy();
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
      // Balanced brackets: a typo here would make Prometheus refuse the whole file.
      for (const [a, b] of [
        ["(", ")"],
        ["{", "}"],
        ["[", "]"],
      ] as const)
        expect(rule.expr.split(a).length, `${rule.alert}: ${a}${b}`).toBe(
          rule.expr.split(b).length,
        );
    }
  });

  it("cover queue depth, age of oldest message, DLQ arrivals, consumer lag and fsync latency", () => {
    const used = new Set(rules.flatMap((r) => metricNames(r.expr)));
    for (const name of [
      "sluice_queue_messages_visible",
      "sluice_queue_oldest_message_timestamp_seconds",
      "sluice_queue_messages_dead_lettered_total",
      "sluice_consumer_group_lag",
      "sluice_log_fsync_seconds",
    ])
      expect(used, name).toContain(name);
  });

  it("use only metrics and labels that /metrics exposes", () => {
    const series = seriesOf(exposition);
    for (const rule of rules) {
      const names = metricNames(rule.expr);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      const labels = new Set<string>();
      for (const name of names) {
        expect(series.has(name), `${rule.alert} uses ${name}, which /metrics does not expose`).toBe(
          true,
        );
        for (const label of series.get(name) ?? []) labels.add(label);
      }
      for (const label of labelNames(rule.expr))
        expect(labels.has(label), `${rule.alert} uses label ${label}`).toBe(true);
    }
  });
});

describe("the gauges the rules rely on", () => {
  const value = (pattern: RegExp): number => {
    const line = exposition.split("\n").find((l) => pattern.test(l));
    if (line === undefined) throw new Error(`no series matches ${pattern}`);
    return Number(line.slice(line.lastIndexOf(" ") + 1));
  };

  it("consumer lag is the log end minus the committed offset", () => {
    expect(
      value(/^sluice_consumer_group_lag\{group="reporting",topic="clicks",partition="0"\} /),
    ).toBe(7);
  });

  it("the oldest message's send time is recent while one waits, and 0 for an empty queue", () => {
    const sentAt = value(/^sluice_queue_oldest_message_timestamp_seconds\{queue="jobs"\} /);
    expect(Math.abs(Date.now() / 1000 - sentAt)).toBeLessThan(600);
    const dlq = value(/^sluice_queue_oldest_message_timestamp_seconds\{queue="jobs-dlq"\} /);
    expect(dlq).toBeGreaterThan(0); // the dead-lettered message waits there
    expect(value(/^sluice_queue_oldest_message_timestamp_seconds\{queue="drained"\} /)).toBe(0);
    expect(value(/^sluice_queue_messages_dead_lettered_total\{queue="jobs"\} /)).toBe(1);
  });

  it("the metric name parser finds names and skips functions, keywords and labels", () => {
    expect(
      metricNames(
        'sum by (group) (rate(a_total{x="b c"}[5m])) / on (job) b_seconds{quantile="0.99"} > 1 and c',
      ).sort(),
    ).toEqual(["a_total", "b_seconds", "c"]);
    expect(labelNames('sum by (group, topic) (x{status_code=~"5..", le!="1"})').sort()).toEqual([
      "group",
      "le",
      "status_code",
      "topic",
    ]);
  });
});
