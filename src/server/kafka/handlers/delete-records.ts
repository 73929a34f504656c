import { defineApi } from "../api-handler.js";
import {
  deleteRecords,
  type DeleteRecordsRequest,
  type DeleteRecordsResponse,
} from "../protocol/schemas/index.js";
import { attempt } from "./kafka-errors.js";

/** The offset that asks DeleteRecords to delete up to the high watermark. */
const HIGH_WATERMARK = -1;

/**
 * DeleteRecords: moves each partition's log start up to the offset given (-1: its high
 * watermark), as the library's `deleteRecords` does, and answers the new log start (the low
 * watermark); an offset past the high watermark is OFFSET_OUT_OF_RANGE.
 */
export const deleteRecordsApi = defineApi<DeleteRecordsRequest, DeleteRecordsResponse>({
  schema: deleteRecords,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, context) {
    const admin = context.backend.admin;
    const topics = [];
    for (const topic of request.topics) {
      const partitions = [];
      for (const { partitionIndex, offset } of topic.partitions) {
        const result = await attempt(async () => {
          const before =
            offset === HIGH_WATERMARK
              ? (await admin.describePartition(topic.name, partitionIndex)).highWatermark
              : offset;
          await admin.deleteRecords(topic.name, partitionIndex, before);
          return (await admin.describePartition(topic.name, partitionIndex)).logStartOffset;
        });
        partitions.push({
          partitionIndex,
          lowWatermark: result.value ?? -1,
          errorCode: result.errorCode,
        });
      }
      topics.push({ name: topic.name, partitions });
    }
    return { throttleTimeMs: 0, topics };
  },
});
