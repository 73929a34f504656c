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
    table.record(batch(INT32_MAX, 1), result(0));
    expect(table.check(batch(0, 1), "t-0")).toEqual({ kind: "append" });
    expect(() => table.check(batch(INT32_MAX + 1, 1), "t-0")).toThrow(/expected sequence 0/);
  });

  it("follows a batch whose sequences cross the wrap, and knows it again when it is retried", () => {
    const table = new ProducerStateTable();
    table.record(batch(INT32_MAX - 4, 10), result(100)); // sequences 2147483643 .. 4
    expect(table.check(batch(5, 1), "t-0")).toEqual({ kind: "append" });
    expect(table.check(batch(INT32_MAX - 4, 10), "t-0")).toEqual({
      kind: "duplicate",
      result: result(100),
    });
    expect(() => table.check(batch(6, 1), "t-0")).toThrow(/expected sequence 5/);
  });
});
