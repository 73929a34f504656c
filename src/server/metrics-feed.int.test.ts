import { type IncomingMessage, get } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { MetricSample } from "../observability/index.js";
import { type TestServer, startTestServer } from "./test-support/test-server.js";

// `GET /metrics/stream`: server-sent events, one `data: {json}` frame per interval with every
// Sluice metric and the time it was taken; the stream ends when the server shuts down.
const INTERVAL_MS = 150;

interface Frame {
  readonly time: number;
  readonly metrics: MetricSample[];
}

let sluice: TestServer | undefined;
afterEach(async () => {
  await sluice?.close();
  sluice = undefined;
});

/** Opens the feed and parses its frames as they arrive; `ended` resolves when the server ends it. */
async function openFeed(url: string): Promise<{
  response: IncomingMessage;
  frames: Frame[];
  raw: string[];
  ended: Promise<void>;
}> {
  const response = await new Promise<IncomingMessage>((resolve, reject) =>
    get(`${url}/metrics/stream`, resolve).once("error", reject),
  );
  const frames: Frame[] = [];
  const raw: string[] = [];
  let buffered = "";
  response.setEncoding("utf8");
  response.on("data", (chunk: string) => {
    buffered += chunk;
    let end: number;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      raw.push(event);
      if (event.startsWith("data: ")) frames.push(JSON.parse(event.slice(6)) as Frame);
    }
  });
  const ended = new Promise<void>((resolve, reject) => {
    response.once("end", resolve);
    response.once("error", reject);
  });
  return { response, frames, raw, ended };
}

const until = async (condition: () => boolean, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("GET /metrics/stream (server-sent events)", () => {
  it("sends data: {json} frames with the metrics and their time, one per metricsFeedIntervalMs", async () => {
    sluice = await startTestServer({ metricsFeedIntervalMs: INTERVAL_MS });
    const { QueueUrl } = await sluice.queues.createQueue({ QueueName: "fed" });
    await sluice.queues.sendMessage({ QueueUrl, MessageBody: "counted" });
    const before = Date.now();
    const { response, frames, raw } = await openFeed(sluice.url);
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("text/event-stream");
    expect(response.headers["cache-control"]).toBe("no-cache");

    await until(() => frames.length >= 6);
    // Every event is exactly one `data:` line of JSON (no other fields, no multi-line data).
    for (const event of raw.slice(0, 6)) expect(event).toMatch(/^data: \{[^\n]*\}$/);
    const times = frames.slice(0, 6).map((f) => f.time);
    expect(times[0]).toBeGreaterThanOrEqual(before);
    expect(times[5]).toBeLessThanOrEqual(Date.now());
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // A timer never fires early; a loaded machine may make one late, but not the typical one.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(INTERVAL_MS - 2);
    const median = [...gaps].sort((a, b) => a - b)[2]!;
    expect(median).toBeLessThan(INTERVAL_MS * 3);

    // The metrics are the registry's samples, the queue's counter among them.
    const sent = frames[0]!.metrics.find(
      (m) => m.name === "sluice_queue_messages_sent_total" && m.labels.queue === "fed",
    );
    expect(sent).toMatchObject({ kind: "counter", value: 1 });
    // And they are live: a message sent now shows in a later frame.
    await sluice.queues.sendMessage({ QueueUrl, MessageBody: "counted too" });
    const seen = frames.length;
    await until(() =>
      frames
        .slice(seen)
        .some((f) =>
          f.metrics.some(
            (m) =>
              m.name === "sluice_queue_messages_sent_total" &&
              m.labels.queue === "fed" &&
              m.kind === "counter" &&
              m.value === 2,
          ),
        ),
    );
    response.destroy();
  });

  it("ends the stream when the server shuts down, and the shutdown does not wait for the reader", async () => {
    const server = (sluice = await startTestServer({ metricsFeedIntervalMs: INTERVAL_MS }));
    const { response, frames, ended } = await openFeed(server.url);
    await until(() => frames.length >= 2);
    const started = Date.now();
    // A feed left open would hold close() until the client went away.
    const outcome = await Promise.race([
      Promise.all([server.server.close(), ended]).then(() => "ended"),
      new Promise((r) => setTimeout(r, 5_000, "still open")),
    ]);
    // Left open, the client lets go, so that the failure is reported and the server can close.
    if (outcome !== "ended") response.destroy();
    expect(outcome).toBe("ended");
    expect(Date.now() - started).toBeLessThan(5_000);
    const count = frames.length;
    await new Promise((r) => setTimeout(r, INTERVAL_MS * 3));
    expect(frames.length).toBe(count);
  });
});
