import type { JetStreamClient } from "@nats-io/jetstream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PartitionReader } from "./partition-reader.js";

/** One consumer the fake client made: the test delivers its records and can end it. */
interface FakeConsumer {
  readonly from: number;
  deliver(...offsets: number[]): void;
  stopped: boolean;
}

/**
 * Just enough of a JetStream client for a reader: each consumer is made when the test answers
 * (`make`) or refused (`refuse`), and delivers the records the test hands it.
 */
function fakeClient() {
  const made: FakeConsumer[] = [];
  const pending: Array<{
    from: number;
    resolve: (c: unknown) => void;
    reject: (e: Error) => void;
  }> = [];
  const js = {
    consumers: {
      get: (_stream: string, opts: { opt_start_seq?: number }) =>
        new Promise((resolve, reject) =>
          pending.push({ from: (opts.opt_start_seq ?? 1) - 1, resolve, reject }),
        ),
    },
  } as unknown as JetStreamClient;
  /** Answers the `index`-th request still pending (the oldest by default). */
  const make = (index = 0): FakeConsumer => {
    const request = pending.splice(index, 1)[0]!;
    const queue: unknown[] = [];
    let wake: (() => void) | undefined;
    const consumer: FakeConsumer = {
      from: request.from,
      stopped: false,
      deliver: (...offsets) => {
        for (const o of offsets)
          queue.push({ seq: o + 1, data: Buffer.from(`v${o}`), headers: undefined });
        wake?.();
      },
    };
    const messages = {
      stop: () => {
        consumer.stopped = true;
        wake?.();
      },
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (queue.length > 0) yield queue.shift();
          if (consumer.stopped) return;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      },
    };
    request.resolve({ consume: () => Promise.resolve(messages) });
    made.push(consumer);
    return consumer;
  };
  const refuse = (): void => pending.shift()!.reject(new Error("timeout"));
  return { js, made, make, refuse, pending: () => pending.length };
}

const address = { stream: "S", subject: "s.0" };
const settle = () => vi.advanceTimersByTimeAsync(0);
const offsets = (reader: PartitionReader, from: number) =>
  reader.take(from, 100).map((r) => r.offset);

/** A reader at offset 0 whose first consumer has been made. */
async function reading() {
  const client = fakeClient();
  const reader = new PartitionReader(client.js, address, "t", 0);
  reader.take(0, 100);
  const first = client.make();
  await settle();
  return { client, reader, first };
}

describe("PartitionReader", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("a replacement is made while the consumer it replaces reads on, and records from both come once", async () => {
    const { client, reader, first } = await reading();
    first.deliver(0, 1);
    await settle();
    expect(offsets(reader, 0)).toEqual([0, 1]);
    reader.lostTouch();
    reader.behind(2);
    expect(client.pending()).toBe(1); // the replacement is asked for
    first.deliver(2, 3); // the first consumer still reads meanwhile
    await settle();
    expect(first.stopped).toBe(false);
    const second = client.make();
    await settle();
    expect(second.from).toBe(2);
    expect(first.stopped).toBe(true);
    second.deliver(2, 3, 4); // starts where the buffer ended when it was asked for
    await settle();
    expect(offsets(reader, 2)).toEqual([2, 3, 4]);
  });

  it("while a replacement goes unanswered another is asked for every 500 ms; the first made is used, the later stopped", async () => {
    const { client, reader, first } = await reading();
    reader.lostTouch();
    reader.behind(0);
    expect(client.pending()).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(client.pending()).toBe(2); // the first request may wait on a server that died
    const second = client.make(1);
    await settle();
    expect(first.stopped).toBe(true);
    const late = client.make(0);
    await settle();
    expect(late.stopped).toBe(true);
    await vi.advanceTimersByTimeAsync(2000);
    expect(client.pending()).toBe(0); // no more asking once one is made
    second.deliver(0, 1);
    await settle();
    expect(offsets(reader, 0)).toEqual([0, 1]);
  });

  it("a consumer that could not be made is asked for again after a pause, with no poll", async () => {
    const client = fakeClient();
    const reader = new PartitionReader(client.js, address, "t", 0);
    reader.take(0, 100);
    client.refuse();
    await settle();
    expect(client.pending()).toBe(0);
    await vi.advanceTimersByTimeAsync(500);
    expect(client.pending()).toBe(1);
    client.make().deliver(0);
    await settle();
    expect(offsets(reader, 0)).toEqual([0]);
  });

  it("a reader that lost touch asks for a replacement at once, and stops asking when its consumer brings a record", async () => {
    const { client, reader, first } = await reading();
    reader.lostTouch();
    expect(client.pending()).toBe(1);
    first.deliver(0); // it is alive after all
    await settle();
    expect(offsets(reader, 0)).toEqual([0]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(client.pending()).toBe(1); // no more asking
    const late = client.make();
    await settle();
    expect(late.stopped).toBe(true);
    expect(first.stopped).toBe(false);
    reader.behind(1); // not suspect any more: no replacement
    expect(client.pending()).toBe(0);
    reader.lostTouch();
    expect(client.pending()).toBe(1);
  });

  it("a replacement that fails leaves a consumer that brought records since reading on", async () => {
    const { client, reader, first } = await reading();
    reader.lostTouch();
    reader.behind(0);
    first.deliver(0);
    await settle();
    client.refuse();
    await vi.advanceTimersByTimeAsync(1000);
    expect(client.pending()).toBe(0);
    expect(first.stopped).toBe(false);
    first.deliver(1);
    await settle();
    expect(offsets(reader, 0)).toEqual([0, 1]);
  });
});
