import { SluiceError, asError } from "../../errors/index.js";
import { readBatchHeader } from "../../engine/index.js";
import type { EmbeddedTopicService } from "../../messaging/topics/embedded-topic-service.js";
import { TopicError, type IsolationLevel } from "../../messaging/topics/index.js";
import type { KafkaBackend, PartitionBatches } from "./kafka-backend.js";

const NO_BYTES = Buffer.alloc(0);

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

interface PartitionLogView {
  readonly topic: string;
  readonly partition: number;
  readonly logStartOffset: number;
  readonly highWatermark: number;
  readonly log: { readBatches(offset: number, maxBytes: number): Buffer };
}

function readBatches(
  log: PartitionLogView,
  offset: number,
  maxBytes: number,
  isolation: IsolationLevel,
): PartitionBatches {
  const highWatermark = log.highWatermark;
  // No transactions are written yet, so the last stable offset is the high watermark.
  const lastStableOffset = highWatermark;
  const logStartOffset = log.logStartOffset;
  const state = { highWatermark, lastStableOffset, logStartOffset };
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
  while (keep < bytes.length) {
    const header = readBatchHeader(bytes, keep);
    if (header instanceof SluiceError || header.baseOffset >= end) break;
    if (keep > 0 && keep + header.sizeBytes > maxBytes) break;
    keep += header.sizeBytes;
  }
  return { bytes: keep === bytes.length ? bytes : bytes.subarray(0, keep), ...state };
}
