import type { AppendResult, BatchHeader } from "../../engine/index.js";
import { TopicError } from "./topic-error.js";

/** How many recent batches per producer are remembered to recognise a retry (Kafka keeps 5). */
const RECENT_BATCHES = 5;

interface BatchEntry {
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly result: AppendResult;
}

interface ProducerEntry {
  epoch: number;
  lastSequence: number;
  recent: BatchEntry[];
  /** When the producer last wrote here (ms): what its expiry is counted from. */
  lastWriteMs: number;
}

/**
 * The sequence `delta` after `sequence`: sequences wrap from 2147483647 to 0, as Kafka's do
 * (`DefaultRecordBatch.incrementSequence`), so a producer may send more than 2^31 records.
 */
function sequenceAfter(sequence: number, delta: number): number {
  return (sequence + delta) % 0x80000000;
}

/** What to do with a batch from an idempotent producer. */
export type SequenceCheck =
  { readonly kind: "append" } | { readonly kind: "duplicate"; readonly result: AppendResult };

/**
 * Per partition: each idempotent producer's epoch and last sequence, and its last few batches,
 * so a retried batch is acknowledged with its first result instead of being written twice,
 * and a gap in the sequence is refused as Kafka refuses it.
 */
export class ProducerStateTable {
  private readonly producers = new Map<number, ProducerEntry>();

  /** Decides whether the batch is new, a retry, or out of order (throws the Kafka error). */
  check(header: BatchHeader, topicPartition: string): SequenceCheck {
    if (header.producerId < 0) return { kind: "append" };
    const entry = this.producers.get(header.producerId);
    const firstSequence = header.baseSequence;
    if (entry === undefined) return { kind: "append" };
    if (header.producerEpoch < entry.epoch)
      throw new TopicError(
        "INVALID_PRODUCER_EPOCH",
        `producerEpoch: producer ${header.producerId} has epoch ${entry.epoch} on ${topicPartition}, the batch has ${header.producerEpoch} (an older instance was fenced)`,
        "producerEpoch",
      );
    // Markers and the coordinator's own writes carry no sequence: only the epoch is checked.
    if (firstSequence < 0) return { kind: "append" };
    if (header.producerEpoch > entry.epoch) {
      if (firstSequence !== 0)
        throw new TopicError(
          "OUT_OF_ORDER_SEQUENCE_NUMBER",
          `baseSequence: a new epoch of producer ${header.producerId} must start at sequence 0 on ${topicPartition}, got ${firstSequence}`,
          "baseSequence",
        );
      return { kind: "append" };
    }
    const lastSequence = sequenceAfter(firstSequence, header.lastOffsetDelta);
    for (const batch of entry.recent)
      if (batch.firstSequence === firstSequence && batch.lastSequence === lastSequence)
        return { kind: "duplicate", result: batch.result };
    const expected = sequenceAfter(entry.lastSequence, 1);
    if (firstSequence !== expected)
      throw new TopicError(
        "OUT_OF_ORDER_SEQUENCE_NUMBER",
        `baseSequence: producer ${header.producerId} expected sequence ${expected} on ${topicPartition}, got ${firstSequence}`,
        "baseSequence",
        { expected, got: firstSequence },
      );
    return { kind: "append" };
  }

  /**
   * Records an appended batch written at `writtenMs` (also used to rebuild the table from the
   * log on open, where the batch's own max timestamp is the only time there is, as in Kafka).
   */
  record(header: BatchHeader, result: AppendResult, writtenMs: number): void {
    if (header.producerId < 0) return;
    let entry = this.producers.get(header.producerId);
    if (entry === undefined || header.producerEpoch > entry.epoch) {
      entry = { epoch: header.producerEpoch, lastSequence: -1, recent: [], lastWriteMs: writtenMs };
      this.producers.set(header.producerId, entry);
    }
    if (writtenMs > entry.lastWriteMs) entry.lastWriteMs = writtenMs;
    if (header.baseSequence < 0) return; // a marker or a coordinator write: no sequence
    const lastSequence = sequenceAfter(header.baseSequence, header.lastOffsetDelta);
    entry.lastSequence = lastSequence;
    entry.recent.push({ firstSequence: header.baseSequence, lastSequence, result });
    if (entry.recent.length > RECENT_BATCHES) entry.recent.shift();
  }

  /**
   * Forgets the producers that wrote nothing here for `expirationMs` up to `nowMs`, but those
   * `keep` names (a transaction still open), as Kafka expires producer state after
   * `producer.id.expiration.ms`: without it the table grows with every producer that ever
   * wrote. A batch from a forgotten producer is taken as a new producer's, whatever its sequence
   * (Kafka's answer to an unknown producer id). Returns how many were forgotten.
   */
  expire(nowMs: number, expirationMs: number, keep: (producerId: number) => boolean): number {
    let expired = 0;
    for (const [producerId, entry] of this.producers)
      if (nowMs - entry.lastWriteMs >= expirationMs && !keep(producerId)) {
        this.producers.delete(producerId);
        expired++;
      }
    return expired;
  }

  /** The producer's epoch here (-1 when unknown). */
  epochOf(producerId: number): number {
    return this.producers.get(producerId)?.epoch ?? -1;
  }

  get size(): number {
    return this.producers.size;
  }
}
