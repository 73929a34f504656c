import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { ConsumerRecord } from "../../messaging/topics/topic-consumer.js";
import { type PartitionAddress, decodeRecord } from "./partition-stream.js";

/** Records asked for at once (one request each, all in flight together). */
const WINDOW = 32;

/**
 * Reads a partition's records by sequence from its stream's leader (the stream's message-get
 * API), without a consumer: what a reader falls back on while no consumer can be made. Making a
 * consumer goes through the cluster's meta leader, and when that server dies no consumer can be
 * made until the others elect another (4-9 s), though the stream's own leader, elsewhere, still
 * answers. One request per record is slower than a consumer, which is why it is only a fallback.
 */
export class LeaderReads {
  private manager: Promise<JetStreamManager> | undefined;

  constructor(
    private readonly js: JetStreamClient,
    private readonly address: PartitionAddress,
    private readonly topic: string,
    private readonly partition: number,
  ) {}

  /**
   * The records from `offset` on, in order, up to the stream's last (or the first whose answer
   * did not come), at most WINDOW; none when the stream's leader does not answer. Records below
   * the log start (gone by retention) and ones deleted are skipped, as a consumer skips them.
   */
  async from(offset: number): Promise<ConsumerRecord[]> {
    const jsm = await (this.manager ??= this.js.jetstreamManager(false));
    let state;
    try {
      state = (await jsm.streams.info(this.address.stream)).state;
    } catch {
      return [];
    }
    const start = Math.max(offset, state.first_seq - 1);
    const end = Math.min(state.last_seq, start + WINDOW);
    const asks = [];
    for (let seq = start + 1; seq <= end; seq++)
      asks.push(jsm.streams.getMessage(this.address.stream, { seq }).catch(() => undefined));
    const records: ConsumerRecord[] = [];
    for (const ask of asks) {
      const m = await ask;
      if (m === undefined) break; // unanswered: asked again from here
      if (m === null) continue; // not stored: deleted
      records.push(
        decodeRecord(this.topic, this.partition, { headers: m.header, data: m.data, seq: m.seq }),
      );
    }
    return records;
  }
}
