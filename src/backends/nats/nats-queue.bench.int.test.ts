import { afterAll, beforeAll, expect, it } from "vitest";
import { runNatsQueueBench } from "./nats-queue.bench.js";
import type { LoopbackNatsCluster } from "./loopback-nats-cluster.js";
import { startTestCluster } from "./test-support/nats-cluster.js";
import { describeWithNats } from "./test-support/describe-with-nats.js";

// Checks that the comparison works on tiny inputs, not how fast either side is.
describeWithNats("bench nats-queue", () => {
  let cluster: LoopbackNatsCluster;
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("alternates timed rounds of each side, each moving every message", async () => {
    const result = await runNatsQueueBench({
      servers: cluster.servers,
      replicas: 1,
      numMessages: 200,
      messageSize: 10,
      producers: 2,
      consumers: 2,
      rounds: 2,
      quiet: true,
    });
    expect(result.rounds.map((r) => r.side)).toEqual(["sluice", "plain", "plain", "sluice"]);
    for (const r of result.rounds) expect(r.messagesPerSec).toBeGreaterThan(0);
    expect(result.ratio).toBeCloseTo(result.sluiceMessagesPerSec / result.plainMessagesPerSec);
    expect(result.sluiceCpuUsPerMessage).toBeGreaterThan(0);
    expect(result.plainCpuUsPerMessage).toBeGreaterThan(0);
  }, 60_000);
});
