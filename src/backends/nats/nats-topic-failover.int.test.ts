import { randomBytes } from "node:crypto";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { NatsTopicService } from "./nats-topic-service.js";
import type { LoopbackNatsCluster } from "./loopback-nats-cluster.js";
import { startTestCluster } from "./test-support/nats-cluster.js";
import { describeWithNats } from "./test-support/describe-with-nats.js";
import { VICTIMS, type Victim, pickVictim } from "./test-support/failover-victim.js";
import { step } from "./test-support/step.js";

// Failover of a topic with 3 replicas: SIGKILL a partition stream's follower mid-traffic, and
// in a second run its leader. The producer and the consumer (a group member) are connected to
// the node that dies, so they must reconnect elsewhere, the consumer's reader must find the
// stream again, and the member must carry on while the group's bucket may have no leader.
// Every acknowledged record must be read, none stored twice, and traffic must resume within
// the window; the test prints the gaps it saw.
/** The same bound as the queue failover test's, for the same reasons (see there). */
const WINDOW_MS = 10_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describeWithNats("NATS JetStream topic failover", () => {
  let cluster: LoopbackNatsCluster;
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  for (const victim of VICTIMS) {
    it(`SIGKILL of a partition stream's ${victim}: producing and consuming resume within ${WINDOW_MS / 1000} s, nothing acknowledged lost or stored twice`, async () => {
      const o = await runWithFailure(cluster, victim).catch((error: unknown) => {
        console.error(
          `topic failover (${victim} killed) failed; the servers' logs:\n${cluster.logTails()}`,
        );
        throw error;
      });
      console.log(
        `topic failover (${victim} killed): longest send gap ${o.sendGapMs} ms, longest ` +
          `receive gap ${o.receiveGapMs} ms, ${o.acked.size} records acknowledged ` +
          `(${o.sentAfterKill} after the kill), ${o.receivedAfterKill} read after the kill, ` +
          `${o.readTwice} read twice, partitions lost ${o.partitionsLost} times`,
      );
      expect([...o.acked].filter((v) => !o.read.has(v))).toEqual([]);
      expect([...o.stored].filter(([, n]) => n > 1)).toEqual([]);
      // One member reading its partition in order gets each record once.
      expect(o.readTwice).toBe(0);
      expect(o.sendGapMs).toBeLessThan(WINDOW_MS);
      expect(o.receiveGapMs).toBeLessThan(WINDOW_MS);
      expect(o.sentAfterKill).toBeGreaterThan(10);
      expect(o.receivedAfterKill).toBeGreaterThan(10);
    }, 90_000);
  }
});

async function runWithFailure(cluster: LoopbackNatsCluster, victim: Victim) {
  const namespace = `F${randomBytes(4).toString("hex")}`;
  await step("creating the topic", async () => {
    const admin = await NatsTopicService.open({ servers: cluster.servers, replicas: 3, namespace });
    await admin.admin.createTopic({ name: "events", partitions: 1 });
    await admin.close();
  });
  const victimIndex = await step("picking the victim", () =>
    pickVictim(cluster, `${namespace}_T_`, victim),
  );
  const settings = { replicas: 3, namespace };
  const victimUrl = cluster.urlOf(victimIndex);
  const others = cluster.servers.split(",").filter((url) => url !== victimUrl);
  const connections = await step("connecting", () =>
    Promise.all(
      [0, 1].map(() =>
        connect({ servers: [victimUrl, ...others], noRandomize: true, maxReconnectAttempts: -1 }),
      ),
    ),
  );
  const [producing, consuming] = await step("opening the services", () =>
    Promise.all(
      connections.map((connection) => NatsTopicService.open({ connection, ...settings })),
    ),
  );
  const producer = producing!.producer({ lingerMs: 0 });
  const consumer = consuming!.consumer({
    groupId: "readers",
    autoCommit: false,
    autoOffsetReset: "earliest",
  });
  const acked = new Set<string>();
  const read = new Set<string>();
  let readTwice = 0;
  let partitionsLost = 0;
  let stop = false;
  let sendingDone = false;
  let sendGapMs = 0;
  let receiveGapMs = 0;
  let killedAt = Number.POSITIVE_INFINITY;
  let sentAfterKill = 0;
  let receivedAfterKill = 0;
  let killed = false;
  try {
    await step("subscribing", () =>
      consumer.subscribe(["events"], { onPartitionsLost: () => void partitionsLost++ }),
    );
    const sending = (async () => {
      let last = Date.now();
      for (let i = 0; !stop; i++) {
        try {
          await producer.send({ topic: "events", value: `r${i}` });
          acked.add(`r${i}`);
          sendGapMs = Math.max(sendGapMs, Date.now() - last);
          last = Date.now();
          if (last > killedAt) sentAfterKill++;
        } catch {
          await sleep(50); // the next record has a new value: only acknowledged ones count
        }
      }
      sendGapMs = Math.max(sendGapMs, Date.now() - last);
      sendingDone = true;
    })();
    let drainDeadline = Number.POSITIVE_INFINITY;
    const receiving = (async () => {
      let last = Date.now();
      // Not before the last send is answered: it may add one more acknowledged record.
      while (Date.now() < drainDeadline && !(sendingDone && [...acked].every((v) => read.has(v)))) {
        try {
          const records = await consumer.poll({ timeoutMs: 500 });
          if (records.length > 0) {
            receiveGapMs = Math.max(receiveGapMs, Date.now() - last);
            last = Date.now();
            if (last > killedAt) receivedAfterKill += records.length;
          }
          for (const r of records) {
            if (read.has(r.value!.toString())) readTwice++;
            read.add(r.value!.toString());
          }
        } catch {
          await sleep(50);
        }
      }
    })();
    await sleep(1500);
    await cluster.kill(victimIndex);
    killed = true;
    killedAt = Date.now();
    await sleep(12_000);
    stop = true;
    await sending;
    drainDeadline = Date.now() + 20_000;
    await receiving;
    // Every record as stored: none twice (a publish retried after a lost answer is stored once).
    const stored = await step("reading the partition back", async () => {
      const counts = new Map<string, number>();
      const reader = consuming!.consumer();
      await reader.assign([{ topic: "events", partition: 0 }]);
      await reader.seekToBeginning();
      for (let empty = 0; empty < 3;) {
        const records = await reader.poll({ timeoutMs: 500 });
        if (records.length === 0) empty++;
        for (const r of records) {
          const v = r.value!.toString();
          counts.set(v, (counts.get(v) ?? 0) + 1);
        }
      }
      await reader.close();
      return counts;
    });
    return {
      acked,
      read,
      readTwice,
      partitionsLost,
      stored,
      sendGapMs,
      receiveGapMs,
      sentAfterKill,
      receivedAfterKill,
    };
  } finally {
    // Before anything else can fail: a retry of the test needs all three servers.
    if (killed) await step("restarting the victim", () => cluster.restartNode(victimIndex));
    await step("closing", async () => {
      await producing!.close();
      await consuming!.close();
      await Promise.all(connections.map((nc) => nc.close()));
    });
  }
}
