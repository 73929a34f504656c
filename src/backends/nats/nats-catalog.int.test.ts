import { randomBytes } from "node:crypto";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { QueueDefinition } from "../../messaging/queues/durable-queue.js";
import type { MessageMoveTaskStatus } from "../../messaging/queues/queue-service.js";
import { NatsCatalog, type OwnedMoveTaskRecord } from "./nats-catalog.js";
import type { LoopbackNatsCluster } from "./loopback-nats-cluster.js";
import { startTestCluster } from "./test-support/nats-cluster.js";
import { describeWithNats } from "./test-support/describe-with-nats.js";

// The queue catalog on a 3-node cluster: opened by two processes at once, followed from the
// moment it was read, and read back right after a write through a server whose copy of the
// bucket lags behind (it must answer with what was acknowledged, not with that server's older
// copy). A lagging follower is made by pausing it (SIGSTOP) while the writes are acknowledged by
// the other two, then resuming it with the read already waiting on it and a backlog to apply.
const BUCKET = "SLUICE_CATALOG_TEST";
const FILL_KEYS = 6000;
const FILL_BYTES = 4096;

const definition = (name: string): QueueDefinition => ({
  name,
  uid: randomBytes(8).toString("hex"),
  attributes: {},
  tags: {},
  createdTimestamp: 0,
  lastModifiedTimestamp: 0,
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describeWithNats("NATS queue catalog reads", () => {
  let cluster: LoopbackNatsCluster;
  beforeAll(async () => {
    // Read consistency, not durability: the servers flush on their timer, as flushing each of
    // the backlog's thousands of writes made this file take over a minute.
    cluster = await startTestCluster(3, "default");
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("two processes opening a new catalog bucket at once both open it", async () => {
    // The second creation of a stream under way is answered before its leader is elected; the
    // reads sent then went unanswered, and that process's open failed after 5 s.
    const bucket = `SLUICE_CATALOG_OPEN_${randomBytes(4).toString("hex")}`;
    const connections = await Promise.all(
      [0, 1].map(() => connect({ servers: cluster.servers.split(",") })),
    );
    try {
      const opened = await Promise.all(
        connections.map((nc) => NatsCatalog.open(nc, bucket, "OPEN", 3)),
      );
      expect(opened[0]!.receiptKey).toEqual(opened[1]!.receiptKey);
      for (const { catalog } of opened) catalog.close();
    } finally {
      await Promise.all(connections.map((nc) => nc.close()));
    }
  });

  it("a watch started after the open reports every change made since the open read the catalog", async () => {
    const namespace = `W${randomBytes(4).toString("hex")}`;
    const readerNc = await connect({ servers: cluster.servers.split(",") });
    const writerNc = await connect({ servers: cluster.servers.split(",") });
    const reader = await NatsCatalog.open(readerNc, BUCKET, namespace, 3);
    const writer = await NatsCatalog.open(writerNc, BUCKET, namespace, 3);
    try {
      // Made while the reader opens the queues it read (which takes a while), before it watches.
      await writer.catalog.create(definition("made-meanwhile"));
      const heard: string[] = [];
      await reader.catalog.watch((change) => {
        if (change.kind === "queue") heard.push(change.name);
      });
      await writer.catalog.create(definition("made-after"));
      for (let waited = 0; heard.length < 2 && waited < 5000; waited += 50) await sleep(50);
      expect(heard).toEqual(["made-meanwhile", "made-after"]);
    } finally {
      reader.catalog.close();
      writer.catalog.close();
      await Promise.all([readerNc.close(), writerNc.close()]);
    }
  });

  it("a source queue's run key admits one running move task", async () => {
    const namespace = `R${randomBytes(4).toString("hex")}`;
    const nc = await connect({ servers: cluster.servers.split(",") });
    const { catalog } = await NatsCatalog.open(nc, BUCKET, namespace, 3);
    const task = (handle: string, status: MessageMoveTaskStatus): OwnedMoveTaskRecord => ({
      handle,
      sourceArn: "arn:aws:sqs:us-east-1:000000000000:dlq",
      rate: 10,
      seqLimit: 1,
      toMove: 0,
      moved: 0,
      startedAt: 0,
      status,
    });
    try {
      expect(await catalog.claimSource("u1", "h1")).toBeUndefined();
      const revision = await catalog.createTask(task("h1", "RUNNING"));
      expect(await catalog.claimSource("u1", "h2")).toBe("h1");
      await catalog.updateTask(task("h1", "COMPLETED"), revision);
      expect(await catalog.claimSource("u1", "h2")).toBeUndefined();
      // A key naming a task whose record never came (its starter failed in between) is taken
      // once the record has been missing for 5 s.
      expect(await catalog.claimSource("u2", "h3")).toBeUndefined();
      const started = Date.now();
      expect(await catalog.claimSource("u2", "h4")).toBeUndefined();
      expect(Date.now() - started).toBeGreaterThanOrEqual(4900);
      await catalog.releaseSource("u2", "h4");
      expect(await catalog.claimSource("u2", "h5")).toBeUndefined();
    } finally {
      catalog.close();
      await nc.close();
    }
  });

  it("a queue deleted and one created are read back as written through a lagging follower", async () => {
    const namespace = `C${randomBytes(4).toString("hex")}`;
    const setupNc = await connect({ servers: cluster.servers.split(",") });
    const setup = await NatsCatalog.open(setupNc, BUCKET, namespace, 3);
    await setup.catalog.create(definition("gone"));
    setup.catalog.close();
    await setupNc.close();
    const { leader, followers } = await cluster.placement(`KV_${BUCKET}`);
    const lagging = followers[0]!;
    // Each connected to one server: the writer to the leader, the reader to the follower
    // (before it is paused).
    const writerNc = await connect({ servers: [cluster.urlOf(leader)] });
    const readerNc = await connect({ servers: [cluster.urlOf(lagging)] });
    const writer = await NatsCatalog.open(writerNc, BUCKET, namespace, 3);
    const reader = await NatsCatalog.open(readerNc, BUCKET, namespace, 3);
    try {
      expect(reader.definitions.map((d) => d.name)).toEqual(["gone"]);
      cluster.pause(lagging);
      try {
        // A backlog for the follower to work through once it resumes: other keys of the
        // bucket (outside the namespace), so that it lags behind for a while.
        const fill = await new Kvm(jetstream(writerNc)).open(BUCKET);
        const value = randomBytes(FILL_BYTES);
        for (let i = 0; i < FILL_KEYS; i += 100)
          await Promise.all(
            Array.from({ length: 100 }, (_, j) => fill.put(`FILL.${namespace}.${i + j}`, value)),
          );
        await writer.catalog.remove("gone");
        await writer.catalog.create(definition("kept"));
        const read = reader.catalog.readAll();
        await sleep(300);
        cluster.resume(lagging);
        expect((await read).definitions.map((d) => d.name)).toEqual(["kept"]);
      } finally {
        cluster.resume(lagging);
        await cluster.metaCaughtUp();
      }
    } finally {
      reader.catalog.close();
      writer.catalog.close();
      await Promise.all([readerNc.close(), writerNc.close()]);
    }
  });
});
