import {
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type MsgRequest,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { type MsgHdrs, TimeoutError } from "@nats-io/transport-node";
import {
  CompressionCodec,
  type CompressionName,
  MAX_DECOMPRESSED_BATCH_BYTES,
  type RecordInput,
  codecByName,
} from "../../engine/index.js";
import type { TopicConfig } from "../../messaging/topics/topic-admin.js";
import type { ConsumerRecord } from "../../messaging/topics/topic-consumer.js";
import { TopicError } from "../../messaging/topics/topic-error.js";
import type { StreamMessage } from "./leader-reads.js";
import { streamInfo } from "./nats-connection.js";
import type { NatsTopicDefinition } from "./nats-topic-catalog.js";
import { retryWhileUnavailable } from "./retry-unavailable.js";
import { WireHeaders, headerLine } from "./wire-headers.js";

/** The window in which a publish sent again with the same `Nats-Msg-Id` is stored once. */
export const PRODUCER_DUPLICATE_WINDOW_MS = 2 * 60_000;
/** Room for a record's headers (key, timestamp, record headers) beyond maxMessageBytes. */
const HEADER_ALLOWANCE_BYTES = 64 * 1024;

/**
 * One partition of a topic: its own stream `<namespace>_T_<uid>_<p>` with one subject
 * `<namespace>.topic.<uid>.<p>`, one JetStream message per record. A stream's sequence is
 * dense (1, 2, 3, ... and a purge moves the first one up without renumbering), so the record at
 * stream sequence s has offset s - 1, exactly Kafka's dense per-partition offsets.
 */
export interface PartitionAddress {
  readonly stream: string;
  readonly subject: string;
}

export function partitionAddress(
  namespace: string,
  topic: Pick<NatsTopicDefinition, "uid">,
  partition: number,
): PartitionAddress {
  return {
    stream: `${namespace}_T_${topic.uid}_${partition}`,
    subject: `${namespace}.topic.${topic.uid}.${partition}`,
  };
}

/** The pause before listing a topic's streams again after removing some. */
const RELIST_MS = 100;
/** At most this many listings by one removal. */
const MAX_LISTINGS = 10;

/**
 * Removes every partition stream of the topic incarnation `uid`, found by subject: also those a
 * grow made that the catalog never recorded (its write lost to the delete). A stream whose
 * creation was just answered can be missing from a listing for a moment (a CI run left one
 * behind that way under load), so after removing any it lists again, until a listing finds none.
 */
export async function removeTopicStreams(
  jsm: JetStreamManager,
  namespace: string,
  topic: Pick<NatsTopicDefinition, "uid">,
): Promise<void> {
  for (let listing = 1; listing <= MAX_LISTINGS; listing++) {
    const names: string[] = [];
    for await (const name of jsm.streams.names(`${namespace}.topic.${topic.uid}.>`))
      names.push(name);
    if (names.length === 0) return;
    for (const name of names) await removePartitionStream(jsm, { stream: name });
    await new Promise((resolve) => setTimeout(resolve, RELIST_MS));
  }
}

/** The stream settings a topic's config asks for. */
function streamConfig(
  address: PartitionAddress,
  config: TopicConfig,
  replicas: number,
): Partial<StreamConfig> & { name: string } {
  return {
    name: address.stream,
    subjects: [address.subject],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
    // Retention runs on the servers' clocks (nanoseconds; 0 is unbounded).
    max_age: config.retentionMs < 0 ? 0 : config.retentionMs * 1_000_000,
    max_bytes: config.retentionBytes < 0 ? -1 : config.retentionBytes,
    max_msg_size: config.maxMessageBytes + HEADER_ALLOWANCE_BYTES,
    // JetStream wants the duplicate window within max_age.
    duplicate_window:
      Math.min(
        PRODUCER_DUPLICATE_WINDOW_MS,
        config.retentionMs < 0 ? Number.MAX_SAFE_INTEGER : config.retentionMs,
      ) * 1_000_000,
  };
}

export async function createPartitionStream(
  jsm: JetStreamManager,
  address: PartitionAddress,
  config: TopicConfig,
  replicas: number,
): Promise<void> {
  // The name holds the topic's uid, so a second try finds or makes this very stream.
  await retryWhileUnavailable(() => jsm.streams.add(streamConfig(address, config, replicas)), {
    creatingStream: true,
  });
}

/** JetStream's "stream name already in use with a different configuration". */
const STREAM_NAME_IN_USE = 10058;

/**
 * Creates the partition's stream, or, when it exists with another configuration (made by an
 * earlier try, before the topic's config changed), brings it to this one.
 */
export async function ensurePartitionStream(
  jsm: JetStreamManager,
  address: PartitionAddress,
  config: TopicConfig,
  replicas: number,
): Promise<void> {
  try {
    await createPartitionStream(jsm, address, config, replicas);
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === STREAM_NAME_IN_USE)) throw error;
    await updatePartitionStream(jsm, address, config, replicas);
  }
}

export async function updatePartitionStream(
  jsm: JetStreamManager,
  address: PartitionAddress,
  config: TopicConfig,
  replicas: number,
): Promise<void> {
  const { name: _name, ...rest } = streamConfig(address, config, replicas);
  await jsm.streams.update(address.stream, rest);
}

/** Tries of a partition stream's delete that got no answer (see removePartitionStream). */
const DELETE_TRIES = 4;

/**
 * Deletes a partition's stream; one already gone (deleted by another process) is fine. A delete
 * left unanswered is tried again: nats-server may hold a delete that races the stream's creation
 * (more so with replicas 3) past the client's timeout, and a stream left behind would outlive
 * its topic. Any other failure, or a last try unanswered, is thrown.
 */
export async function removePartitionStream(
  jsm: JetStreamManager,
  address: Pick<PartitionAddress, "stream">,
): Promise<void> {
  for (let tries = 1; ; tries++) {
    try {
      await retryWhileUnavailable(() => jsm.streams.delete(address.stream));
      return;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)
        return;
      if (!(error instanceof TimeoutError) || tries >= DELETE_TRIES) throw error;
    }
  }
}

/** Where a partition's log stands, from its stream's state. */
export interface PartitionState {
  readonly logStartOffset: number;
  readonly highWatermark: number;
  readonly sizeBytes: number;
}

export async function partitionState(
  jsm: JetStreamManager,
  address: PartitionAddress,
): Promise<PartitionState> {
  const { state } = await streamInfo(jsm, address.stream);
  // An empty stream reports first_seq = last_seq + 1 after a purge, and 0 / 0 when new.
  const highWatermark = state.last_seq;
  const logStartOffset = state.messages === 0 ? highWatermark : state.first_seq - 1;
  return { logStartOffset, highWatermark, sizeBytes: state.bytes };
}

/** Kafka's DeleteRecords: a purge of every sequence before `beforeOffset + 1`. */
export async function deletePartitionRecords(
  jsm: JetStreamManager,
  address: PartitionAddress,
  beforeOffset: number,
): Promise<void> {
  const { highWatermark } = await partitionState(jsm, address);
  if (!Number.isSafeInteger(beforeOffset) || beforeOffset < 0 || beforeOffset > highWatermark)
    throw new TopicError(
      "OFFSET_OUT_OF_RANGE",
      `beforeOffset: expected an offset from 0 to ${highWatermark}, got ${beforeOffset}`,
      "beforeOffset",
    );
  await jsm.streams.purge(address.stream, { seq: beforeOffset + 1 });
}

/**
 * The first record at `offset` or after it, with its timestamp, read without decoding the rest;
 * undefined when there is none. Compaction leaves gaps, so the record asked for may be gone.
 */
async function recordFrom(
  jsm: JetStreamManager,
  address: PartitionAddress,
  offset: number,
): Promise<{ offset: number; timestamp: number } | undefined> {
  // The message-get API takes "next_by_subj" with a sequence (the typed client only offers it
  // for direct gets, which a follower may answer).
  const query = { seq: offset + 1, next_by_subj: address.subject } as unknown as MsgRequest;
  try {
    const m = await jsm.streams.getMessage(address.stream, query);
    return m === null ? undefined : { offset: m.seq - 1, timestamp: Number(m.header.get("t")) };
  } catch {
    return undefined; // deleted meanwhile
  }
}

/**
 * The first offset whose record's timestamp is >= `timestampMs`, or the high watermark: a
 * binary search over the stream, reading one message per step (the first at or after the
 * middle, so gaps left by compaction are stepped over). It assumes a partition's timestamps do
 * not decrease (as records sent with the producer's clock do).
 */
export async function offsetForTimestamp(
  jsm: JetStreamManager,
  address: PartitionAddress,
  timestampMs: number,
): Promise<number> {
  const { logStartOffset, highWatermark } = await partitionState(jsm, address);
  let low = logStartOffset;
  let high = highWatermark;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const found = await recordFrom(jsm, address, middle);
    if (found === undefined || found.offset >= high || found.timestamp >= timestampMs)
      high = middle;
    else low = found.offset + 1;
  }
  if (low >= highWatermark) return highWatermark;
  return (await recordFrom(jsm, address, low))?.offset ?? highWatermark;
}

// ------------------------------------------------------------------ records as messages

/**
 * A record as one message: the value (compressed with the producer's codec, if any) as
 * payload; key (base64), timestamp, record headers and codec as message headers, and the
 * `Nats-Msg-Id` of an idempotent producer.
 */
export function encodeRecord(
  record: RecordInput,
  compression: CompressionName,
  msgId: string | undefined,
): { payload: Uint8Array; headers: MsgHdrs } {
  // Every value here is digits, hex, base64 or JSON text: none holds a line break, and only
  // the JSON of record headers can hold more than ASCII.
  let lines = msgId === undefined ? "" : headerLine("Nats-Msg-Id", msgId);
  lines += headerLine("t", String(record.timestamp));
  if (record.key !== null && record.key !== undefined)
    lines += headerLine("k", record.key.toString("base64"));
  const recordHeaders = record.headers?.length ? record.headers : undefined;
  if (recordHeaders !== undefined)
    lines += headerLine(
      "h",
      JSON.stringify(recordHeaders.map((x) => [x.key, x.value?.toString("base64") ?? null])),
    );
  let payload: Buffer = record.value ?? Buffer.alloc(0);
  if (record.value === null || record.value === undefined) lines += headerLine("n", "1");
  else if (compression !== "none") {
    payload = codecByName(compression)!.compress(payload);
    lines += headerLine("c", String(CompressionCodec[compression]));
  }
  return { payload, headers: WireHeaders.of(lines, recordHeaders === undefined) };
}

const CODEC_NAMES = new Map<number, CompressionName>(
  Object.entries(CompressionCodec).map(([name, id]) => [id, name as CompressionName]),
);

export function decodeRecord(topic: string, partition: number, m: StreamMessage): ConsumerRecord {
  const h = m.headers;
  const key = h?.get("k");
  const headers = h?.get("h");
  let value: Buffer | null = null;
  if (h?.get("n") !== "1") {
    value = Buffer.from(m.data);
    const codec = h?.get("c");
    if (codec !== undefined && codec !== "") {
      const name = CODEC_NAMES.get(Number(codec));
      const implementation = name === undefined ? undefined : codecByName(name);
      if (implementation === undefined)
        throw new TopicError(
          "CORRUPT_MESSAGE",
          `${topic}-${partition} offset ${m.seq - 1}: unknown codec ${codec}`,
        );
      value = implementation.decompress(value, MAX_DECOMPRESSED_BATCH_BYTES);
    }
  }
  return {
    topic,
    partition,
    offset: m.seq - 1,
    timestamp: Number(h?.get("t")),
    key: key === undefined || key === "" ? null : Buffer.from(key, "base64"),
    value,
    headers:
      headers === undefined || headers === ""
        ? []
        : (JSON.parse(headers) as Array<[string, string | null]>).map(([k, v]) => ({
            key: k,
            value: v === null ? null : Buffer.from(v, "base64"),
          })),
  };
}

/** The ordered-consumer start for reading from `offset` on. */
export function startAt(offset: number): {
  deliver_policy: DeliverPolicy;
  opt_start_seq?: number;
} {
  return offset <= 0
    ? { deliver_policy: DeliverPolicy.All }
    : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: offset + 1 };
}
