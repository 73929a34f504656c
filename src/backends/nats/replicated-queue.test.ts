import { describe, expect, it } from "vitest";
import type { MessageMeta } from "../../messaging/queues/message-record.js";
import { PayloadBudget } from "./payload-budget.js";
import {
  type ApplyResult,
  DEDUPLICATION_WINDOW_MS,
  type HeldMessage,
  type QueueEntry,
  ReplicatedQueue,
  VISIBLE,
} from "./replicated-queue.js";

const T0 = Date.UTC(2026, 0, 1);

/** A stream of entries applied to fresh replicas: the stream assigns sequences 1, 2, 3, ... */
class Stream {
  readonly entries: { seq: number; t: number; entry: QueueEntry }[] = [];

  append(t: number, entry: QueueEntry): number {
    const seq = this.entries.length + 1;
    this.entries.push({ seq, t, entry });
    return seq;
  }

  replica(fifo = false, perGroup = false): ReplicatedQueue {
    const q = new ReplicatedQueue(fifo, () => perGroup);
    for (const { seq, t, entry } of this.entries) q.apply(seq, t, entry);
    return q;
  }
}

const message = (i: string, extra: Partial<MessageMeta> = {}): QueueEntry => ({
  kind: "m",
  meta: { i, ...extra },
  body: `body of ${i}`,
});

/** The sequences of the messages a receive got. */
const got = (result: ApplyResult): number[] => (result as HeldMessage[]).map((m) => m.seq);

const snapshot = (q: ReplicatedQueue): unknown[] =>
  [...q.messages.values()].map((m) => [m.seq, m.receiveCount, m.due, m.firstReceiveAt]);

describe("ReplicatedQueue", () => {
  it("replicas applying the same entries hold the same state", () => {
    const s = new Stream();
    for (let i = 0; i < 5; i++) s.append(T0 + i, message(`m${i}`));
    s.append(T0 + 10, { kind: "r", s: [1, 2], rc: [0, 0], v: T0 + 30_010 });
    s.append(T0 + 20, { kind: "d", s: [1], rc: [1] });
    s.append(T0 + 30, { kind: "c", s: [2], rc: [1], v: [T0 + 40] });
    const a = s.replica();
    const b = s.replica();
    expect(snapshot(a)).toEqual(snapshot(b));
    expect([...a.messages.keys()]).toEqual([2, 3, 4, 5]);
    expect(a.counts(T0 + 35)).toEqual({ visible: 3, inflight: 1, delayed: 0 });
    expect(a.counts(T0 + 40)).toEqual({ visible: 4, inflight: 0, delayed: 0 });
  });

  it("of two receives of one message written from the same view, only the first takes it", () => {
    const s = new Stream();
    s.append(T0, message("m"));
    const q = s.replica();
    const first = q.apply(2, T0 + 1, { kind: "r", s: [1], rc: [0], v: T0 + 30_000 });
    const second = q.apply(3, T0 + 2, { kind: "r", s: [1], rc: [0], v: T0 + 30_000 });
    expect(got(first)).toEqual([1]);
    expect(got(second)).toEqual([]);
    expect(q.messages.get(1)?.receiveCount).toBe(1);
  });

  it("a delete or visibility change naming an earlier receive changes nothing", () => {
    const s = new Stream();
    s.append(T0, message("m"));
    s.append(T0, { kind: "r", s: [1], rc: [0], v: T0 + 1000 });
    s.append(T0 + 2000, { kind: "r", s: [1], rc: [1], v: T0 + 32_000 });
    const q = s.replica();
    expect(q.apply(4, T0 + 2001, { kind: "d", s: [1], rc: [1] })).toEqual([false]);
    expect(q.apply(5, T0 + 2002, { kind: "c", s: [1], rc: [1], v: [T0 + 2002] })).toEqual([false]);
    expect(q.messages.get(1)?.statusAt(T0 + 2003)).toBe("inflight");
    expect(q.apply(6, T0 + 2003, { kind: "d", s: [1], rc: [2] })).toEqual([true]);
    expect(q.messages.size).toBe(0);
  });

  it("a receive of a message still in flight at the entry's time takes nothing", () => {
    const s = new Stream();
    s.append(T0, message("m"));
    s.append(T0, { kind: "r", s: [1], rc: [0], v: T0 + 30_000 });
    const q = s.replica();
    // A writer whose clock ran ahead saw it visible; the entry's own time decides.
    expect(got(q.apply(3, T0 + 29_999, { kind: "r", s: [1], rc: [1], v: T0 + 60_000 }))).toEqual(
      [],
    );
    expect(got(q.apply(4, T0 + 30_000, { kind: "r", s: [1], rc: [1], v: T0 + 60_000 }))).toEqual([
      1,
    ]);
  });

  it("FIFO: a receive of a group with a message in flight loses, even of a later message", () => {
    const s = new Stream();
    s.append(T0, message("a1", { g: "a", d: "1" }));
    s.append(T0, message("a2", { g: "a", d: "2" }));
    s.append(T0, message("b1", { g: "b", d: "3" }));
    const q = s.replica(true);
    expect(got(q.apply(4, T0 + 1, { kind: "r", s: [1], rc: [0], v: T0 + 30_000 }))).toEqual([1]);
    expect(got(q.apply(5, T0 + 2, { kind: "r", s: [2, 3], rc: [0, 0], v: T0 + 30_000 }))).toEqual([
      3,
    ]);
    // What a receive would pick now: group a is blocked by a1, group b by b1.
    expect(q.select(10, T0 + 3, new Set(), undefined).take).toEqual([]);
    expect(q.select(10, T0 + 30_000, new Set(), undefined).take.map((m) => m.seq)).toEqual([
      1, 2, 3,
    ]);
  });

  it("FIFO: a receive with an earlier receive's attempt id repeats it while it is intact", () => {
    const s = new Stream();
    s.append(T0, message("a1", { g: "a", d: "1" }));
    s.append(T0, message("b1", { g: "b", d: "2" }));
    s.append(T0, message("c1", { g: "c", d: "3" }));
    const q = s.replica(true);
    const receive = (seq: number, t: number, names: number[], a?: string): number[] =>
      got(
        q.apply(seq, t, {
          kind: "r",
          s: names,
          rc: names.map(() => 0),
          v: t + 30_000,
          ...(a === undefined ? {} : { a }),
        }),
      );
    expect(receive(4, T0 + 1, [1, 2], "x")).toEqual([1, 2]);
    // Written from a view that had not seen the first: it names c1, and repeats the attempt.
    expect(receive(5, T0 + 1000, [3], "x")).toEqual([1, 2]);
    expect(q.messages.get(3)?.receiveCount).toBe(0);
    expect(q.messages.get(1)?.due).toBe(T0 + 31_000); // the repeat reset the visibility timeout
    expect(receive(6, T0 + 1001, [], "x")).toEqual([1, 2]); // naming nothing, as a retry may
    // Another id is another receive.
    expect(receive(7, T0 + 1002, [3], "y")).toEqual([3]);
    // Once a message of the attempt is deleted or changed, the id starts a new receive.
    q.apply(8, T0 + 1003, { kind: "c", s: [2], rc: [1], v: [T0 + 50_000] });
    expect(receive(9, T0 + 1004, [], "x")).toEqual([]);
    q.apply(10, T0 + 1005, { kind: "d", s: [3], rc: [1] });
    expect(receive(11, T0 + 1006, [], "y")).toEqual([]);
  });

  it("FIFO: a receive attempt is forgotten when its messages become visible again or after five minutes", () => {
    const s = new Stream();
    s.append(T0, message("a1", { g: "a", d: "1" }));
    s.append(T0, { kind: "r", s: [1], rc: [0], v: T0 + 1000, a: "x" });
    const q = s.replica(true);
    // Visible again: the same id receives the message anew (a second receive).
    const again = q.apply(3, T0 + 1000, { kind: "r", s: [1], rc: [1], v: T0 + 600_000, a: "x" });
    expect(got(again)).toEqual([1]);
    expect(q.messages.get(1)?.receiveCount).toBe(2);
    expect(
      got(q.apply(4, T0 + 2000, { kind: "r", s: [], rc: [], v: T0 + 600_000, a: "x" })),
    ).toEqual([1]);
    const late = T0 + 1000 + DEDUPLICATION_WINDOW_MS;
    expect(got(q.apply(5, late, { kind: "r", s: [], rc: [], v: late + 1000, a: "x" }))).toEqual([]);
  });

  it("holds payloads up to the budget it shares; past it, messages are held without body and attributes", () => {
    const budget = new PayloadBudget(250);
    const q = new ReplicatedQueue(false, () => false, budget);
    const other = new ReplicatedQueue(false, () => false, budget);
    const attributes = { k: { t: "String", s: "v" } } as unknown as NonNullable<MessageMeta["a"]>;
    const sized = (i: string): QueueEntry => ({
      kind: "m",
      meta: { i, a: attributes },
      body: "x",
      bytes: 100,
    });
    q.apply(1, T0, sized("a"));
    other.apply(1, T0, sized("b"));
    q.apply(2, T0, sized("c")); // 300 bytes would pass the 250
    expect(budget.held).toBe(200);
    const [a, c] = [q.messages.get(1)!, q.messages.get(2)!];
    expect([a.body, a.meta.a, a.heldBytes]).toEqual(["x", attributes, 100]);
    expect([c.body, c.meta, c.heldBytes]).toEqual([undefined, { i: "c" }, 0]);
    // Removing a held message gives its bytes back; the next message is held again.
    q.apply(3, T0 + 1, { kind: "d", s: [1], rc: [-1] });
    expect(budget.held).toBe(100);
    q.apply(4, T0 + 2, sized("d"));
    expect(q.messages.get(4)!.body).toBe("x");
    q.apply(5, T0 + 3, { kind: "p" });
    other.releasePayloads();
    expect(budget.held).toBe(0);
  });

  it("select skips reserved messages, keeps FIFO order behind them and reports dead letters", () => {
    const s = new Stream();
    s.append(T0, message("a1", { g: "a", d: "1" }));
    s.append(T0, message("a2", { g: "a", d: "2" }));
    s.append(T0, message("b1", { g: "b", d: "3" }));
    const fifo = s.replica(true);
    expect(fifo.select(10, T0, new Set([1]), undefined).take.map((m) => m.seq)).toEqual([3]);
    const standard = new Stream();
    standard.append(T0, message("x"));
    standard.append(T0, { kind: "r", s: [1], rc: [0], v: T0 });
    standard.append(T0, message("y"));
    const q = standard.replica();
    const { take, dead } = q.select(10, T0, new Set(), 1);
    expect(take.map((m) => m.seq)).toEqual([3]);
    expect(dead.map((m) => m.seq)).toEqual([1]);
  });

  it("deduplicates FIFO sends for five minutes of entry time; moved copies never", () => {
    const s = new Stream();
    s.append(T0, message("first", { g: "g", d: "same" }));
    const q = s.replica(true);
    expect(q.apply(2, T0 + 1000, message("again", { g: "g", d: "same" }))).toEqual({
      messageId: "first",
      seq: 1,
    });
    expect(q.apply(3, T0 + 2000, message("moved", { g: "g", d: "same", st: T0 }))).toEqual({
      messageId: "moved",
      seq: 3,
    });
    expect(
      q.apply(4, T0 + DEDUPLICATION_WINDOW_MS, message("later", { g: "g", d: "same" })),
    ).toEqual({ messageId: "later", seq: 4 });
    expect([...q.messages.keys()]).toEqual([1, 3, 4]);
  });

  it("DeduplicationScope messageGroup keys deduplication by group", () => {
    const s = new Stream();
    s.append(T0, message("a", { g: "a", d: "id" }));
    s.append(T0, message("b", { g: "b", d: "id" }));
    expect(s.replica(true, true).messages.size).toBe(2);
    expect(s.replica(true, false).messages.size).toBe(1);
  });

  it("a purge removes the messages before it, not those after", () => {
    const s = new Stream();
    s.append(T0, message("old"));
    s.append(T0, { kind: "p" });
    s.append(T0, message("new"));
    const q = s.replica();
    expect([...q.messages.values()].map((m) => m.meta.i)).toEqual(["new"]);
    expect(q.lastPurgeAt).toBe(T0);
  });

  it("a tail that fell behind a compaction forgets the messages whose deletes were purged", () => {
    const s = new Stream();
    s.append(T0, message("a"));
    s.append(T0, message("b", { g: "g1" }));
    const lagging = s.replica(true);
    s.append(T0 + 1, { kind: "d", s: [1, 2], rc: [-1, -1] });
    s.append(T0 + 2, message("c", { g: "g1" }));
    // Compaction purged the entries before "c", the oldest message live: the lagging replica's
    // tail comes back with "c" and never sees the delete.
    const { seq, t, entry } = s.entries[3]!;
    lagging.apply(seq, t, entry);
    expect(snapshot(lagging)).toEqual(snapshot(s.replica(true)));
    expect(lagging.select(10, T0 + 3, new Set(), undefined).take.map((m) => m.meta.i)).toEqual([
      "c",
    ]);
  });

  it("delays, retention and the oldest entry replay still needs", () => {
    const s = new Stream();
    s.append(T0, message("soon", { v: T0 + 5000 }));
    s.append(T0 + 10, message("now"));
    const q = s.replica();
    expect(q.counts(T0 + 4999)).toEqual({ visible: 1, inflight: 0, delayed: 1 });
    expect(q.messages.get(1)?.statusAt(T0 + 5000)).toBe(VISIBLE);
    expect(q.nextDue(T0)).toBe(T0 + 5000);
    expect(q.oldestNeeded(T0)).toBe(1);
    q.dropExpired(T0 + 60_000, 60_000);
    expect([...q.messages.keys()]).toEqual([2]);
    expect(q.oldestNeeded(T0 + 60_000)).toBe(2);
  });

  it("a new FIFO DelaySeconds delays queued, never-received messages from their send time", () => {
    const s = new Stream();
    s.append(T0, message("a", { g: "g1" }));
    s.append(T0 + 1000, message("b", { g: "g2" }));
    s.append(T0 + 2000, { kind: "r", s: [2], rc: [0], v: T0 + 2000 }); // b received, returned at once
    s.append(T0 + 3000, { kind: "y", d: 30_000 });
    const q = s.replica(true);
    expect(q.messages.get(1)!.due).toBe(T0 + 30_000);
    expect(q.messages.get(2)!.due).toBe(T0 + 2000); // received before: keeps its own time
    expect(q.counts(T0 + 29_999)).toEqual({ visible: 1, inflight: 0, delayed: 1 });
    expect(q.counts(T0 + 30_000)).toEqual({ visible: 2, inflight: 0, delayed: 0 });
    // A message sent after the change is not touched by it.
    s.append(T0 + 4000, message("c", { g: "g3" }));
    expect(s.replica(true).messages.get(5)!.due).toBe(0);
  });

  it("retention drops a message by its own SentTimestamp even behind a younger one", () => {
    const s = new Stream();
    s.append(T0 + 50_000, message("newer"));
    s.append(T0 + 60_000, message("moved", { st: T0 })); // a dead letter keeps its send time
    const q = s.replica();
    q.dropExpired(T0 + 121_000, 120_000);
    expect([...q.messages.values()].map((m) => m.meta.i)).toEqual(["newer"]);
  });
});
