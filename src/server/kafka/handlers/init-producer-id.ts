import { defineApi } from "../api-handler.js";
import { KafkaErrorCode } from "../protocol/error-codes.js";
import {
  initProducerId,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
} from "../protocol/schemas/index.js";
import { errorCodeOf } from "./kafka-errors.js";

/** The largest producer epoch; past it Kafka gives a new producer id (as here). */
const MAX_EPOCH = 32766;

/**
 * InitProducerId for idempotent producers: a new producer id (epoch 0) from the backend, whose
 * partition logs then check each batch's sequence (a retry is acknowledged, not written twice;
 * a gap is OUT_OF_ORDER_SEQUENCE_NUMBER). v3+ clients hand their id back to bump the epoch.
 * Transactional ids are refused until transactions are served.
 */
export const initProducerIdApi = defineApi<InitProducerIdRequest, InitProducerIdResponse>({
  schema: initProducerId,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, context) {
    if (request.transactionalId !== null)
      return {
        errorCode: KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        producerId: -1,
        producerEpoch: -1,
      };
    if (request.producerId >= 0 && request.producerEpoch >= 0 && request.producerEpoch < MAX_EPOCH)
      return {
        errorCode: KafkaErrorCode.NONE,
        producerId: request.producerId,
        producerEpoch: request.producerEpoch + 1,
      };
    try {
      const producerId = await context.backend.partitions.allocateProducerId();
      return { errorCode: KafkaErrorCode.NONE, producerId, producerEpoch: 0 };
    } catch (error) {
      return { errorCode: errorCodeOf(error), producerId: -1, producerEpoch: -1 };
    }
  },
});
