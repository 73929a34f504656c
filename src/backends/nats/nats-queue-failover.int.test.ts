import { randomBytes } from "node:crypto";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { NatsQueueService } from "./nats-queue-service.js";
import type { LoopbackNatsCluster } from "./loopback-nats-cluster.js";
import { startTestCluster } from "./test-support/nats-cluster.js";
import { describeWithNats } from "./test-support/describe-with-nats.js";
import { VICTIMS, type Victim, pickVictim } from "./test-support/failover-victim.js";
import { step } from "./test-support/step.js";

// Failover with 3 replicas: SIGKILL the queue stream's leader mid-traffic (and, in a second
// run, a follower). The producer and one of two competing consumers are connected to the node
// that is killed, so they must reconnect elsewhere and their tails must find the stream again
// (tails have stalled for good before: one that kept asking the dead server for its consumer,
// and one alive but bringing nothing, see nats-queue-tail.int.test.ts). They must carry on
// within the window below, no acknowledged send may be lost, and no message may reach two
// receivers within its visibility timeout (60 s here, longer than the run: any second
// delivery counts).
// Each run prints the longest gap the producer and the consumers saw: the unavailability window.
const VISIBILITY_S = 60;
/**
 * The longest unavailability allowed: 10 s, for every victim. A leader's death leaves the stream
 * without a leader until a follower campaigns, which nats-server's Raft does a random 4-9 s
 * after it last heard from the leader (its election timeout, not configurable; traffic makes
 * that the moment of the kill); writes resume with the election and reads within a few hundred
 * ms of it (from the stream's leader, before a new tail is made).
 */
const WINDOW_MS = 10_000;

interface Outcome {
  readonly acked: Set<string>;
  readonly deliveries: Map<string, number>;
  readonly sendGapMs: number;
  readonly receiveGapMs: number;
  readonly sentAfterKill: number;
  readonly receivedAfterKill: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describeWithNats("NATS JetStream queue failover", () => {
  let cluster: LoopbackNatsCluster;
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  for (const victim of VICTIMS) {
    it(`SIGKILL of the stream's ${victim}: traffic resumes within ${WINDOW_MS / 1000} s, nothing acknowledged lost, nothing delivered twice`, async () => {
      const outcome = await runWithFailure(cluster, victim).catch((error: unknown) => {
        console.error(
          `queue failover (${victim} killed) failed; the servers' logs:\n${cluster.logTails()}`,
        );
        throw error;
      });
      console.log(
        `failover (${victim} killed): longest send gap ${outcome.sendGapMs} ms, ` +
          `longest receive gap ${outcome.receiveGapMs} ms, ${outcome.acked.size} sends acknowledged ` +
          `(${outcome.sentAfterKill} after the kill), ${outcome.receivedAfterKill} received after the kill`,
      );
      const lost = [...outcome.acked].filter((body) => !outcome.deliveries.has(body));
      expect(lost).toEqual([]);
      const twice = [...outcome.deliveries].filter(([, n]) => n > 1).map(([body]) => body);
      expect(twice).toEqual([]);
      expect(outcome.sendGapMs).toBeLessThan(WINDOW_MS);
      expect(outcome.receiveGapMs).toBeLessThan(WINDOW_MS);
      expect(outcome.acked.size).toBeGreaterThan(50);
    }, 90_000);
  }
});

async function runWithFailure(cluster: LoopbackNatsCluster, victim: Victim): Promise<Outcome> {
  const namespace = `F${randomBytes(4).toString("hex")}`;
  const settings = { replicas: 3, namespace, catalogBucket: "SLUICE_FAILOVER_catalog" };
  const { QueueUrl } = await step("creating the queue", async () => {
    const admin = await NatsQueueService.open({ servers: cluster.servers, ...settings });
    const created = await admin.createQueue({
      QueueName: "orders",
      Attributes: { VisibilityTimeout: String(VISIBILITY_S) },
    });
    await admin.close();
    return created;
  });
  const victimIndex = await step("picking the victim", () =>
    pickVictim(cluster, `${namespace}_Q_`, victim),
  );
  const victimUrl = cluster.urlOf(victimIndex);
  const others = cluster.servers.split(",").filter((url) => url !== victimUrl);
  // The producer and the first consumer sit on the node that dies (it comes first in their
  // lists); the second consumer competes with the first from another node.
  const connections = await step("connecting", () =>
    Promise.all(
      [[victimUrl, ...others], [victimUrl, ...others], others].map((servers) =>
        connect({ servers, noRandomize: true, maxReconnectAttempts: -1 }),
      ),
    ),
  );
  const [producer, ...consumers] = await step("opening the services", () =>
    Promise.all(
      connections.map((connection) => NatsQueueService.open({ connection, ...settings })),
    ),
  );
  let killed = false;
  try {
    const acked = new Set<string>();
    const deliveries = new Map<string, number>();
    let stopSending = false;
    let stopReceiving = false;
    let drainDeadline = Number.POSITIVE_INFINITY;
    let sendGapMs = 0;
    let receiveGapMs = 0;
    let killedAt = Number.POSITIVE_INFINITY;
    let sentAfterKill = 0;
    let receivedAfterKill = 0;

    const sending = (async () => {
      let last = Date.now();
      for (let i = 0; !stopSending; i++) {
        const body = `m${i}`;
        try {
          await producer!.sendMessage({ QueueUrl, MessageBody: body });
          acked.add(body);
          sendGapMs = Math.max(sendGapMs, Date.now() - last);
          last = Date.now();
          if (last > killedAt) sentAfterKill++;
        } catch {
          await sleep(50); // the next send uses a new body: only acknowledged ones count
        }
      }
      // Sends that never resumed count up to the end.
      sendGapMs = Math.max(sendGapMs, Date.now() - last);
    })();
    const receiving = consumers.map(async (consumer) => {
      let last = Date.now();
      let emptyAfterStop = 0;
      // Bounded, so a consumer that never recovers fails the test instead of hanging it.
      while ((!stopReceiving || emptyAfterStop < 3) && Date.now() < drainDeadline) {
        try {
          const { Messages } = await consumer.receiveMessage({
            QueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          });
          // Only receives that bring messages count: an empty answer from a stalled view is
          // no delivery.
          if (Messages.length > 0) {
            receiveGapMs = Math.max(receiveGapMs, Date.now() - last);
            last = Date.now();
            if (last > killedAt) receivedAfterKill += Messages.length;
          }
          if (Messages.length === 0 && stopReceiving) emptyAfterStop++;
          for (const m of Messages) deliveries.set(m.Body, (deliveries.get(m.Body) ?? 0) + 1);
          if (Messages.length > 0)
            await consumer.deleteMessageBatch({
              QueueUrl,
              Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
            });
        } catch {
          await sleep(50);
        }
      }
    });

    await sleep(1500);
    await cluster.kill(victimIndex);
    killed = true;
    killedAt = Date.now();
    // Longer than any window allowed, so traffic that never came back shows as a longer gap.
    await sleep(14_000);
    stopSending = true;
    await sending;
    drainDeadline = Date.now() + 30_000;
    stopReceiving = true;
    await Promise.all(receiving);
    return { acked, deliveries, sendGapMs, receiveGapMs, sentAfterKill, receivedAfterKill };
  } finally {
    // Before anything else can fail: a retry of the test needs all three servers.
    if (killed) await step("restarting the victim", () => cluster.restartNode(victimIndex));
    await step("closing", async () => {
      await Promise.all([producer!, ...consumers].map((service) => service.close()));
      await Promise.all(connections.map((nc) => nc.close()));
    });
  }
}
