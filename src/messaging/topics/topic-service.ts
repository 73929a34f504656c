import type { TopicAdmin } from "./topic-admin.js";
import type { ConsumerOptions, TopicConsumer } from "./topic-consumer.js";
import type { ProducerOptions, TopicProducer } from "./topic-producer.js";

/**
 * Kafka-semantics topics: one admin, any number of producers and consumers. Every backend
 * (embedded, NATS JetStream, the remote client) implements this and passes the conformance
 * suite in `conformance.ts`.
 */
export interface TopicService {
  readonly admin: TopicAdmin;
  /** A new producer; it holds batches in memory until they are sent (see ProducerOptions). */
  producer(options?: ProducerOptions): TopicProducer;
  /** A new consumer; with a groupId it joins that consumer group on `subscribe`. */
  consumer(options?: ConsumerOptions): TopicConsumer;
  /** Closes every producer and consumer it handed out, then the storage. */
  close(): Promise<void>;
}
