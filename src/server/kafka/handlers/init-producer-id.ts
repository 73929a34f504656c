import { defineApi, type RequestContext } from "../api-handler.js";
import { KafkaErrorCode } from "../protocol/error-codes.js";
import {
  initProducerId,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
} from "../protocol/schemas/index.js";
import { errorCodeOf, producerErrorCode } from "./kafka-errors.js";
import { completingTransaction } from "./transactions.js";

/** InitProducerId answers PRODUCER_FENCED from v4 on (KIP-588). */
const FENCED_FROM = 4;

const failed = (errorCode: number): InitProducerIdResponse => ({
  errorCode,
  producerId: -1,
  producerEpoch: -1,
});

/**
 * InitProducerId. Without a transactional id (idempotent producers): always a new producer id
 * (epoch 0) from the backend, whatever id and epoch the request carries, as Kafka's coordinator
 * does: nothing ties such an id to one producer, so taking it back would let two producers that
 * send the same one (some clients send 0 and 0 on their first request) share one sequence, and
 * the second's first batch would be acknowledged as a duplicate and never stored. The partition
 * logs then check each batch's sequence (a retry is acknowledged, not written twice; a gap is
 * OUT_OF_ORDER_SEQUENCE_NUMBER). With a transactional id: the backend's transaction coordinator
 * gives the id its producer id and the next epoch, fencing older instances and settling what
 * they left open.
 */
export const initProducerIdApi = defineApi<InitProducerIdRequest, InitProducerIdResponse>({
  schema: initProducerId,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, context) {
    if (request.transactionalId !== null) return initTransactional(request, context);
    try {
      const producerId = await context.backend.partitions.allocateProducerId();
      return { errorCode: KafkaErrorCode.NONE, producerId, producerEpoch: 0 };
    } catch (error) {
      return failed(errorCodeOf(error));
    }
  },
});

async function initTransactional(
  request: InitProducerIdRequest,
  context: RequestContext,
): Promise<InitProducerIdResponse> {
  const transactions = context.backend.transactions;
  const transactionalId = request.transactionalId!;
  if (transactions === undefined)
    return failed(KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  if (transactionalId === "") return failed(KafkaErrorCode.INVALID_REQUEST);
  if (completingTransaction(transactions, transactionalId))
    return failed(KafkaErrorCode.CONCURRENT_TRANSACTIONS);
  // v3+ (KIP-360): a producer recovering from an error hands back its id and epoch; only the
  // current instance (or the one whose transaction timed out, one epoch behind) may go on. An id
  // with no state yet takes whatever the request carries, as in Kafka (a client's first request
  // may carry 0 and 0 rather than -1 and -1).
  const current = request.producerId >= 0 ? transactions.describe(transactionalId) : undefined;
  if (current !== undefined) {
    const timedOut =
      current.state === "CompleteAbort" && request.producerEpoch === current.producerEpoch - 1;
    const sameInstance =
      current.producerId === request.producerId &&
      (request.producerEpoch === current.producerEpoch || timedOut);
    if (!sameInstance)
      return failed(
        context.apiVersion >= FENCED_FROM
          ? KafkaErrorCode.PRODUCER_FENCED
          : KafkaErrorCode.INVALID_PRODUCER_EPOCH,
      );
  }
  try {
    // The previous instance's transaction is still open: Kafka starts its abort and tells the
    // client to retry, rather than holding the request (and the connection) until it is done.
    if (transactions.startAbortForInit(transactionalId, request.transactionTimeoutMs))
      return failed(KafkaErrorCode.CONCURRENT_TRANSACTIONS);
    const { producerId, producerEpoch } = await transactions.initProducerId(
      transactionalId,
      request.transactionTimeoutMs,
    );
    return { errorCode: KafkaErrorCode.NONE, producerId, producerEpoch };
  } catch (error) {
    return failed(producerErrorCode(error, context.apiVersion, FENCED_FROM));
  }
}
