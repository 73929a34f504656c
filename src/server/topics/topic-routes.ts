import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type {
  Acks,
  IsolationLevel,
  TopicProducer,
  TopicService,
} from "../../messaging/topics/index.js";
import { requestSignal } from "../request-signal.js";
import { documented } from "../route-schema.js";
import {
  type BytesEncoding,
  type ProducerRecordJson,
  decodeProducerRecord,
  encodeRecord,
} from "./record-codec.js";
import * as schemas from "./topic-schemas.js";

type Json = Record<string, unknown>;
type TopicRequest<B = Json, Q = Json> = FastifyRequest<{
  Params: { topic: string; partition: number };
  Body: B;
  Querystring: Q;
}>;
type GroupRequest<B = Json> = FastifyRequest<{ Params: { group: string }; Body: B }>;

/**
 * The topics REST API: topics and partitions as resources, produce (a batch of records per
 * request, batched again by the producer), fetch from an offset (with a long poll), and
 * consumer groups with their lag and committed offsets.
 */
export function registerTopicRoutes(
  app: FastifyInstance,
  topics: TopicService,
  shutdown: AbortSignal,
): void {
  const tags = ["topics"];
  const groupTags = ["consumer groups"];
  const admin = topics.admin;
  // One producer per acks setting, shared by every request: batches fill across requests.
  const producers = new Map<string, TopicProducer>();
  const producerFor = (acks: Acks): TopicProducer => {
    let producer = producers.get(String(acks));
    if (producer === undefined) {
      producer = topics.producer({
        clientId: "sluice-rest",
        acks,
        lingerMs: 0,
        batchSize: 1024 * 1024,
        idempotent: false,
      });
      producers.set(String(acks), producer);
    }
    return producer;
  };
  app.addHook("onClose", async () => {
    for (const producer of producers.values()) await producer.close();
  });

  app.post(
    "/topics",
    documented(tags, "Create a topic", { body: schemas.createTopic }),
    async (request: FastifyRequest<{ Body: Json }>, reply) =>
      reply.status(201).send(await admin.createTopic(request.body as never)),
  );
  app.get("/topics", documented(tags, "List topics"), async () => ({
    topics: await admin.listTopics(),
  }));
  app.get(
    "/topics/:topic",
    documented(tags, "Describe a topic", { params: schemas.topicParams }),
    (request: TopicRequest) => admin.describeTopic(request.params.topic),
  );
  app.delete(
    "/topics/:topic",
    documented(tags, "Delete a topic and its data", { params: schemas.topicParams }),
    async (request: TopicRequest, reply) => {
      await admin.deleteTopic(request.params.topic);
      return reply.status(204).send();
    },
  );
  app.patch(
    "/topics/:topic/config",
    documented(tags, "Change a topic's settings", {
      params: schemas.topicParams,
      body: schemas.topicConfig,
    }),
    (request: TopicRequest) => admin.alterTopicConfig(request.params.topic, request.body),
  );
  app.post(
    "/topics/:topic/partitions",
    documented(tags, "Grow a topic to `count` partitions", {
      params: schemas.topicParams,
      body: schemas.createPartitions,
    }),
    async (request: TopicRequest<{ count: number }>, reply) => {
      await admin.createPartitions(request.params.topic, request.body.count);
      return reply.status(204).send();
    },
  );
  app.get(
    "/topics/:topic/partitions/:partition",
    documented(tags, "A partition's log start, high watermark and size", {
      params: schemas.partitionParams,
    }),
    (request: TopicRequest) =>
      admin.describePartition(request.params.topic, request.params.partition),
  );
  app.get(
    "/topics/:topic/partitions/:partition/offset",
    documented(tags, "The first offset at or after a timestamp", {
      params: schemas.partitionParams,
      querystring: schemas.offsetForTimestamp,
    }),
    async (request: TopicRequest<Json, { timestamp: number }>) => ({
      offset: await admin.offsetForTimestamp(
        request.params.topic,
        request.params.partition,
        request.query.timestamp,
      ),
    }),
  );
  app.post(
    "/topics/:topic/partitions/:partition/delete-records",
    documented(tags, "Move the partition's log start forward", {
      params: schemas.partitionParams,
      body: schemas.deleteRecords,
    }),
    async (request: TopicRequest<{ beforeOffset: number }>, reply) => {
      await admin.deleteRecords(
        request.params.topic,
        request.params.partition,
        request.body.beforeOffset,
      );
      return reply.status(204).send();
    },
  );

  app.post(
    "/topics/:topic/records",
    documented(tags, "Produce a batch of records; answers where each landed", {
      params: schemas.topicParams,
      body: schemas.produce,
    }),
    async (
      request: TopicRequest<{
        records: ProducerRecordJson[];
        encoding?: BytesEncoding;
        acks?: Acks;
      }>,
    ) => {
      const { records, encoding = "utf8", acks = 1 } = request.body;
      const topic = request.params.topic;
      const sent = await producerFor(acks).sendBatch(
        records.map((r) => decodeProducerRecord(topic, r, encoding)),
      );
      return { offsets: sent.map((m) => ({ partition: m.partition, offset: m.offset })) };
    },
  );
  app.get(
    "/topics/:topic/partitions/:partition/records",
    documented(tags, "Fetch records from an offset (long poll with waitMs)", {
      params: schemas.partitionParams,
      querystring: schemas.fetchQuery,
    }),
    (
      request: TopicRequest<
        Json,
        {
          offset?: number;
          maxRecords?: number;
          waitMs?: number;
          encoding?: BytesEncoding;
          isolationLevel?: IsolationLevel;
        }
      >,
      reply: FastifyReply,
    ) => fetchRecords(topics, request, reply, shutdown),
  );

  app.get("/groups", documented(groupTags, "List consumer groups"), async () => ({
    groups: await admin.listGroups(),
  }));
  app.get(
    "/groups/:group",
    documented(groupTags, "A group's members, assignment, committed offsets and lag", {
      params: schemas.groupParams,
    }),
    (request: GroupRequest) => admin.describeGroup(request.params.group),
  );
  app.get(
    "/groups/:group/offsets",
    documented(groupTags, "A group's committed offsets", { params: schemas.groupParams }),
    async (request: GroupRequest) => ({
      offsets: await admin.listGroupOffsets(request.params.group),
    }),
  );
  app.put(
    "/groups/:group/offsets",
    documented(groupTags, "Commit offsets for a group that has no members", {
      params: schemas.groupParams,
      body: schemas.groupOffsets,
    }),
    async (request: GroupRequest<{ offsets: never[] }>, reply) => {
      await admin.alterGroupOffsets(request.params.group, request.body.offsets);
      return reply.status(204).send();
    },
  );
  app.delete(
    "/groups/:group",
    documented(groupTags, "Delete an empty group and its offsets", {
      params: schemas.groupParams,
    }),
    async (request: GroupRequest, reply) => {
      await admin.deleteGroup(request.params.group);
      return reply.status(204).send();
    },
  );
}

async function fetchRecords(
  topics: TopicService,
  request: TopicRequest<
    Json,
    {
      offset?: number;
      maxRecords?: number;
      waitMs?: number;
      encoding?: BytesEncoding;
      isolationLevel?: IsolationLevel;
    }
  >,
  reply: FastifyReply,
  shutdown: AbortSignal,
): Promise<unknown> {
  const { topic, partition } = request.params;
  const q = request.query;
  const tp = { topic, partition };
  const consumer = topics.consumer({
    clientId: "sluice-rest",
    autoCommit: false,
    maxPollRecords: q.maxRecords ?? 500,
    ...(q.isolationLevel === undefined ? {} : { isolationLevel: q.isolationLevel }),
  });
  try {
    await consumer.assign([tp]);
    if (q.offset === undefined) await consumer.seekToBeginning([tp]);
    else consumer.seek(tp, q.offset);
    const signal = requestSignal(reply, shutdown);
    const records = await consumer.poll({ timeoutMs: q.waitMs ?? 0, signal });
    const encoding = q.encoding ?? "utf8";
    return {
      records: records.map((r) => encodeRecord(r, encoding)),
      nextOffset: consumer.position(tp),
    };
  } finally {
    await consumer.close();
  }
}
