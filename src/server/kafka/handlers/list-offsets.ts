import { SluiceError } from "../../../errors/index.js";
import { decodeRecords, readBatchHeader } from "../../../engine/index.js";
import { defineApi, type RequestContext } from "../api-handler.js";
import { KafkaErrorCode } from "../protocol/error-codes.js";
import {
  listOffsets,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
} from "../protocol/schemas/index.js";
import { errorCodeOf } from "./kafka-errors.js";

type PartitionAnswer = NonNullable<
  NonNullable<ListOffsetsResponse["topics"]>[number]["partitions"]
>[number];

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;

/**
 * ListOffsets: latest (-1, the high watermark, or the last stable offset under read_committed),
 * earliest (-2, the log start) or the first offset at or after a timestamp (-1 when there is
 * none, as Kafka answers). Version 7's max-timestamp query (-3) is not served: the table stops at 6.
 */
export const listOffsetsApi = defineApi<ListOffsetsRequest, ListOffsetsResponse>({
  schema: listOffsets,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, context) {
    const readCommitted = request.isolationLevel === 1;
    const topics = [];
    for (const topic of request.topics) {
      const partitions: PartitionAnswer[] = [];
      for (const p of topic.partitions)
        partitions.push(
          await offsetFor(topic.name, p.partitionIndex, p.timestamp, readCommitted, context),
        );
      topics.push({ name: topic.name, partitions });
    }
    return { topics };
  },
});

async function offsetFor(
  topic: string,
  partition: number,
  timestamp: number,
  readCommitted: boolean,
  context: RequestContext,
): Promise<PartitionAnswer> {
  try {
    const state = await context.backend.admin.describePartition(topic, partition);
    let offset: number;
    let foundTimestamp = -1;
    if (timestamp === LATEST) offset = readCommitted ? state.lastStableOffset : state.highWatermark;
    else if (timestamp === EARLIEST) offset = state.logStartOffset;
    else if (timestamp < 0 || timestamp === MAX_TIMESTAMP)
      return {
        partitionIndex: partition,
        errorCode: KafkaErrorCode.INVALID_REQUEST,
        offset: -1,
        timestamp: -1,
      };
    else {
      // As Kafka's ReplicaManager.fetchOffsetForTimestamp: the offset found must be below the
      // last fetchable offset, the last stable offset under read_committed; else none (-1).
      const fetchable = readCommitted ? state.lastStableOffset : state.highWatermark;
      offset = await context.backend.admin.offsetForTimestamp(topic, partition, timestamp);
      if (offset < 0 || offset >= fetchable) offset = -1;
      else foundTimestamp = await recordTimestamp(topic, partition, offset, context);
    }
    return {
      partitionIndex: partition,
      errorCode: KafkaErrorCode.NONE,
      oldStyleOffsets: offset < 0 ? [] : [offset],
      timestamp: foundTimestamp,
      offset,
      leaderEpoch: 0,
    };
  } catch (error) {
    return { partitionIndex: partition, errorCode: errorCodeOf(error), offset: -1, timestamp: -1 };
  }
}

/** The timestamp of the record at `offset` (read from its stored batch). */
async function recordTimestamp(
  topic: string,
  partition: number,
  offset: number,
  context: RequestContext,
): Promise<number> {
  const read = await context.backend.partitions.read(
    topic,
    partition,
    offset,
    1,
    "read_uncommitted",
  );
  const header = readBatchHeader(read.bytes, 0);
  if (header instanceof SluiceError) return -1;
  const records = decodeRecords(read.bytes, 0, header, undefined, {
    fromOffset: offset,
    maxRecords: 1,
  });
  return records instanceof SluiceError ? -1 : (records[0]?.timestamp ?? -1);
}
