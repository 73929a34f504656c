// Kafka's transaction APIs, on the backend's transaction coordinator (the library's own, so a
// Kafka client's transaction is stored, ended and recovered exactly as a library producer's).
import type { TopicPartition } from "../../../messaging/topics/index.js";
import { defineApi, type RequestContext } from "../api-handler.js";
import type { KafkaTransactions } from "../kafka-backend.js";
import { KafkaErrorCode } from "../protocol/error-codes.js";
import {
  addOffsetsToTxn,
  addPartitionsToTxn,
  endTxn,
  txnOffsetCommit,
  type AddOffsetsToTxnRequest,
  type AddOffsetsToTxnResponse,
  type AddPartitionsToTxnRequest,
  type AddPartitionsToTxnResponse,
  type EndTxnRequest,
  type EndTxnResponse,
  type TxnOffsetCommitRequest,
  type TxnOffsetCommitResponse,
} from "../protocol/schemas/index.js";
import { producerErrorCode } from "./kafka-errors.js";
import { screenCommit } from "./commit-partitions.js";
import { partitionExistence } from "./partition-existence.js";

/** AddPartitionsToTxn, AddOffsetsToTxn and EndTxn answer PRODUCER_FENCED from v2 on (KIP-588). */
const FENCED_FROM = 2;
/** Kafka answers a fenced TxnOffsetCommit with INVALID_PRODUCER_EPOCH at every version. */
const TXN_OFFSET_COMMIT_FENCED_FROM = Number.POSITIVE_INFINITY;
/** Kafka's code for the partitions of a request not attempted because another one failed. */
const OPERATION_NOT_ATTEMPTED = 55;

/**
 * Whether the transactional id's last transaction is being completed (its commit or abort
 * decided, markers being written). Kafka answers CONCURRENT_TRANSACTIONS then, and the client
 * retries, rather than holding the request until the markers are down.
 */
export function completingTransaction(
  transactions: KafkaTransactions,
  transactionalId: string,
): boolean {
  return transactions.isCompleting(transactionalId);
}

function transactionsOf(context: RequestContext): KafkaTransactions {
  const transactions = context.backend.transactions;
  // The table serves these APIs only for backends with a coordinator.
  if (transactions === undefined) throw new Error("this backend has no transaction coordinator");
  return transactions;
}

/**
 * AddPartitionsToTxn (v0-3, the client's own call; v4+ is Kafka's broker-to-broker batch): the
 * partitions join the open transaction, durably, before the producer writes to them. As in Kafka,
 * unknown partitions fail the call: they get UNKNOWN_TOPIC_OR_PARTITION, the others
 * OPERATION_NOT_ATTEMPTED.
 */
export const addPartitionsToTxnApi = defineApi<
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse
>({
  schema: addPartitionsToTxn,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, context) {
    const topics = request.v3AndBelowTopics;
    const known = await partitionExistence(topics, context);
    const allKnown = topics.every((t) => t.partitions.every((p) => known(t.name, p)));
    let errorCode: number = KafkaErrorCode.NONE;
    if (
      allKnown &&
      completingTransaction(transactionsOf(context), request.v3AndBelowTransactionalId)
    )
      errorCode = KafkaErrorCode.CONCURRENT_TRANSACTIONS;
    else if (allKnown)
      try {
        const partitions: TopicPartition[] = topics.flatMap((t) =>
          t.partitions.map((partition) => ({ topic: t.name, partition })),
        );
        await transactionsOf(context).addPartitions(
          request.v3AndBelowTransactionalId,
          request.v3AndBelowProducerId,
          request.v3AndBelowProducerEpoch,
          partitions,
        );
      } catch (error) {
        errorCode = producerErrorCode(error, context.apiVersion, FENCED_FROM);
      }
    return {
      resultsByTopicV3AndBelow: topics.map((t) => ({
        name: t.name,
        resultsByPartition: t.partitions.map((partitionIndex) => ({
          partitionIndex,
          partitionErrorCode: allKnown
            ? errorCode
            : known(t.name, partitionIndex)
              ? OPERATION_NOT_ATTEMPTED
              : KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        })),
      })),
    };
  },
});

/** AddOffsetsToTxn: the transaction will carry offsets of this consumer group. */
export const addOffsetsToTxnApi = defineApi<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse>({
  schema: addOffsetsToTxn,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, context) {
    if (completingTransaction(transactionsOf(context), request.transactionalId))
      return { errorCode: KafkaErrorCode.CONCURRENT_TRANSACTIONS };
    try {
      await transactionsOf(context).addOffsets(
        request.transactionalId,
        request.producerId,
        request.producerEpoch,
        request.groupId,
      );
      return { errorCode: KafkaErrorCode.NONE };
    } catch (error) {
      return { errorCode: producerErrorCode(error, context.apiVersion, FENCED_FROM) };
    }
  },
});

/**
 * TxnOffsetCommit: offsets written into the transaction, counted only if it commits. From v3
 * (KIP-447) the consumer's member id and generation are checked as a member's commit is;
 * before v3 (no member id) they are not, as in Kafka.
 */
export const txnOffsetCommitApi = defineApi<TxnOffsetCommitRequest, TxnOffsetCommitResponse>({
  schema: txnOffsetCommit,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, context) {
    // Per partition, as OffsetCommit (commit-partitions.ts): unknown partitions and oversized
    // metadata are answered on their own, and the others go into the transaction.
    const screened = await screenCommit(request.topics, context);
    let errorCode: number = KafkaErrorCode.NONE;
    if (screened.anyKnown)
      try {
        await transactionsOf(context).commitOffsets(
          request.transactionalId,
          request.producerId,
          request.producerEpoch,
          {
            groupId: request.groupId,
            generationId: request.generationId,
            memberId: request.memberId,
          },
          screened.accepted.map(({ topic, partition: p }) => ({
            topic,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            metadata: p.committedMetadata ?? "",
          })),
        );
      } catch (error) {
        errorCode = producerErrorCode(error, context.apiVersion, TXN_OFFSET_COMMIT_FENCED_FROM);
      }
    return {
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: screened.answer(t.name, p, errorCode),
        })),
      })),
    };
  },
});

/**
 * EndTxn: commits or aborts. Answered once every partition of the transaction has its marker,
 * so a read_committed consumer sees all of it or none of it; a retried EndTxn succeeds again.
 */
export const endTxnApi = defineApi<EndTxnRequest, EndTxnResponse>({
  schema: endTxn,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, context) {
    try {
      await transactionsOf(context).endTransaction(
        request.transactionalId,
        request.producerId,
        request.producerEpoch,
        request.committed,
      );
      return { errorCode: KafkaErrorCode.NONE };
    } catch (error) {
      return { errorCode: producerErrorCode(error, context.apiVersion, FENCED_FROM) };
    }
  },
});
