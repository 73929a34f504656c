import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeTopicConformance } from "../../messaging/topics/conformance.js";
import type { TopicService } from "../../messaging/topics/topic-service.js";
import type { Clock } from "../../time/index.js";
import { VirtualClock } from "../../time/virtual-clock.js";
import type { NatsTopicConsumer } from "./nats-topic-consumer.js";
import { NO_TRANSACTIONS } from "./nats-topic-producer.js";
import { NatsTopicService } from "./nats-topic-service.js";
import { NatsCluster, natsServerMissing } from "./test-support/nats-cluster.js";

// The topics conformance suite against a 3-node JetStream cluster started for this file, every
// test in its own namespace (fresh streams and bucket). Streams are replicated
// SLUICE_NATS_REPLICAS times (default 1, as the queue suite: a 3-replica stream costs ~0.35 s
// to create on nats-server 2.9, and every partition is a stream).
const missing = natsServerMissing();
const replicas = Number(process.env.SLUICE_NATS_REPLICAS ?? "1");
let cluster: NatsCluster | undefined;
const namespaceOf = new WeakMap<TopicService, string>();

const freshNamespace = (): string => `T${randomBytes(4).toString("hex")}`;

async function openService(namespace: string, clock?: Clock): Promise<NatsTopicService> {
  const service = await NatsTopicService.open({
    servers: cluster!.servers,
    replicas,
    namespace,
    ...(clock === undefined ? {} : { clock }),
  });
  namespaceOf.set(service, namespace);
  // Heartbeats and asynchronous commits are requests to the servers: time moves on only once
  // they are answered, as it would for an in-process coordinator.
  if (clock instanceof VirtualClock) clock.addSettleHook(() => service.idle());
  return service;
}

if (missing !== undefined && process.env.CI === "true") {
  it("needs nats-server under CI", () => {
    throw new Error(`NATS integration tests cannot run: ${missing}`);
  });
} else {
  (missing === undefined ? describe : describe.skip)(
    missing === undefined ? "NATS JetStream topics" : `NATS JetStream topics (skipped: ${missing})`,
    () => {
      beforeAll(async () => {
        cluster = await NatsCluster.start(3);
      });
      afterAll(async () => {
        await cluster?.stop();
      });

      describeTopicConformance({
        name: `NATS JetStream, 3 nodes, replicas ${replicas}`,
        open: (clock) => openService(freshNamespace(), clock),
        async reopen(service, clock) {
          const namespace = namespaceOf.get(service);
          if (namespace === undefined) throw new Error("reopen: not a service this harness opened");
          await service.close();
          return openService(namespace, clock);
        },
        silence: (consumer) => (consumer as NatsTopicConsumer).silence(),
        noTransactions: NO_TRANSACTIONS,
      });

      describe("beyond the suite", () => {
        it("deleting a topic drops the groups' offsets of it, not of other topics", async () => {
          const service = await openService(freshNamespace());
          try {
            await service.admin.createTopic({ name: "gone" });
            await service.admin.createTopic({ name: "kept" });
            await service.admin.alterGroupOffsets("g", [
              { topic: "gone", partition: 0, offset: 0 },
              { topic: "kept", partition: 0, offset: 0 },
            ]);
            await service.admin.deleteTopic("gone");
            expect(await service.admin.listGroupOffsets("g")).toEqual([
              { topic: "kept", partition: 0, offset: 0, metadata: "" },
            ]);
          } finally {
            await service.close();
          }
        });
      });

      describe("several processes", () => {
        it("a group spans two services: each member gets half, a record is read once", async () => {
          const namespace = freshNamespace();
          const a = await openService(namespace);
          const b = await openService(namespace);
          try {
            await a.admin.createTopic({ name: "shared", partitions: 4 });
            const ca = a.consumer({ groupId: "g", autoOffsetReset: "earliest" });
            const cb = b.consumer({ groupId: "g", autoOffsetReset: "earliest" });
            await ca.subscribe(["shared"]);
            await cb.subscribe(["shared"]);
            for (let i = 0; i < 100; i++) {
              await ca.poll();
              await cb.poll();
              if (ca.assignment().length === 2 && cb.assignment().length === 2) break;
            }
            expect(ca.assignment()).toHaveLength(2);
            expect(cb.assignment()).toHaveLength(2);
            const producer = b.producer({ partitioner: "round-robin" });
            await producer.sendBatch(
              Array.from({ length: 40 }, (_, i) => ({ topic: "shared", value: `${i}` })),
            );
            const seen: string[] = [];
            for (let i = 0; i < 100 && seen.length < 40; i++)
              for (const c of [ca, cb])
                for (const r of await c.poll({ timeoutMs: 50 })) seen.push(r.value!.toString());
            expect(seen.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `${i}`).sort());
            await producer.close();
          } finally {
            await a.close();
            await b.close();
          }
        });
      });
    },
  );
}
