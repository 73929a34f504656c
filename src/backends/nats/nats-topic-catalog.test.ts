import { JetStreamApiError, type JetStreamManager } from "@nats-io/jetstream";
import type { KV, KvEntry } from "@nats-io/kv";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { NatsTopicCatalog, type NatsTopicDefinition } from "./nats-topic-catalog.js";

const unavailable = (): JetStreamApiError =>
  new JetStreamApiError({
    code: 503,
    err_code: 10008,
    description: "JetStream system temporarily unavailable",
  });

const definition: NatsTopicDefinition = {
  name: "orders",
  uid: "u1",
  partitions: 3,
  config: {} as NatsTopicDefinition["config"],
};

/** A catalog over a bucket whose reads answer "temporarily unavailable" `failures` times first. */
function catalogOver(failures: number) {
  let asked = 0;
  const kv = {
    get: (key: string) => {
      asked++;
      if (asked <= failures) return Promise.reject(unavailable());
      const entry = { key, revision: 1, operation: "PUT", json: () => definition };
      return Promise.resolve(entry as unknown as KvEntry);
    },
  } as unknown as KV;
  const Catalog = NatsTopicCatalog as unknown as new (
    kv: KV,
    jsm: JetStreamManager,
    bucket: string,
  ) => NatsTopicCatalog;
  return { catalog: new Catalog(kv, {} as JetStreamManager, "B"), asked: () => asked };
}

describe("NatsTopicCatalog.fetch", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  // A server that lost its meta leader (an election after the meta leader's death) answers
  // every JetStream request so for a few seconds: a consumer's assign must not fail with it.
  it("reads a topic again while JetStream is temporarily unavailable", async () => {
    const { catalog, asked } = catalogOver(3);
    const fetched = catalog.fetch("orders");
    await vi.advanceTimersByTimeAsync(1000);
    await expect(fetched).resolves.toEqual(definition);
    expect(asked()).toBe(4);
  });

  it("gives up after 10 s and reports the servers' answer", async () => {
    const { catalog } = catalogOver(Number.POSITIVE_INFINITY);
    const fetched = catalog.fetch("orders");
    const failed = expect(fetched).rejects.toThrow(/temporarily unavailable/);
    await vi.advanceTimersByTimeAsync(10_500);
    await failed;
  });
});
