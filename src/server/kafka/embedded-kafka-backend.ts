import { SluiceError, asError } from "../../errors/index.js";
import { readBatchHeader } from "../../engine/index.js";
import type { EmbeddedTopicService } from "../../messaging/topics/embedded-topic-service.js";
import { TopicError, type IsolationLevel } from "../../messaging/topics/index.js";
import type { PartitionLog } from "../../messaging/topics/partition-log.js";
import type { KafkaBackend, PartitionBatches } from "./kafka-backend.js";

const NO_BYTES = Buffer.alloc(0);
const NONE: PartitionBatches["abortedTransactions"] = [];

/**
 * The Kafka listener's backend on embedded topics: admin calls go to the topic admin, produced
 * batches to the partition logs as they are (verified first: CRC, size, records, bounded
 * decompression), fetches read stored batches up to the high watermark.
 */
export function embeddedKafkaBackend(topics: EmbeddedTopicService): KafkaBackend {
  const broker = topics.broker;
  return {
    admin: topics.admin,
    groups: topics.groupCoordinator,
    transactions: topics.transactions,
    partitions: {
      async append(topic, partition, batch) {
        const appended = await broker.appendBatch(topic, partition, batch, true);
        return {
          baseOffset: appended.baseOffset,
          logStartOffset: broker.partitionLog(topic, partition).logStartOffset,
        };
      },
      read(topic, partition, offset, maxBytes, isolation) {
        try {
          const log = broker.partitionLog(topic, partition);
          return Promise.resolve(readBatches(log, offset, maxBytes, isolation));
        } catch (error) {
          return Promise.reject(asError(error));
        }
      },
      allocateProducerId: () => broker.allocateProducerId(),
      async waitForRecords(topic, partition, offset, signal) {
        await broker.partitionLog(topic, partition).waitForRecords(offset, signal);
      },
    },
  };
}

type PartitionLogView = Pick<
  PartitionLog,
  | "topic"
  | "partition"
  | "logStartOffset"
  | "highWatermark"
  | "lastStableOffset"
  | "abortedTransactions"
  | "log"
>;

function readBatches(
  log: PartitionLogView,
  offset: number,
  maxBytes: number,
  isolation: IsolationLevel,
): PartitionBatches {
  const highWatermark = log.highWatermark;
  const lastStableOffset = log.lastStableOffset;
  const logStartOffset = log.logStartOffset;
  const state = { highWatermark, lastStableOffset, logStartOffset, abortedTransactions: NONE };
  if (offset < logStartOffset || offset > highWatermark)
    throw new TopicError(
      "OFFSET_OUT_OF_RANGE",
      `offset: expected ${logStartOffset} to ${highWatermark} in ${log.topic}-${log.partition}, got ${offset}`,
      "offset",
    );
  const end = isolation === "read_committed" ? lastStableOffset : highWatermark;
  if (offset >= end) return { bytes: NO_BYTES, ...state };
  const bytes = log.log.readBatches(offset, Math.max(1, maxBytes));
  // Keep whole batches below the end (appended but unacknowledged ones are not served) and within
  // maxBytes, except that the first batch always goes whole.
  let keep = 0;
  let servedEnd = offset;
  while (keep < bytes.length) {
    const header = readBatchHeader(bytes, keep);
    if (header instanceof SluiceError || header.baseOffset >= end) break;
    if (keep > 0 && keep + header.sizeBytes > maxBytes) break;
    keep += header.sizeBytes;
    servedEnd = header.baseOffset + header.lastOffsetDelta + 1;
  }
  const served = keep === bytes.length ? bytes : bytes.subarray(0, keep);
  // Kafka lists the aborted transactions overlapping what is served; the client drops their
  // records itself, so the stored batches are still served as they are.
  const abortedTransactions =
    isolation === "read_committed" && keep > 0
      ? log
          .abortedTransactions(offset, servedEnd)
          .map(({ producerId, firstOffset }) => ({ producerId, firstOffset }))
      : NONE;
  return { bytes: served, ...state, abortedTransactions };
}
