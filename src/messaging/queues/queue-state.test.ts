import { describe, expect, it } from "vitest";
import {
  HotBodyBudget,
  INFLIGHT,
  QueueState,
  QueuedMessage,
  VISIBLE,
  hotBodyBytes,
} from "./queue-state.js";

const RETENTION_MS = 60_000;

function fill(state: QueueState, from: number, count: number, at: number): void {
  for (let seq = from; seq < from + count; seq++)
    state.add(new QueuedMessage(seq, seq, at, undefined), at);
}

describe("QueueState", () => {
  it("takes visible messages in order and brings them back when their visibility ends", () => {
    const state = new QueueState(false);
    fill(state, 0, 5, 0);
    const taken = state.take(3, 0, 1000, undefined, () => undefined);
    expect(taken.map((m) => m.seq)).toEqual([0, 1, 2]);
    expect(taken.every((m) => m.state === INFLIGHT && m.receiveCount === 1)).toBe(true);
    expect([state.visibleCount, state.inflightCount]).toEqual([2, 3]);
    expect(state.advance(999, RETENTION_MS)).toBe(0);
    expect(state.advance(1000, RETENTION_MS)).toBe(3);
    expect(taken.every((m) => m.state === VISIBLE)).toBe(true);
  });

  it("does not keep expired messages that nobody received (a queue only written to)", () => {
    const state = new QueueState(false);
    for (let minute = 0; minute < 20; minute++) {
      fill(state, minute * 1000, 1000, minute * 60_000);
      state.advance(minute * 60_000, RETENTION_MS);
    }
    expect(state.messages.size).toBe(1000);
    const lingering = (state as unknown as { visible: { length: number } }).visible.length;
    expect(lingering).toBeLessThanOrEqual(3000);
  });

  it("does not keep the timers of messages deleted before their visibility ended", () => {
    const state = new QueueState(false);
    for (let round = 0; round < 50; round++) {
      fill(state, round * 100, 100, round);
      for (const m of state.take(100, round, 30_000, undefined, () => undefined)) state.remove(m);
      state.advance(round, RETENTION_MS);
    }
    const timers = (state as unknown as { timers: { size: number } }).timers.size;
    expect(timers).toBeLessThanOrEqual(1100);
  });

  it("does not keep deleted messages behind one that stays in flight", () => {
    const state = new QueueState(false);
    fill(state, 0, 1, 0);
    state.take(1, 0, 43_200_000, undefined, () => undefined); // in flight for 12 hours
    for (let round = 1; round <= 50; round++) {
      fill(state, round * 100, 100, round);
      for (const m of state.take(100, round, 1000, undefined, () => undefined)) state.remove(m);
      state.advance(round, RETENTION_MS);
    }
    expect(state.messages.size).toBe(1);
    expect(state.bySeq.length).toBeLessThanOrEqual(1100);
    expect([...state.inOrder()].map((m) => m.seq)).toEqual([0]);
  });

  it("hands messages received maxReceiveCount times to the dead-letter callback instead", () => {
    const state = new QueueState(false);
    fill(state, 0, 2, 0);
    state.take(2, 0, 0, 1, () => undefined);
    state.advance(0, RETENTION_MS);
    const dead: number[] = [];
    expect(state.take(2, 1, 1000, 1, (m) => dead.push(m.seq))).toEqual([]);
    expect(dead).toEqual([0, 1]);
    expect(state.messages.size).toBe(0);
  });

  it("gives a message's hot-body memory back however it goes unread: expired, purged or removed", () => {
    const budget = new HotBodyBudget(10 * hotBodyBytes("x"));
    const state = new QueueState(false, budget);
    const hot = (seq: number, at: number): QueuedMessage => {
      const message = new QueuedMessage(seq, seq, at, undefined);
      expect(budget.take(hotBodyBytes("x"))).toBe(true);
      message.keepHot({ body: "x", delayMs: 0, messageId: `m${seq}` }, undefined, 0);
      state.add(message, at);
      return message;
    };
    for (let seq = 0; seq < 10; seq++) hot(seq, 0);
    expect(budget.take(1)).toBe(false); // full
    state.advance(RETENTION_MS, RETENTION_MS); // all ten expire unread
    expect(budget.used).toBe(0);
    for (let seq = 10; seq < 15; seq++) hot(seq, RETENTION_MS);
    state.removeBefore(13); // a purge
    expect(budget.used).toBe(2 * hotBodyBytes("x"));
    state.remove(state.messages.get(13)!);
    state.remove(state.messages.get(14)!);
    expect(budget.used).toBe(0);
  });
});

describe("QueueState.messages", () => {
  it("finds live messages by sequence number, and no gone or unknown one", () => {
    const state = new QueueState(false);
    for (let seq = 0; seq < 300; seq += 3) state.add(new QueuedMessage(seq, seq, 0, undefined), 0);
    const taken = state.take(40, 0, 30_000, undefined, () => undefined);
    for (const m of taken.filter((m) => m.seq % 2 === 0)) state.remove(m);
    state.advance(0, RETENTION_MS);
    for (let seq = -1; seq < 302; seq++) {
      const live = seq >= 0 && seq < 300 && seq % 3 === 0 && !(seq < 120 && seq % 2 === 0);
      expect(state.messages.get(seq)?.seq).toBe(live ? seq : undefined);
    }
    expect(state.messages.size).toBe(100 - 20);
  });

  it("refuses a message added out of sequence order, changing nothing", () => {
    const state = new QueueState(false);
    fill(state, 10, 3, 0);
    for (const seq of [12, 5]) {
      expect(() => state.add(new QueuedMessage(seq, seq, 0, undefined), 0)).toThrow(
        /added after message 12/,
      );
    }
    expect(state.messages.size).toBe(3);
    for (const seq of [10, 11, 12]) expect(state.messages.get(seq)?.seq).toBe(seq);
    expect(state.take(10, 0, 30_000, undefined, () => undefined).map((m) => m.seq)).toEqual([
      10, 11, 12,
    ]);
  });
});
