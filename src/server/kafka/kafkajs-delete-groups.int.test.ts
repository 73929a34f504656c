// kafkajs's admin.deleteGroups (DeleteGroups) against embedded topics: an empty group is deleted
// with its committed offsets, for good (they stay gone after a restart); a group with members
// is refused with NON_EMPTY_GROUP and keeps its offsets; an unknown group is GROUP_ID_NOT_FOUND.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Admin, Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedTopicService } from "../../messaging/topics/embedded-topic-service.js";
import { embeddedKafkaBackend } from "./embedded-kafka-backend.js";
import { KafkaServer } from "./kafka-server.js";
import { KafkaErrorCode } from "./protocol/error-codes.js";

let dir: string;
let topics: EmbeddedTopicService;
let server: KafkaServer;
let kafka: Kafka;

/** Opens the data directory and listens on it (again, after a restart). */
async function startListener(): Promise<void> {
  topics = await EmbeddedTopicService.open(dir, { fsync: "never" });
  server = await KafkaServer.listen({ backend: embeddedKafkaBackend(topics), port: 0 });
  kafka = new Kafka({
    clientId: "kafkajs-delete-groups",
    brokers: [`127.0.0.1:${server.port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
}

async function stopListener(): Promise<void> {
  await server.close();
  await topics.close();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-kafkajs-delete-groups-"));
  await startListener();
});

afterAll(async () => {
  await stopListener();
  rmSync(dir, { recursive: true, force: true });
});

/** The group's committed offsets on `topic`, by partition ("-1": none). */
async function committed(admin: Admin, groupId: string, topic: string): Promise<string[]> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return offsets!.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset);
}

/** What a rejected deleteGroups reports for each group it could not delete. */
async function refused(
  admin: Admin,
  groupIds: string[],
): Promise<Array<{ groupId: string; errorCode: number; type: string | undefined }>> {
  const error = (await admin.deleteGroups(groupIds).then(
    () => undefined,
    (e: unknown) => e,
  )) as
    | {
        name: string;
        groups?: Array<{ groupId: string; errorCode: number; error?: { type?: string } }>;
      }
    | undefined;
  expect(error?.name).toBe("KafkaJSDeleteGroupsError");
  return (error?.groups ?? []).map((g) => ({
    groupId: g.groupId,
    errorCode: g.errorCode,
    type: g.error?.type,
  }));
}

let attempts = 0;

describe("kafkajs admin.deleteGroups", () => {
  it("deletes an empty group and its offsets for good, refuses a group with members (NON_EMPTY_GROUP) and an unknown one", async () => {
    // Names of this attempt (a retried test starts afresh).
    const attempt = ++attempts;
    const topic = `delete-groups-${attempt}`;
    const [emptiedGroup, busyGroup, neverWas] = ["emptied", "busy", "never-was"].map(
      (name) => `${name}-${attempt}`,
    ) as [string, string, string];
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}`, partition: i % 2 })),
    });
    await producer.disconnect();

    /** A consumer of `groupId` that reads the topic from the beginning and commits. */
    const consumerIn = async (groupId: string) => {
      const consumer = kafka.consumer({
        groupId,
        sessionTimeout: 6000,
        rebalanceTimeout: 4000,
        heartbeatInterval: 300,
        maxWaitTimeInMs: 200,
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: () => Promise.resolve() });
      await expect
        .poll(() => committed(admin, groupId, topic), { timeout: 15_000 })
        .toEqual(["5", "5"]);
      return consumer;
    };
    const emptied = await consumerIn(emptiedGroup);
    const busy = await consumerIn(busyGroup);
    try {
      await emptied.disconnect(); // leaves: the group is empty, its offsets stay
      await expect
        .poll(async () => (await admin.describeGroups([emptiedGroup])).groups[0]!.state, {
          timeout: 10_000,
        })
        .toBe("Empty");
      expect(await committed(admin, emptiedGroup, topic)).toEqual(["5", "5"]);

      // A group with a member is refused, and keeps its member and offsets.
      expect(await refused(admin, [busyGroup])).toEqual([
        {
          groupId: busyGroup,
          errorCode: KafkaErrorCode.NON_EMPTY_GROUP,
          type: "NON_EMPTY_GROUP",
        },
      ]);
      expect((await admin.describeGroups([busyGroup])).groups[0]).toMatchObject({
        state: "Stable",
        members: [expect.anything()],
      });
      expect(await committed(admin, busyGroup, topic)).toEqual(["5", "5"]);

      // The empty group is deleted with its offsets.
      expect(await admin.deleteGroups([emptiedGroup])).toEqual([
        expect.objectContaining({ groupId: emptiedGroup, errorCode: 0 }),
      ]);
      expect(await committed(admin, emptiedGroup, topic)).toEqual(["-1", "-1"]);
      expect((await admin.describeGroups([emptiedGroup])).groups[0]!.state).toBe("Dead");
      const listed = (await admin.listGroups()).groups.map((g) => g.groupId);
      expect(listed).toContain(busyGroup);
      expect(listed).not.toContain(emptiedGroup);

      // Deleted, or never there: GROUP_ID_NOT_FOUND.
      expect(await refused(admin, [emptiedGroup, neverWas])).toEqual([
        {
          groupId: emptiedGroup,
          errorCode: KafkaErrorCode.GROUP_ID_NOT_FOUND,
          type: "GROUP_ID_NOT_FOUND",
        },
        {
          groupId: neverWas,
          errorCode: KafkaErrorCode.GROUP_ID_NOT_FOUND,
          type: "GROUP_ID_NOT_FOUND",
        },
      ]);
    } finally {
      await busy.disconnect();
      await emptied.disconnect();
      await admin.disconnect();
    }

    // After a restart the deleted group's offsets are still gone; the other group's are there.
    await stopListener();
    await startListener();
    const again = kafka.admin();
    await again.connect();
    try {
      expect(await committed(again, emptiedGroup, topic)).toEqual(["-1", "-1"]);
      expect(await committed(again, busyGroup, topic)).toEqual(["5", "5"]);
      // Its member gone, the other group can be deleted now.
      expect(await again.deleteGroups([busyGroup])).toEqual([
        expect.objectContaining({ groupId: busyGroup, errorCode: 0 }),
      ]);
      expect(await committed(again, busyGroup, topic)).toEqual(["-1", "-1"]);
    } finally {
      await again.disconnect();
    }
  }, 90_000);
});
