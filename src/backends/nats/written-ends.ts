/**
 * The end of what this service's producers have had acknowledged, per partition stream (the
 * offset after the last record stored). A consumer of the same service knows from it, without
 * asking the stream, that a partition holds records its reader has not brought yet: a poll
 * after an acknowledged send returns the record, as a poll of the embedded log does. (A topic
 * made again gets new stream names, so an end never outlives its stream's records.)
 */
export class WrittenEnds {
  private readonly ends = new Map<string, number>();

  /** A record was stored in `stream` at sequence `sequence` (its offset plus one). */
  stored(stream: string, sequence: number): void {
    if (sequence > (this.ends.get(stream) ?? 0)) this.ends.set(stream, sequence);
  }

  /** The end of this service's acknowledged writes to `stream`; 0 if none. */
  endOf(stream: string): number {
    return this.ends.get(stream) ?? 0;
  }
}
