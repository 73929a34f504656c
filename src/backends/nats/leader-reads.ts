import type { JetStreamManager } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";
import { answerWithin } from "./answer-within.js";

/** Messages asked for at once (one request each, all in flight together). */
const WINDOW = 32;
/**
 * How long a reader asks for a consumer before it reads from the stream's leader meanwhile; one
 * replacing a consumer that may have died with its server reads from the leader at once.
 */
export const LEADER_READS_AFTER_MS = 1000;
/**
 * How long a read waits for the stream's leader to answer before asking again. A stream whose
 * leader died answers nothing until another is elected, and a request sent meanwhile is not
 * answered later: asking again soon finds the new leader within this of its election.
 */
const ASK_AGAIN_MS = 250;
/** The pause after a read from the stream's leader that found nothing new. */
export const LEADER_READS_IDLE_MS = 100;

/** A stored message as a consumer delivers it or the message-get API answers it. */
export interface StreamMessage {
  readonly seq: number;
  readonly headers: MsgHdrs | undefined;
  readonly data: Uint8Array;
}

/**
 * Reads a stream's messages by sequence from its leader (the stream's message-get API),
 * without a consumer: what a reader falls back on while no consumer can be made. Making a
 * consumer goes through the cluster's meta leader, and when that server dies no consumer can be
 * made until the others elect another (4-9 s), though the stream's own leader, elsewhere, still
 * answers. One request per message is slower than a consumer, which is why it is a fallback.
 */
export class LeaderReads {
  constructor(
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
  ) {}

  /**
   * The messages after sequence `seq`, in order, up to the stream's last (or the first whose
   * answer did not come), at most WINDOW; none when the stream's leader does not answer.
   * Messages below the stream's first (gone by retention or a purge) and deleted ones are
   * skipped, as a consumer skips them.
   */
  async after(seq: number): Promise<StreamMessage[]> {
    const info = await answerWithin(this.jsm.streams.info(this.stream), ASK_AGAIN_MS).catch(
      () => undefined,
    );
    if (info === undefined) return [];
    const { state } = info;
    const start = Math.max(seq, state.first_seq - 1);
    const end = Math.min(state.last_seq, start + WINDOW);
    const asks = [];
    for (let s = start + 1; s <= end; s++)
      asks.push(this.jsm.streams.getMessage(this.stream, { seq: s }).catch(() => undefined));
    const messages: StreamMessage[] = [];
    for (const ask of asks) {
      const m = await ask;
      if (m === undefined) break; // unanswered: asked again from here
      if (m === null) continue; // not stored: deleted
      messages.push({ seq: m.seq, headers: m.header, data: m.data });
    }
    return messages;
  }

  /**
   * Hands every message after `had()` to `take` until `stop()`, pausing LEADER_READS_IDLE_MS
   * whenever the leader has nothing new (or does not answer).
   */
  async follow(
    had: () => number,
    take: (messages: StreamMessage[]) => void,
    stop: () => boolean,
  ): Promise<void> {
    while (!stop()) {
      const messages = await this.after(had()).catch(() => []);
      if (stop()) return;
      if (messages.length > 0) take(messages);
      else await new Promise((resolve) => setTimeout(resolve, LEADER_READS_IDLE_MS));
    }
  }
}
