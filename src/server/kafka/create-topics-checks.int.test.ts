// CreateTopics (validateOnly included) and Metadata auto-creation against Kafka's rules.
// Kafka's CreateTopics runs the same checks with validateOnly as without (AdminManager /
// ZkAdminManager.createTopics: Topic.validate(name), partitions and replication factor,
// LogConfig.validate(configs), then "if (validateOnly) ... else create"), so a request that
// would fail fails the same way when only validated.
import { describe, expect, it } from "vitest";
import { KafkaErrorCode } from "./protocol/error-codes.js";
import {
  createTopics,
  metadata,
  type CreateTopicsResponse,
  type MetadataResponse,
} from "./protocol/schemas/index.js";
import { listenerWithRawClient } from "./test-support/listener-fixture.js";

const file = listenerWithRawClient("create-topics");

async function create(
  name: string,
  validateOnly: boolean,
  numPartitions = 1,
  configs: Array<{ name: string; value: string }> = [],
) {
  const answer = await file.client.request<CreateTopicsResponse>(createTopics, 5, {
    topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs }],
    timeoutMs: 5000,
    validateOnly,
  });
  return answer.topics![0]!;
}

/** The error code Metadata v9 answers for one topic asked for by name. */
async function metadataErrorOf(
  name: string,
  allowAutoTopicCreation: boolean,
): Promise<number | undefined> {
  const answer = await file.client.request<MetadataResponse>(metadata, 9, {
    topics: [{ name }],
    allowAutoTopicCreation,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  return answer.topics![0]!.errorCode;
}

describe("CreateTopics validateOnly checks what a real creation checks", () => {
  it.each([
    ["a name with a space", "bad name"],
    ["a name of 250 characters", "x".repeat(250)],
    ["..", ".."],
  ])("%s: INVALID_TOPIC_EXCEPTION, with or without validateOnly", async (_, name) => {
    expect((await create(name, false)).errorCode).toBe(KafkaErrorCode.INVALID_TOPIC_EXCEPTION);
    expect((await create(name, true)).errorCode).toBe(KafkaErrorCode.INVALID_TOPIC_EXCEPTION);
  });

  it("an invalid config value: INVALID_CONFIG, with or without validateOnly", async () => {
    const configs = [{ name: "cleanup.policy", value: "sometimes" }];
    expect((await create("bad-config", false, 1, configs)).errorCode).toBe(
      KafkaErrorCode.INVALID_CONFIG,
    );
    expect((await create("bad-config", true, 1, configs)).errorCode).toBe(
      KafkaErrorCode.INVALID_CONFIG,
    );
  });

  it("message.timestamp.type: CreateTime is taken, LogAppendTime refused (INVALID_CONFIG), not silently ignored", async () => {
    const logAppend = [{ name: "message.timestamp.type", value: "LogAppendTime" }];
    for (const validateOnly of [true, false]) {
      const refused = await create("log-append", validateOnly, 1, logAppend);
      expect(refused.errorCode).toBe(KafkaErrorCode.INVALID_CONFIG);
      expect(refused.errorMessage).toMatch(
        /message\.timestamp\.type.*LogAppendTime is not supported/,
      );
    }
    expect(await file.topics.admin.listTopics()).not.toContain("log-append");
    const createTime = [{ name: "message.timestamp.type", value: "CreateTime" }];
    expect((await create("create-time", false, 1, createTime)).errorCode).toBe(KafkaErrorCode.NONE);
  });

  it("too many partitions: the same answer with or without validateOnly", async () => {
    const real = await create("too-many", false, 1_000_000);
    const validated = await create("too-many", true, 1_000_000);
    expect(real.errorCode).not.toBe(KafkaErrorCode.NONE);
    expect(validated.errorCode).toBe(real.errorCode);
  });
});

// Kafka's controller refuses a name that differs from an existing topic's only in '.' against
// '_' (ReplicationControlManager: "Topic 'a_b' collides with existing topic: a.b").
describe("a name that collides with an existing topic's ('.' and '_' count as one)", () => {
  it("is refused with INVALID_TOPIC_EXCEPTION naming the other, with or without validateOnly, and not created", async () => {
    expect((await create("orders.eu", false)).errorCode).toBe(KafkaErrorCode.NONE);
    for (const validateOnly of [true, false]) {
      const refused = await create("orders_eu", validateOnly);
      expect(refused.errorCode).toBe(KafkaErrorCode.INVALID_TOPIC_EXCEPTION);
      expect(refused.errorMessage).toMatch(/orders_eu.*collides with existing topic: orders\.eu/);
    }
    expect(await file.topics.admin.listTopics()).not.toContain("orders_eu");
    // The same name is TOPIC_ALREADY_EXISTS, and other characters do not collide.
    expect((await create("orders.eu", false)).errorCode).toBe(KafkaErrorCode.TOPIC_ALREADY_EXISTS);
    expect((await create("orders-eu", false)).errorCode).toBe(KafkaErrorCode.NONE);
  });

  it("is refused by Metadata auto-creation too", async () => {
    expect((await create("audit_log", false)).errorCode).toBe(KafkaErrorCode.NONE);
    expect(await metadataErrorOf("audit.log", true)).toBe(KafkaErrorCode.INVALID_TOPIC_EXCEPTION);
    expect(await file.topics.admin.listTopics()).not.toContain("audit.log");
  });
});

describe("Metadata auto-creation", () => {
  it("an invalid name asked for with auto-creation: INVALID_TOPIC_EXCEPTION (17)", async () => {
    expect(await metadataErrorOf("bad name", true)).toBe(KafkaErrorCode.INVALID_TOPIC_EXCEPTION);
  });

  it("a valid unknown name with allowAutoTopicCreation false: UNKNOWN_TOPIC_OR_PARTITION, not created", async () => {
    expect(await metadataErrorOf("not-auto", false)).toBe(
      KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
    expect(await file.topics.admin.listTopics()).not.toContain("not-auto");
  });
});
