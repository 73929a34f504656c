import { describe, expect, it } from "vitest";
import type { AppendResult, BatchHeader } from "../../engine/index.js";
import { ProducerStateTable } from "./producer-state.js";

const INT32_MAX = 2147483647;

/** A batch header of producer 7 at epoch 0 with `count` records from `baseSequence`. */
function batch(baseSequence: number, count: number): BatchHeader {
  return {
    producerId: 7,
    producerEpoch: 0,
    baseSequence,
    lastOffsetDelta: count - 1,
  } as BatchHeader;
}

const result = (baseOffset: number): AppendResult => ({ baseOffset }) as AppendResult;

describe("ProducerStateTable", () => {
  it("takes the batch after sequence 2147483647 at sequence 0, as Kafka's sequences wrap", () => {
    const table = new ProducerStateTable();
    table.record(batch(INT32_MAX, 1), result(0), 0);
    expect(table.check(batch(0, 1), "t-0")).toEqual({ kind: "append" });
    expect(() => table.check(batch(INT32_MAX + 1, 1), "t-0")).toThrow(/expected sequence 0/);
  });

  it("follows a batch whose sequences cross the wrap, and knows it again when it is retried", () => {
    const table = new ProducerStateTable();
    table.record(batch(INT32_MAX - 4, 10), result(100), 0); // sequences 2147483643 .. 4
    expect(table.check(batch(5, 1), "t-0")).toEqual({ kind: "append" });
    expect(table.check(batch(INT32_MAX - 4, 10), "t-0")).toEqual({
      kind: "duplicate",
      result: result(100),
    });
    expect(() => table.check(batch(6, 1), "t-0")).toThrow(/expected sequence 5/);
  });

  it("expires producers idle for the expiration, but those it is told to keep (a transaction open)", () => {
    const table = new ProducerStateTable();
    const of = (producerId: number): BatchHeader => ({ ...batch(0, 1), producerId });
    table.record(of(1), result(0), 1_000);
    table.record(of(2), result(1), 1_000);
    table.record(of(3), result(2), 5_000);
    expect(table.expire(10_999, 10_000, () => false)).toBe(0);
    expect(table.expire(11_000, 10_000, (id) => id === 2)).toBe(1);
    expect(table.size).toBe(2);
    expect(table.epochOf(1)).toBe(-1);
    expect(table.check({ ...of(1), baseSequence: 42 }, "t-0")).toEqual({ kind: "append" });
    expect(() => table.check({ ...of(3), baseSequence: 42 }, "t-0")).toThrow(/expected sequence 1/);
  });
});
