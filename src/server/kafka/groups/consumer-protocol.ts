// The bytes Kafka's consumer clients put in JoinGroup (a subscription) and expect back from
// SyncGroup (an assignment), for groups whose assignments the coordinator computes itself.
import type { TopicPartition } from "../../../messaging/topics/index.js";
import { KafkaProtocolError } from "../protocol/protocol-error.js";
import { WireReader } from "../protocol/wire-reader.js";
import { WireWriter } from "../protocol/wire-writer.js";

export interface Subscription {
  readonly topics: readonly string[];
  /** Partitions the member owns now (version 1 and up; the cooperative protocol sends them). */
  readonly owned: readonly TopicPartition[];
}

function string(reader: WireReader): string {
  const length = reader.int16();
  if (length < 0) throw new KafkaProtocolError("topic", "a topic name, got null");
  return reader.utf8(length);
}

function count(reader: WireReader, elementBytes: number): number {
  const n = reader.int32();
  if (n < 0 || n * elementBytes > reader.remaining())
    throw new KafkaProtocolError(
      "count",
      `at most ${reader.remaining()} bytes of elements, got ${n}`,
    );
  return n;
}

/** Decodes ConsumerProtocolSubscription (any version: later fields are not needed here). */
export function decodeSubscription(metadata: Buffer): Subscription {
  const reader = new WireReader(metadata);
  const version = reader.int16();
  if (version < 0) throw new KafkaProtocolError("version", `a version >= 0, got ${version}`);
  const topics = Array.from({ length: count(reader, 2) }, () => string(reader));
  const userData = reader.int32();
  if (userData > 0) reader.take(userData);
  const owned: TopicPartition[] = [];
  if (version >= 1 && reader.remaining() > 0) {
    const topicCount = count(reader, 6);
    for (let t = 0; t < topicCount; t++) {
      const topic = string(reader);
      const partitions = count(reader, 4);
      for (let p = 0; p < partitions; p++) owned.push({ topic, partition: reader.int32() });
    }
  }
  return { topics, owned };
}

function writeString(writer: WireWriter, value: string): void {
  const length = Buffer.byteLength(value);
  writer.int16(length);
  writer.utf8(value, length);
}

function byTopic(partitions: readonly TopicPartition[]): Map<string, number[]> {
  const topics = new Map<string, number[]>();
  for (const { topic, partition } of partitions)
    topics.set(topic, [...(topics.get(topic) ?? []), partition]);
  return topics;
}

/** ConsumerProtocolAssignment v0: the partitions a member reads, no user data. */
export function encodeAssignment(partitions: readonly TopicPartition[]): Buffer {
  const writer = new WireWriter();
  writer.int16(0);
  const topics = byTopic(partitions);
  writer.int32(topics.size);
  for (const [topic, indexes] of topics) {
    writeString(writer, topic);
    writer.int32(indexes.length);
    for (const p of indexes.sort((a, b) => a - b)) writer.int32(p);
  }
  writer.int32(0);
  return writer.toBuffer();
}

/** ConsumerProtocolSubscription v0 of a member that is not a Kafka client (a library consumer). */
export function encodeSubscription(topics: readonly string[]): Buffer {
  const writer = new WireWriter();
  writer.int16(0);
  writer.int32(topics.length);
  for (const topic of topics) writeString(writer, topic);
  writer.int32(0);
  return writer.toBuffer();
}

/** Decodes ConsumerProtocolAssignment (for tests and for DescribeGroups answers). */
export function decodeAssignment(assignment: Buffer): TopicPartition[] {
  const reader = new WireReader(assignment);
  reader.int16();
  const partitions: TopicPartition[] = [];
  const topicCount = count(reader, 6);
  for (let t = 0; t < topicCount; t++) {
    const topic = string(reader);
    const n = count(reader, 4);
    for (let p = 0; p < n; p++) partitions.push({ topic, partition: reader.int32() });
  }
  return partitions;
}
