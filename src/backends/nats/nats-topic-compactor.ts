import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { asError } from "../../errors/index.js";
import type { Clock } from "../../time/index.js";
import type { NatsTopicCatalog } from "./nats-topic-catalog.js";
import { type CompactionRound, compactPartition } from "./partition-compaction.js";
import { partitionAddress } from "./partition-stream.js";

export interface TopicCompactorOptions {
  /** How often partitions of compacted topics are compacted (0: only when asked). */
  readonly intervalMs: number;
  /** How long a tombstone stays after its timestamp. */
  readonly deleteRetentionMs: number;
}

/**
 * Compacts the partitions of every topic whose cleanup policy includes "compact", in rounds:
 * every `intervalMs`, or when asked (`compactTopics`). Each process of a namespace runs one, and
 * a partition's round goes to the process that claims it in the bucket first, at most one per
 * interval (compaction is upkeep of the servers' disks: a real-time timer, unref'd).
 */
export class NatsTopicCompactor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly catalog: NatsTopicCatalog,
    private readonly namespace: string,
    private readonly clock: Clock,
    private readonly options: TopicCompactorOptions,
  ) {
    this.schedule();
  }

  /**
   * One round over every compacted topic's partitions that no process compacted within the
   * interval; what each partition's round did, by "topic-partition".
   */
  compactTopics(): Promise<Map<string, CompactionRound>> {
    const round = this.running.then(() => this.round());
    this.running = round.catch(() => undefined);
    return round;
  }

  private async round(): Promise<Map<string, CompactionRound>> {
    const rounds = new Map<string, CompactionRound>();
    let failure: Error | undefined;
    for (const name of this.catalog.names()) {
      const topic = this.catalog.get(name);
      if (topic === undefined || topic.config.cleanupPolicy === "delete") continue;
      const settings = {
        minCompactionLagMs: topic.config.minCompactionLagMs,
        deleteRetentionMs: this.options.deleteRetentionMs,
      };
      for (let p = 0; p < topic.partitions && !this.closed; p++) {
        const now = this.clock.now();
        const claim = await this.catalog.claimCompaction(
          topic.uid,
          p,
          now,
          this.options.intervalMs,
        );
        if (claim === undefined) continue;
        const address = partitionAddress(this.namespace, topic, p);
        // One partition failing (its topic deleted meanwhile, a leader away) stops no other.
        try {
          const done = await compactPartition(
            this.js,
            this.jsm,
            address,
            settings,
            now,
            claim.previous,
          );
          rounds.set(`${name}-${p}`, done.round);
          if (done.mark !== claim.previous) await this.catalog.markCompaction(claim, done.mark);
        } catch (error) {
          failure ??= asError(error);
        }
      }
    }
    if (failure !== undefined) throw failure;
    return rounds;
  }

  private schedule(): void {
    if (this.options.intervalMs <= 0 || this.closed) return;
    this.timer = setTimeout(() => {
      void this.compactTopics()
        .catch(() => undefined) // the next round tries again
        .finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
