import type { FastifyInstance } from "fastify";
import type { WebSocket } from "ws";
import type {
  ConsumerRecord,
  ProducerRecord,
  RebalanceListener,
  TopicConsumer,
  TopicPartition,
  TopicProducer,
  TopicService,
} from "../../messaging/topics/index.js";
import { type JsonFrame, onJsonFrames } from "../../net/json-frames.js";
import { describeValue } from "../../errors/index.js";
import { restError } from "../rest-errors.js";

/** A byte field on the wire: text as is, bytes as `{"b64": …}`. */
type WireBytes = string | null | { readonly b64: string };

export function fromWire(value: unknown): unknown {
  if (
    value !== null &&
    typeof value === "object" &&
    typeof (value as { b64?: unknown }).b64 === "string"
  )
    return Buffer.from((value as { b64: string }).b64, "base64");
  return value;
}

const b64 = (bytes: Buffer | null): string | null =>
  bytes === null ? null : bytes.toString("base64");

/** A consumed record with its bytes as base64. */
export function recordToWire(r: ConsumerRecord): Record<string, unknown> {
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: b64(r.key),
    value: b64(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: b64(h.value) })),
  };
}

function recordFromWire(record: Record<string, unknown>): ProducerRecord {
  const out: Record<string, unknown> = { ...record };
  if ("key" in out) out.key = fromWire(out.key);
  if ("value" in out) out.value = fromWire(out.value);
  if (Array.isArray(out.headers))
    out.headers = (out.headers as Array<Record<string, unknown>>).map((h) => ({
      ...h,
      value: fromWire(h.value as WireBytes),
    }));
  return out as unknown as ProducerRecord;
}

const ADMIN_METHODS = new Set([
  "createTopic",
  "deleteTopic",
  "listTopics",
  "describeTopic",
  "alterTopicConfig",
  "createPartitions",
  "describePartition",
  "offsetForTimestamp",
  "deleteRecords",
  "listGroups",
  "describeGroup",
  "listGroupOffsets",
  "alterGroupOffsets",
  "deleteGroup",
]);

interface Call {
  readonly id: number;
  readonly op: string;
  readonly args?: unknown[];
}

/** A frame as a call, or a SyntaxError naming what is wrong with it. */
function checkedCall(frame: JsonFrame): Call {
  if (typeof frame.id !== "number")
    throw new SyntaxError(`a session call's id must be a number, got ${describeValue(frame.id)}`);
  if (typeof frame.op !== "string")
    throw new SyntaxError(`a session call's op must be a string, got ${describeValue(frame.op)}`);
  if (frame.args !== undefined && !Array.isArray(frame.args))
    throw new SyntaxError(
      `a session call's args must be an array when given, got ${describeValue(frame.args)}`,
    );
  return frame as unknown as Call;
}

/** What the client mirrors to answer its synchronous methods (assignment, position, paused). */
function consumerState(consumer: TopicConsumer): Record<string, unknown> {
  const assignment = consumer.assignment();
  return {
    assignment,
    paused: consumer.paused(),
    positions: assignment.map((tp) => {
      try {
        return consumer.position(tp);
      } catch {
        return null;
      }
    }),
    group: consumer.groupMetadata(),
  };
}

/**
 * `GET /topics/session` as a WebSocket: one producer or consumer living on the server on
 * behalf of a remote client (`connect(url).topics`), driven by calls
 * `{"id","op","args"}` and answered `{"id","ok","result","state"}`. The server's own
 * producer and consumer do the work, so the remote client has their semantics exactly:
 * group membership, rebalances (the client's listener runs before the rebalance goes on),
 * transactions. A socket that drops without `close` is a crashed client: the consumer stops
 * heartbeating and the group reassigns its partitions when its session times out.
 */
export function registerTopicSession(
  app: FastifyInstance,
  topics: TopicService,
  shutdown: AbortSignal,
): void {
  app.get("/topics/session", { websocket: true }, (socket: WebSocket) => {
    serveSession(socket, topics, shutdown);
  });
}

function serveSession(socket: WebSocket, topics: TopicService, shutdown: AbortSignal): void {
  let producer: TopicProducer | undefined;
  let consumer: TopicConsumer | undefined;
  let closedCleanly = false;
  let listenerCalls = 0;
  const listenerDone = new Map<number, () => void>();
  const send = (frame: unknown): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
  };
  const onShutdown = (): void => socket.close(1001, "server shutting down");
  shutdown.addEventListener("abort", onShutdown, { once: true });

  const listener = (names: readonly string[]): RebalanceListener => {
    const call =
      (event: string) =>
      (partitions: readonly TopicPartition[]): Promise<void> =>
        new Promise<void>((resolve) => {
          const id = ++listenerCalls;
          listenerDone.set(id, resolve);
          send({ type: "listener", id, event, partitions });
          if (socket.readyState !== socket.OPEN) resolve();
        });
    return Object.fromEntries(names.map((name) => [name, call(name)]));
  };

  // Polls in flight, so the client can cancel one (its AbortSignal fired).
  const polls = new Map<number, AbortController>();
  const run = async (c: Call): Promise<unknown> => {
    const args = c.args ?? [];
    if (c.op === "cancel") {
      polls.get(args[0] as number)?.abort();
      return null;
    }
    if (c.op.startsWith("admin.")) {
      const method = c.op.slice("admin.".length);
      if (!ADMIN_METHODS.has(method)) throw new SyntaxError(`unknown admin call ${method}`);
      const admin = topics.admin as unknown as Record<
        string,
        (...a: unknown[]) => Promise<unknown>
      >;
      return admin[method]!.call(topics.admin, ...args);
    }
    if (c.op === "producer") {
      producer = topics.producer(args[0] as never);
      return null;
    }
    if (c.op === "consumer") {
      consumer = topics.consumer(args[0] as never);
      return null;
    }
    if (producer !== undefined) {
      const p = producer;
      switch (c.op) {
        case "send":
          return p.send(recordFromWire(args[0] as Record<string, unknown>));
        case "sendBatch":
          return p.sendBatch((args[0] as Array<Record<string, unknown>>).map(recordFromWire));
        case "flush":
          return p.flush();
        case "initTransactions":
          return p.initTransactions();
        case "beginTransaction":
          return p.beginTransaction();
        case "sendOffsetsToTransaction":
          return p.sendOffsetsToTransaction(args[0] as never, args[1] as never);
        case "commitTransaction":
          return p.commitTransaction();
        case "abortTransaction":
          return p.abortTransaction();
        case "close":
          closedCleanly = true;
          return p.close();
      }
    }
    if (consumer !== undefined) {
      const k = consumer;
      switch (c.op) {
        case "subscribe":
          return k.subscribe(args[0] as string[], listener((args[1] ?? []) as string[]));
        case "unsubscribe":
          return k.unsubscribe();
        case "assign":
          return k.assign(args[0] as TopicPartition[]);
        case "poll": {
          const controller = new AbortController();
          polls.set(c.id, controller);
          try {
            const options = (args[0] ?? {}) as { timeoutMs?: number };
            // Not `{ ...options, signal }`: V8 builds that on a slow path, every poll.
            const records = await k.poll(Object.assign({}, options, { signal: controller.signal }));
            return records.map(recordToWire);
          } finally {
            polls.delete(c.id);
          }
        }
        case "commitSync":
          return k.commitSync(args[0] as never);
        case "committed": {
          const committed = await k.committed(args[0] as TopicPartition[]);
          return committed.map((c) => c ?? null);
        }
        case "seek":
          return k.seek(args[0] as TopicPartition, args[1] as number);
        case "seekToBeginning":
          return k.seekToBeginning(args[0] as never);
        case "seekToEnd":
          return k.seekToEnd(args[0] as never);
        case "seekToTimestamp":
          return k.seekToTimestamp(args[0] as TopicPartition, args[1] as number);
        case "pause":
          return k.pause(args[0] as TopicPartition[]);
        case "resume":
          return k.resume(args[0] as TopicPartition[]);
        case "state":
          return null;
        case "close":
          closedCleanly = true;
          return k.close();
      }
    }
    throw new SyntaxError(`unknown session call ${JSON.stringify(c.op)}`);
  };

  const refuse = (error: unknown, id?: unknown): void =>
    send({
      ...(id === undefined ? {} : { id }),
      ok: false,
      ...restError(error),
      ...(consumer === undefined ? {} : { state: consumerState(consumer) }),
    });
  onJsonFrames(
    socket,
    "a session call",
    (frame) => {
      if (frame.type === "listenerDone") {
        listenerDone.get(frame.id as number)?.();
        listenerDone.delete(frame.id as number);
        return;
      }
      let c: Call;
      try {
        c = checkedCall(frame);
      } catch (error) {
        return refuse(error, typeof frame.id === "number" ? frame.id : undefined);
      }
      // A result that cannot be sent fails its call too, not the process.
      run(c)
        .then((result) =>
          send({
            id: c.id,
            ok: true,
            result: result ?? null,
            ...(consumer === undefined ? {} : { state: consumerState(consumer) }),
          }),
        )
        .catch((error: unknown) => refuse(error, c.id));
    },
    (error) => refuse(error, undefined),
  );
  socket.on("close", () => {
    shutdown.removeEventListener("abort", onShutdown);
    for (const resolve of listenerDone.values()) resolve();
    listenerDone.clear();
    if (closedCleanly) return;
    // A dropped client: a consumer falls silent (its group notices at session timeout), as
    // a crashed Kafka client would; a producer flushes what it accepted.
    const silent = consumer as (TopicConsumer & { silence?: () => void }) | undefined;
    if (silent?.silence !== undefined && !shutdown.aborted) silent.silence();
    else void consumer?.close().catch(() => undefined);
    void producer?.close().catch(() => undefined);
  });
}
