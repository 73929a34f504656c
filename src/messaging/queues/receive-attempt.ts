import type { Message } from "./queue-service.js";
import { INFLIGHT, type QueuedMessage } from "./queue-state.js";

/** One message a receive took: the receive count and timer token it left it with. */
export interface AttemptMessage {
  readonly message: QueuedMessage;
  readonly receiveCount: number;
  /** Updated when a retry of the attempt resets the visibility timeout (its own change). */
  token: number;
}

/**
 * A FIFO receive made with a ReceiveRequestAttemptId, kept for five minutes: a retry with the
 * same id gets the same messages and receipt handles while none of them was deleted, changed
 * or received again since. Journaled with the receive, so it survives a restart.
 */
export class ReceiveAttempt {
  /** What the receive answered; rebuilt from the log after a restart. */
  result: Message[] | undefined = undefined;

  constructor(
    readonly id: string,
    /** When the receive happened (ms since epoch): the attempt expires five minutes later. */
    readonly at: number,
    readonly messages: readonly AttemptMessage[],
    /** Offset of the record that holds the attempt (moves when compaction carries it). */
    public offset: number,
  ) {}

  /** Every message still in flight from this receive, untouched by anyone else. */
  get intact(): boolean {
    return this.messages.every(
      ({ message, receiveCount, token }) =>
        message.state === INFLIGHT &&
        message.receiveCount === receiveCount &&
        message.token === token,
    );
  }
}
