import { setTimeout as sleep } from "node:timers/promises";
import {
  AckPolicy,
  type JsMsg,
  RetentionPolicy,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { LoopbackNatsCluster } from "./loopback-nats-cluster.js";
import { describeWithNats } from "./test-support/describe-with-nats.js";
import { startTestCluster } from "./test-support/nats-cluster.js";

// What JetStream does that keeps Sluice's queues off the mapping the scale-out issue proposed
// (a work-queue stream, AckWait as the visibility timeout; docs/nats.md, "Why not consumers
// with AckWait"), shown on the nats-server the tests run. Should a release change it, this
// fails, and the mapping is worth weighing again.
let cluster: LoopbackNatsCluster | undefined;

describeWithNats("JetStream acks, as the queue mapping relies on them", () => {
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("an ack from an earlier delivery removes a message redelivered to another consumer since (SQS keeps it)", async () => {
    const nc = await connect({ servers: cluster!.servers });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({
        name: "WQ",
        subjects: ["wq"],
        retention: RetentionPolicy.Workqueue,
      });
      await jsm.consumers.add("WQ", {
        durable_name: "workers",
        ack_policy: AckPolicy.Explicit,
        ack_wait: 1_000_000_000, // 1 s: the "visibility timeout"
        max_deliver: 5,
      });
      const js = jetstream(nc);
      await js.publish("wq", "work");
      const consumer = await js.consumers.get("WQ", "workers");
      const fetchOne = async (): Promise<JsMsg> => {
        const batch = await consumer.fetch({ max_messages: 1, expires: 3000 });
        for await (const m of batch) return m;
        throw new Error("nothing delivered");
      };
      const first = await fetchOne();
      await sleep(1500); // the first receiver's "visibility timeout" passes
      const second = await fetchOne();
      expect([first.seq, second.seq, second.info.deliveryCount]).toEqual([1, 1, 2]);
      // The first receiver acknowledges late, with its old delivery. SQS would leave the
      // message to the second receiver, whose receipt handle is the latest; JetStream matches
      // the ack by stream sequence only and removes the message under the second receiver.
      expect(await first.ackAck()).toBe(true);
      expect((await jsm.streams.info("WQ")).state.messages).toBe(0);
      expect((await consumer.info()).num_ack_pending).toBe(0);
    } finally {
      await nc.close();
    }
  });
});
