import type { Writable } from "./writable.js";
import type { DurableQueue, PreparedSend, StoredMessage } from "./durable-queue.js";

/**
 * Moves messages (read from `source`, and already taken out of its state) into other queues, keeping their
 * MessageId, body and attributes. The destination's append is awaited before the source
 * journals the removal, so a crash in between duplicates a message and never loses one.
 * While it runs, the source keeps the records (compaction waits on `pendingMoves`).
 */
export async function transferMessages(
  source: DurableQueue,
  stored: readonly StoredMessage[],
  destinationOf: (stored: StoredMessage) => DurableQueue,
  now: number,
  deadLetterSourceArn?: string,
): Promise<void> {
  if (stored.length === 0) return;
  source.pendingMoves++;
  try {
    const byDestination = new Map<DurableQueue, PreparedSend[]>();
    for (const message of stored) {
      const destination = destinationOf(message);
      const sends = byDestination.get(destination) ?? [];
      sends.push(asSend(message, destination, now, deadLetterSourceArn));
      byDestination.set(destination, sends);
    }
    const appends = [...byDestination].map(
      ([destination, sends]) => destination.send(sends).durable,
    );
    await Promise.all(appends);
    await source.journalDelete(stored.map((m) => m.state.seq));
  } catch (error) {
    // The source let go of the messages in memory but never journaled it: it is reopened from
    // its log, which still holds them.
    source.stop(error);
    throw error;
  } finally {
    source.pendingMoves--;
  }
}

function asSend(
  { meta, body, state }: StoredMessage,
  destination: DurableQueue,
  now: number,
  deadLetterSourceArn: string | undefined,
): PreparedSend {
  // SQS keeps the enqueue time of a message moved into a standard queue; a FIFO queue resets it.
  const send: Writable<PreparedSend> = {
    body,
    delayMs: 0,
    messageId: meta.i,
    sentAt: destination.config.fifo ? now : state.sentAt,
    skipDeduplication: true,
  };
  if (meta.a !== undefined) send.attributes = meta.a;
  if (meta.y !== undefined) send.systemAttributes = meta.y;
  if (meta.g !== undefined) send.groupId = meta.g;
  if (meta.d !== undefined) send.deduplicationId = meta.d;
  if (deadLetterSourceArn !== undefined) send.deadLetterSourceArn = deadLetterSourceArn;
  return send;
}
