import { NO_RESPONSE, defineApi, type RequestContext } from "../api-handler.js";
import { KafkaErrorCode } from "../protocol/error-codes.js";
import { produce, type ProduceRequest, type ProduceResponse } from "../protocol/schemas/index.js";
import { errorMessageOf, producerErrorCode } from "./kafka-errors.js";

/** Kafka answers a fenced producer's batch with INVALID_PRODUCER_EPOCH at every Produce version. */
const FENCED_FROM = Number.POSITIVE_INFINITY;

type PartitionResponse = NonNullable<
  NonNullable<ProduceResponse["responses"]>[number]["partitionResponses"]
>[number];

/** Where the magic byte sits in a batch: RecordBatch v2 (magic 2) is the only format stored. */
const MAGIC_OFFSET = 16;

/**
 * Produce: each partition's RecordBatch is appended as the client encoded it (no re-encoding).
 * v3 and up carry RecordBatch v2; v0-v2 are advertised (librdkafka reads compression support
 * from Produce v0 being listed) but a request at those versions closes the connection.
 */
export const produceApi = defineApi<ProduceRequest, ProduceResponse>({
  schema: produce,
  minVersion: 3,
  maxVersion: 9,
  advertisedMinVersion: 0,
  async handle(request, context) {
    const acks = request.acks;
    const validAcks = acks === 0 || acks === 1 || acks === -1;
    const responses = await Promise.all(
      request.topicData.map(async (topic) => ({
        name: topic.name,
        partitionResponses: await Promise.all(
          topic.partitionData.map((partition) =>
            validAcks
              ? append(topic.name, partition.index, partition.records, context)
              : Promise.resolve(
                  failed(
                    partition.index,
                    KafkaErrorCode.INVALID_REQUIRED_ACKS,
                    `acks: expected 0, 1 or -1, got ${acks}`,
                  ),
                ),
          ),
        ),
      })),
    );
    if (acks === 0) {
      // The client reads no answer: a failure can only be told by closing the connection, as Kafka does.
      const failure = responses
        .flatMap((t) => t.partitionResponses)
        .find((p) => p.errorCode !== KafkaErrorCode.NONE);
      if (failure !== undefined)
        throw new Error(`produce with acks=0 failed: ${failure.errorMessage ?? failure.errorCode}`);
      return NO_RESPONSE;
    }
    return { responses };
  },
});

async function append(
  topic: string,
  partition: number,
  records: Buffer | null,
  context: RequestContext,
): Promise<PartitionResponse> {
  if (records === null || records.length <= MAGIC_OFFSET)
    return failed(partition, KafkaErrorCode.CORRUPT_MESSAGE, "records: expected one RecordBatch");
  if (records[MAGIC_OFFSET] !== 2)
    return failed(
      partition,
      KafkaErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
      `records: expected RecordBatch v2 (magic 2), got magic ${records[MAGIC_OFFSET]}`,
    );
  try {
    const appended = await context.backend.partitions.append(topic, partition, records);
    return {
      index: partition,
      errorCode: KafkaErrorCode.NONE,
      baseOffset: appended.baseOffset,
      logAppendTimeMs: -1,
      logStartOffset: appended.logStartOffset,
    };
  } catch (error) {
    return failed(
      partition,
      producerErrorCode(error, context.apiVersion, FENCED_FROM),
      errorMessageOf(error),
    );
  }
}

function failed(
  index: number,
  errorCode: number,
  errorMessage: string | null,
): PartitionResponse & { errorCode: number; errorMessage: string | null } {
  return { index, errorCode, baseOffset: -1, errorMessage };
}
