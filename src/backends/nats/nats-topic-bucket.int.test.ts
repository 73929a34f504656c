import { randomBytes } from "node:crypto";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { type NatsConnection, connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DEFAULT_TOPIC_CONFIG } from "../../messaging/topics/topic-config.js";
import { NatsGroupStore } from "./nats-group-store.js";
import { ReconnectWatch } from "./reconnect-watch.js";
import { NatsTopicCatalog, type NatsTopicDefinition } from "./nats-topic-catalog.js";
import { retryWhileUnavailable } from "./retry-unavailable.js";
import type { LoopbackNatsCluster } from "./loopback-nats-cluster.js";
import { startTestCluster } from "./test-support/nats-cluster.js";
import { describeWithNats } from "./test-support/describe-with-nats.js";

// The topics' bucket (topic definitions and consumer groups) listed right after a write,
// through a server whose copy of the bucket lags behind: the list must hold what was
// acknowledged, not that server's older copy. As in the queue catalog's test, a lagging
// follower is made by pausing it (SIGSTOP) while the other two acknowledge the writes, then
// resuming it with the list already waiting on it and a backlog to apply. Whether a listing
// through a consumer reads the lagging copy depends on where the servers place that consumer,
// which the test cannot choose, so each test repeats the scenario, each round in a new bucket.
const ROUNDS = 4;
const FILL_KEYS = 6000;
const FILL_BYTES = 4096;

const topic = (name: string): NatsTopicDefinition => ({
  name,
  uid: randomBytes(8).toString("hex"),
  partitions: 1,
  config: DEFAULT_TOPIC_CONFIG,
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describeWithNats("NATS topic bucket listings", () => {
  let cluster: LoopbackNatsCluster;
  beforeAll(async () => {
    // Read consistency, not durability: the servers flush on their timer, as flushing each of
    // the backlog's thousands of writes made this file take over a minute.
    cluster = await startTestCluster(3, "default");
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  /**
   * Opens the bucket through its leader (the writer) and through a follower (the reader),
   * runs `before` with the writer, pauses the follower, makes it a backlog of other keys, runs
   * `write` with the writer, starts `list` with the reader, and resumes the follower 300 ms
   * later; returns what `list` found.
   */
  async function throughLaggingFollower<T>(
    bucket: string,
    before: (writer: NatsTopicCatalog, writerNc: NatsConnection) => Promise<void>,
    write: (writer: NatsTopicCatalog, writerNc: NatsConnection) => Promise<void>,
    list: (readerNc: NatsConnection, reader: NatsTopicCatalog) => Promise<T>,
  ): Promise<T> {
    const setupNc = await connect({ servers: cluster.servers.split(",") });
    const setup = await NatsTopicCatalog.open(setupNc, bucket, 3);
    setup.close();
    await setupNc.close();
    const { leader, followers } = await cluster.placement(`KV_${bucket}`);
    const lagging = followers[0]!;
    const writerNc = await connect({ servers: [cluster.urlOf(leader)] });
    const readerNc = await connect({ servers: [cluster.urlOf(lagging)] });
    const writer = await NatsTopicCatalog.open(writerNc, bucket, 3);
    const reader = await NatsTopicCatalog.open(readerNc, bucket, 3);
    try {
      await before(writer, writerNc);
      cluster.pause(lagging);
      try {
        const fill = await new Kvm(jetstream(writerNc)).open(bucket);
        const value = randomBytes(FILL_BYTES);
        for (let i = 0; i < FILL_KEYS; i += 100)
          await Promise.all(
            Array.from({ length: 100 }, (_, j) => fill.put(`FILL.${i + j}`, value)),
          );
        await write(writer, writerNc);
        const listed = list(readerNc, reader);
        await sleep(300);
        cluster.resume(lagging);
        return await listed;
      } finally {
        cluster.resume(lagging);
        await cluster.metaCaughtUp();
      }
    } finally {
      reader.close();
      writer.close();
      // A server just resumed may answer "temporarily unavailable" for a moment.
      await retryWhileUnavailable(() =>
        new Kvm(jetstream(writerNc)).open(bucket).then((kv) => kv.destroy()),
      );
      await Promise.all([readerNc.close(), writerNc.close()]);
    }
  }

  /** What `round` listed in each of ROUNDS new buckets. */
  async function rounds<T>(round: (bucket: string) => Promise<T>): Promise<T[]> {
    const listed: T[] = [];
    for (let i = 0; i < ROUNDS; i++) listed.push(await round(`B${randomBytes(4).toString("hex")}`));
    return listed;
  }

  it("a topic deleted and one created are loaded as written through a lagging follower", async () => {
    const opened: NatsTopicCatalog[] = [];
    try {
      const listed = await rounds((bucket) =>
        throughLaggingFollower(
          bucket,
          (writer) => writer.create(topic("gone")).then(() => undefined),
          async (writer) => {
            await writer.remove("gone");
            await writer.create(topic("kept"));
          },
          async (readerNc) => {
            const catalog = await NatsTopicCatalog.open(readerNc, bucket, 3);
            opened.push(catalog);
            return catalog.names();
          },
        ),
      );
      expect(listed).toEqual(listed.map(() => ["kept"]));
    } finally {
      for (const catalog of opened) catalog.close();
    }
  });

  it("a group deleted and one created are listed as written through a lagging follower", async () => {
    const groupsOf = (catalog: NatsTopicCatalog, nc: NatsConnection): NatsGroupStore =>
      new NatsGroupStore(catalog.kv, catalog.jsm, catalog.bucket, new ReconnectWatch(nc));
    const touch = { result: undefined, changed: true };
    const listed = await rounds((bucket) =>
      throughLaggingFollower(
        bucket,
        (writer, nc) => groupsOf(writer, nc).update("gone", () => touch),
        async (writer, nc) => {
          await groupsOf(writer, nc).remove("gone", () => undefined);
          await groupsOf(writer, nc).update("kept", () => touch);
        },
        (readerNc, reader) => groupsOf(reader, readerNc).groupIds(),
      ),
    );
    expect(listed).toEqual(listed.map(() => ["kept"]));
  });
});
