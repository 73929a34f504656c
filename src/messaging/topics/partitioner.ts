import { partitionForKey } from "./murmur2.js";
import type { PartitionerName } from "./topic-producer.js";

/** Chooses a partition for a record without an explicit one. */
export interface Partitioner {
  partition(topic: string, key: Buffer | null, partitionCount: number): number;
  /** A batch for `topic` was sent: the sticky strategies move to another partition. */
  onBatchSent(topic: string): void;
}

/** Kafka's uniform sticky choice: one partition until its batch is sent, then a different random one. */
class StickyChoice {
  private readonly current = new Map<string, number>();
  private readonly previous = new Map<string, number>();

  constructor(private readonly random: () => number) {}

  partition(topic: string, partitionCount: number): number {
    let chosen = this.current.get(topic);
    if (chosen === undefined || chosen >= partitionCount) {
      chosen = Math.floor(this.random() * partitionCount);
      const before = this.previous.get(topic);
      if (partitionCount > 1 && chosen === before)
        chosen = (chosen + 1 + Math.floor(this.random() * (partitionCount - 1))) % partitionCount;
      this.current.set(topic, chosen);
    }
    return chosen;
  }

  next(topic: string): void {
    const chosen = this.current.get(topic);
    if (chosen === undefined) return;
    this.previous.set(topic, chosen);
    this.current.delete(topic);
  }
}

class KeyHashPartitioner implements Partitioner {
  private readonly sticky: StickyChoice;
  constructor(random: () => number) {
    this.sticky = new StickyChoice(random);
  }
  partition(topic: string, key: Buffer | null, partitionCount: number): number {
    return key === null
      ? this.sticky.partition(topic, partitionCount)
      : partitionForKey(key, partitionCount);
  }
  onBatchSent(topic: string): void {
    this.sticky.next(topic);
  }
}

class RoundRobinPartitioner implements Partitioner {
  private readonly counters = new Map<string, number>();
  partition(topic: string, _key: Buffer | null, partitionCount: number): number {
    const n = this.counters.get(topic) ?? 0;
    this.counters.set(topic, n + 1);
    return n % partitionCount;
  }
  onBatchSent(): void {}
}

class UniformStickyPartitioner implements Partitioner {
  private readonly sticky: StickyChoice;
  constructor(random: () => number) {
    this.sticky = new StickyChoice(random);
  }
  partition(topic: string, _key: Buffer | null, partitionCount: number): number {
    return this.sticky.partition(topic, partitionCount);
  }
  onBatchSent(topic: string): void {
    this.sticky.next(topic);
  }
}

/** The partitioner of that name; `random` is injectable for reproducible tests. */
export function createPartitioner(
  name: PartitionerName,
  random: () => number = Math.random,
): Partitioner {
  switch (name) {
    case "key-hash":
      return new KeyHashPartitioner(random);
    case "round-robin":
      return new RoundRobinPartitioner();
    case "sticky":
      return new UniformStickyPartitioner(random);
  }
}
