import { describe, expect, it } from "vitest";
import { SimulatedFileSystem } from "../engine/index.js";
import { isSluiceError } from "../errors/index.js";
import type { TopicProducer } from "../messaging/topics/index.js";
import { open, type Sluice } from "../sluice/index.js";
import { SluiceServer } from "./server.js";

interface Case {
  readonly log: string;
  readonly setUp: (sluice: Sluice) => Promise<void>;
  /** A write made while the next fsync fails. */
  readonly write: (sluice: Sluice) => Promise<unknown>;
}

/** The topics case's producer: made before the failure (its id is stored on the way). */
let producer: TopicProducer | undefined;

const CASES: readonly Case[] = [
  {
    log: "topic/orders/1",
    setUp: async (s) => {
      await s.topics.admin.createTopic({ name: "orders", partitions: 2 });
      producer = s.topics.producer({ lingerMs: 0 });
      await producer.send({ topic: "orders", partition: 1, value: "kept" });
    },
    write: () => producer!.send({ topic: "orders", partition: 1, value: "lost" }),
  },
  {
    log: "pubsub/news",
    setUp: async (s) => void (await s.pubsub.createTopic({ Name: "news" })),
    write: (s) =>
      s.pubsub.publish({ TopicArn: "arn:aws:sns:us-east-1:000000000000:news", Message: "lost" }),
  },
  {
    log: "catalog/queues",
    setUp: async () => undefined,
    write: (s) => s.queues.createQueue({ QueueName: "jobs" }),
  },
];

/**
 * A log whose fsync failed takes no more writes until it is reopened (the engine's rule, after
 * PostgreSQL's fsyncgate): the process cannot heal that by itself, so /healthz says so, naming
 * the log, and a supervisor restarts it. The restart reopens the log and /healthz is ok again.
 */
describe("/healthz", () => {
  for (const c of CASES)
    it(`answers 503 naming ${c.log} once its fsync failed, until a restart`, async () => {
      const fs = new SimulatedFileSystem(51);
      const start = async (): Promise<{ sluice: Sluice; server: SluiceServer }> => {
        const sluice = await open("/data", { fs, fsync: "always" });
        const server = await SluiceServer.create(sluice, { publicUrl: "http://localhost:8080" });
        await server.app.ready();
        return { sluice, server };
      };
      let { sluice, server } = await start();
      await c.setUp(sluice);
      expect((await server.app.inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
      fs.failNextSyncs(1);
      await expect(c.write(sluice)).rejects.toSatisfy((e) => isSluiceError(e, "SLUICE_IO"));
      const failing = await server.app.inject({ url: "/healthz" });
      expect(failing.statusCode).toBe(503);
      expect(failing.json()).toMatchObject({ status: "failing", failedLogs: [c.log] });
      expect((await server.app.inject({ url: "/metrics" })).body).toContain(
        `sluice_log_failed{log="${c.log}"} 1`,
      );
      await producer?.close().catch(() => undefined);
      producer = undefined;
      await server.close();
      await sluice.close().catch(() => undefined);

      ({ sluice, server } = await start());
      expect((await server.app.inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
      await server.close();
      await sluice.close();
    });
});
