import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedEventStore } from "../eventstore/embedded-event-store.js";
import type { PersistentDelivery } from "../eventstore/index.js";
import { SluiceServer } from "../server/index.js";
import { type RemoteSluice, connect } from "./connect.js";

/**
 * An embedded store is owned by one process; other processes share its persistent
 * subscription groups through the server. Two `connect(url)` clients (each its own HTTP and
 * WebSocket connections, as two processes would have) consume one group.
 */
let dir: string;
let store: EmbeddedEventStore;
let server: SluiceServer;
let url: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-remote-groups-"));
  store = await EmbeddedEventStore.open(dir, { fsync: "never" });
  server = await SluiceServer.create({ eventStore: store }, { port: 0 });
  url = await server.listen();
});
afterAll(async () => {
  await server?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const appendJobs = async (stream: string, count: number): Promise<void> => {
  for (let n = 0; n < count; n += 10)
    await store.appendToStream(
      stream,
      Array.from({ length: Math.min(10, count - n) }, (_, i) => ({
        type: "Job",
        data: { n: n + i },
      })),
    );
};

/** Consumes until `stop` aborts, recording each delivery; acks unless told to hold them. */
function consume(
  client: RemoteSluice,
  group: string,
  stop: AbortSignal,
  hold = false,
): { seen: PersistentDelivery[]; done: Promise<void> } {
  const seen: PersistentDelivery[] = [];
  const done = (async () => {
    const groups = client.eventStore.persistentSubscriptions();
    for await (const delivery of groups.connect(group, { signal: stop, maxInFlight: 5 })) {
      seen.push(delivery);
      if (!hold) await delivery.ack();
    }
  })();
  return { seen, done };
}

const until = async (condition: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

const numberOf = (d: PersistentDelivery): number => (d.event.data as { n: number }).n;

describe("persistent subscription groups shared by two remote clients", () => {
  it("share the group's events, each delivered to one of them", async () => {
    const one = connect(url);
    const two = connect(url);
    await one.eventStore.persistentSubscriptions().create({ group: "g1", stream: "jobs-1" });
    const stop = new AbortController();
    const a = consume(one, "g1", stop.signal);
    const b = consume(two, "g1", stop.signal);
    await appendJobs("jobs-1", 300);
    await until(() => a.seen.length + b.seen.length >= 300, "300 deliveries");
    stop.abort();
    await Promise.all([a.done, b.done]);
    const numbers = [...a.seen, ...b.seen].map(numberOf);
    expect(numbers).toHaveLength(300);
    expect(new Set(numbers).size).toBe(300);
    expect(a.seen.length).toBeGreaterThan(0);
    expect(b.seen.length).toBeGreaterThan(0);
    await one.close();
    await two.close();
  });

  it("what a client held when it closed goes to the other, as a failed delivery", async () => {
    const holder = connect(url);
    const worker = connect(url);
    await holder.eventStore.persistentSubscriptions().create({ group: "g2", stream: "jobs-2" });
    const stopHolder = new AbortController();
    const held = consume(holder, "g2", stopHolder.signal, true);
    await appendJobs("jobs-2", 5);
    await until(() => held.seen.length === 5, "the holder's 5 deliveries");
    await holder.close();
    const stop = new AbortController();
    const redelivered = consume(worker, "g2", stop.signal);
    await until(() => redelivered.seen.length === 5, "5 redeliveries");
    stop.abort();
    await redelivered.done;
    expect(redelivered.seen.map(numberOf).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(redelivered.seen.every((d) => d.retryCount === 1)).toBe(true);
    stopHolder.abort();
    await held.done;
    await worker.close();
  });
});
