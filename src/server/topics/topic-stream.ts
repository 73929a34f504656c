import type { FastifyInstance, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import type {
  ConsumerRecord,
  OffsetCommits,
  OffsetReset,
  TopicService,
} from "../../messaging/topics/index.js";
import { serveCreditStream } from "../credit-stream.js";
import { EarlyFrames } from "../../net/json-frames.js";
import { closeOnFailure } from "../stream-failure.js";
import { restError } from "../rest-errors.js";
import { type BytesEncoding, encodeRecord } from "./record-codec.js";

interface StreamQuery {
  group?: string;
  partition?: number;
  offset?: number;
  autoOffsetReset?: OffsetReset;
  encoding?: BytesEncoding;
}

type StreamRequest = FastifyRequest<{ Params: { topic: string }; Querystring: StreamQuery }>;

/**
 * `GET /topics/{topic}/stream` as a WebSocket (credit flow control, see serveCreditStream):
 * with `group` the socket is a member of that consumer group (partitions rebalance as members
 * come and go; `{"type":"commit","id":…}` commits what the client was sent, or the `offsets`
 * it gives); without
 * it the socket reads every partition (or `partition`) from `offset` (default the log start).
 */
export function registerTopicStream(
  app: FastifyInstance,
  topics: TopicService,
  shutdown: AbortSignal,
): void {
  app.get(
    "/topics/:topic/stream",
    {
      websocket: true,
      schema: {
        tags: ["topics"],
        summary: "Consume a topic over a WebSocket, as a group member or from an offset",
        params: {
          type: "object",
          required: ["topic"],
          properties: { topic: { type: "string", minLength: 1 } },
        },
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            group: { type: "string", minLength: 1 },
            partition: { type: "integer", minimum: 0 },
            offset: { type: "integer", minimum: 0 },
            autoOffsetReset: { enum: ["earliest", "latest", "none"] },
            encoding: { enum: ["utf8", "base64"] },
          },
        },
      },
    },
    (socket: WebSocket, request: StreamRequest) => {
      closeOnFailure(socket, serveTopic(socket, request, topics, shutdown));
    },
  );
}

async function serveTopic(
  socket: WebSocket,
  request: StreamRequest,
  topics: TopicService,
  shutdown: AbortSignal,
): Promise<void> {
  const early = new EarlyFrames(socket);
  const q = request.query;
  const topic = request.params.topic;
  const encoding = q.encoding ?? "utf8";
  const maxPollRecords = 1000;
  const consumer = topics.consumer({
    clientId: "sluice-stream",
    maxPollRecords,
    ...(q.group === undefined ? {} : { groupId: q.group }),
    // Commits name what reached the client, never what is still held here.
    autoCommit: false,
    autoOffsetReset: q.autoOffsetReset ?? "earliest",
  });
  // Records polled beyond the client's credit wait here (at most one poll's worth).
  let held: ConsumerRecord[] = [];
  // The next offset of each partition after the records handed to the client.
  const sent = new Map<string, { topic: string; partition: number; offset: number }>();
  try {
    if (q.group !== undefined) await consumer.subscribe([topic]);
    else {
      const count =
        q.partition === undefined ? (await topics.admin.describeTopic(topic)).partitions : 1;
      const partitions = Array.from({ length: count }, (_, i) => ({
        topic,
        partition: q.partition ?? i,
      }));
      await consumer.assign(partitions);
      for (const tp of partitions)
        if (q.offset === undefined) await consumer.seekToBeginning([tp]);
        else consumer.seek(tp, q.offset);
    }
  } catch (error) {
    await consumer.close();
    socket.send(JSON.stringify({ type: "error", ...restError(error) }));
    socket.close(1008, "stream refused");
    return;
  }
  await serveCreditStream(
    socket,
    shutdown,
    {
      async pull(max, signal) {
        if (held.length === 0) held = await consumer.poll({ timeoutMs: 1000, signal });
        const taken = held.length <= max ? held : held.slice(0, max);
        held = held.length <= max ? [] : held.slice(max);
        for (const r of taken)
          sent.set(`${r.topic}/${r.partition}`, {
            topic: r.topic,
            partition: r.partition,
            offset: r.offset + 1,
          });
        return taken.map((r) => encodeRecord(r, encoding));
      },
      async command(command) {
        if (command.type !== "commit")
          throw new SyntaxError(`unknown stream command ${JSON.stringify(command.type)}`);
        const offsets = (command.offsets as OffsetCommits | undefined) ?? [...sent.values()];
        await consumer.commitSync(offsets);
        return { committed: true };
      },
      close: () => consumer.close(),
    },
    { early },
  );
}
