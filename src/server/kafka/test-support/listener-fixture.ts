import { afterAll, beforeAll } from "vitest";
import type { EmbeddedTopicService } from "../../../messaging/topics/embedded-topic-service.js";
import { EmbeddedListener } from "./embedded-listener.js";
import { RawKafkaClient } from "./raw-client.js";

/** What a test file of raw requests works with; set before its first test. */
export interface ListenerFixture {
  readonly listener: EmbeddedListener;
  readonly topics: EmbeddedTopicService;
  /** One connection to the listener, for requests written field by field. */
  readonly client: RawKafkaClient;
}

/**
 * Starts an `EmbeddedListener` and a raw client before the file's tests and closes both after
 * them: the setup every file of raw Kafka requests repeated.
 */
export function listenerWithRawClient(name: string): ListenerFixture {
  const fixture = {} as { -readonly [K in keyof ListenerFixture]: ListenerFixture[K] };
  beforeAll(async () => {
    fixture.listener = await EmbeddedListener.start(name);
    fixture.topics = fixture.listener.topics;
    fixture.client = await RawKafkaClient.connect(fixture.listener.port);
  });
  afterAll(async () => {
    fixture.client?.close();
    await fixture.listener?.close();
  });
  return fixture;
}
