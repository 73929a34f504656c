import { encodeBatch } from "./record-batch.js";

/** RecordBatch v2 attribute bits (Kafka's). */
export const TRANSACTIONAL_BIT = 0x10;
export const CONTROL_BIT = 0x20;

/** Kafka's control record types: a marker closes a producer's transaction on one partition. */
export type MarkerType = "abort" | "commit";

const ABORT = 0;
const COMMIT = 1;

/**
 * One transaction marker as Kafka stores it: a control batch (transactional + control bits) of
 * the producer's id and epoch, no sequence, one record whose key is (version 0, type: 0 abort,
 * 1 commit) and whose value is (version 0, coordinator epoch).
 */
export function encodeMarker(
  producerId: number,
  producerEpoch: number,
  type: MarkerType,
  timestamp: number,
  coordinatorEpoch = 0,
): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type === "commit" ? COMMIT : ABORT, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  return encodeBatch([{ key, value, timestamp }], {
    baseOffset: 0,
    defaultTimestamp: timestamp,
    attributes: TRANSACTIONAL_BIT | CONTROL_BIT,
    producer: { producerId, producerEpoch, baseSequence: -1 },
  });
}

/** The marker type in a control record's key, or undefined for a control type Sluice does not know. */
export function markerTypeOf(key: Buffer | null): MarkerType | undefined {
  if (key === null || key.length < 4) return undefined;
  const type = key.readInt16BE(2);
  return type === COMMIT ? "commit" : type === ABORT ? "abort" : undefined;
}

export function isControlBatch(attributes: number): boolean {
  return (attributes & CONTROL_BIT) !== 0;
}

export function isTransactionalBatch(attributes: number): boolean {
  return (attributes & TRANSACTIONAL_BIT) !== 0;
}
