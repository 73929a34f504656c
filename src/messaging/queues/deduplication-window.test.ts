import { describe, expect, it } from "vitest";
import { DeduplicationWindow, IN_WINDOW_LOG, keyHash } from "./deduplication-window.js";
import { type CarriedDedup, decodeWindow } from "./window-record.js";

/** The entries carried before `cut`, decoded from their window records (of 2 entries each). */
function carryBefore(window: DeduplicationWindow, cut: number, now: number): CarriedDedup[] {
  const records = window.carryRecordsBefore(cut, now, 2);
  for (const record of records.slice(0, -1)) expect(decodeWindow(record, 0).dedup).toHaveLength(2);
  return records.flatMap((record) => decodeWindow(record, 0).dedup);
}

describe("DeduplicationWindow", () => {
  it("answers a duplicate inside the window with the first send, and forgets it after", () => {
    const window = new DeduplicationWindow(1000);
    expect(window.firstSend("a", 100, "id-1", 7, 7)).toBeUndefined();
    expect(window.firstSend("a", 1099, "id-2", 8, 8)).toEqual({ messageId: "id-1", seq: 7 });
    // Expired but not yet pruned: the new send takes its place.
    expect(window.firstSend("a", 1100, "id-3", 9, 9)).toBeUndefined();
    expect(window.firstSend("a", 1200, "id-4", 10, 10)).toEqual({ messageId: "id-3", seq: 9 });
    window.prune(2099);
    expect(window.size).toBe(1);
    window.prune(2100);
    expect(window.size).toBe(0);
    expect(window.firstSend("a", 2100, "id-5", 11, 11)).toBeUndefined();
  });

  it("keeps positions through growing and shrinking (thousands of entries, most pruned)", () => {
    const window = new DeduplicationWindow(1000);
    // Message ids as SQS's (UUIDs, kept as bytes) and others (moved messages keep theirs).
    const id = (i: number): string =>
      i % 2 === 0 ? `0f8fad5b-d9cb-469f-a165-${String(i).padStart(12, "0")}` : `moved-${i}`;
    for (let i = 0; i < 5000; i++)
      expect(window.firstSend(`k${i}`, i, id(i), i, i)).toBe(undefined);
    window.prune(5900); // keeps the sends at 4901 and later
    expect(window.size).toBe(99);
    for (let i = 0; i < 5000; i++) {
      const earlier = window.firstSend(`k${i}`, 5900, "dup", -1, -1);
      if (i > 4900) expect(earlier).toEqual({ messageId: id(i), seq: i });
      else expect(earlier).toBeUndefined(); // a new first send
    }
  });

  it("carries each live entry once, those held before the cut, skipping replaced and expired ones", () => {
    const window = new DeduplicationWindow(1000);
    window.firstSend("old", 0, "id-0", 0, 0);
    window.firstSend("a", 500, "id-1", 1, 1);
    window.firstSend("b", 600, "id-2", 2, 2);
    window.firstSend("old", 1000, "id-3", 3, 3); // "old" expired: replaced
    window.firstSend("c", 1100, "id-4", 4, 4);
    expect(carryBefore(window, 4, 1200)).toEqual([
      { key: "a", messageId: "id-1", seq: 1, sentAt: 500 },
      { key: "b", messageId: "id-2", seq: 2, sentAt: 600 },
      { key: "old", messageId: "id-3", seq: 3, sentAt: 1000 },
    ]);
    expect(carryBefore(window, 4, 1200)).toEqual([]);
    expect(carryBefore(window, 10, 1550)).toEqual([
      { key: "c", messageId: "id-4", seq: 4, sentAt: 1100 },
    ]);
    // Carried entries still deduplicate.
    expect(window.firstSend("b", 1550, "x", 9, 9)).toEqual({ messageId: "id-2", seq: 2 });
  });

  it("restores window-log entries before queue-log ones, the later entry of a key winning", () => {
    const window = new DeduplicationWindow(1000);
    window.restore("a", "id-1", 1, 100, IN_WINDOW_LOG);
    window.restore("b", "id-2", 2, 200, IN_WINDOW_LOG);
    window.restore("b", "id-2", 2, 200, 2); // also still in the queue log (cut not yet made)
    window.restore("c", "id-3", 3, 300, 3);
    expect(() => window.restore("d", "id-4", 4, 400, IN_WINDOW_LOG)).toThrow();
    // Only the queue log's entries are carried, once each.
    expect(carryBefore(window, 10, 500).map((e) => e.key)).toEqual(["b", "c"]);
    expect(window.firstSend("a", 500, "x", 9, 9)).toEqual({ messageId: "id-1", seq: 1 });
    window.prune(1200); // "a" and "b" expire; "b"'s replaced entry goes without dropping the other
    expect(window.size).toBe(1);
    expect(window.firstSend("c", 1250, "x", 9, 9)).toEqual({ messageId: "id-3", seq: 3 });
  });

  it("tells apart keys of one 32-bit hash, and keys that share a table cell", () => {
    // Found by search: two keys of the same full hash.
    expect(keyHash("k32728")).toBe(keyHash("k261234"));
    const window = new DeduplicationWindow(1000);
    expect(window.firstSend("k32728", 0, "id-1", 1, 1)).toBeUndefined();
    expect(window.firstSend("k261234", 10, "id-2", 2, 2)).toBeUndefined();
    expect(window.firstSend("k261234", 20, "x", 9, 9)).toEqual({ messageId: "id-2", seq: 2 });
    expect(window.firstSend("k32728", 20, "x", 9, 9)).toEqual({ messageId: "id-1", seq: 1 });
    expect(window.size).toBe(2);
    // Same length, same hash prefix of the table: keys differing in one character only.
    expect(window.firstSend("k261235", 20, "id-3", 3, 3)).toBeUndefined();
    // Many keys in the same few cells (low bits equal), some expiring between the others:
    // taking one out of a probe run must leave the rest findable.
    const crowded: string[] = [];
    for (let i = 0; crowded.length < 40; i++)
      if ((keyHash(`c${i}`) & 7) === 3) crowded.push(`c${i}`);
    const many = new DeduplicationWindow(1000);
    crowded.forEach((key, i) => many.firstSend(key, i < 20 ? i : 500 + i, `id-${i}`, i, i));
    many.prune(1019); // the first 20 expire
    expect(many.size).toBe(20);
    crowded.forEach((key, i) => {
      const earlier = many.firstSend(key, 1019, "dup", -1, -1);
      if (i < 20) expect(earlier).toBeUndefined();
      else expect(earlier).toEqual({ messageId: `id-${i}`, seq: i });
    });
  });

  it("grows, wraps and shrinks its key bytes, keeping every key (long, wide and empty-ish)", () => {
    const window = new DeduplicationWindow(100);
    const key = (i: number): string =>
      i % 11 === 0
        ? `latin-\u00e9-${i}`
        : i % 7 === 0
          ? `wide-\u4e2d-${i}`
          : `${"g".repeat(i % 130)}\u0000dedup-${i}`;
    // Half the message ids UUIDs (kept and carried as 16 bytes), half not.
    const id = (i: number): string =>
      i % 2 === 0 ? `0f8fad5b-d9cb-469f-a165-${String(i).padStart(12, "0")}` : `m-${i}`;
    let t = 0;
    const live: number[] = [];
    const sent: number[] = [];
    for (let round = 0; round < 30; round++) {
      const n = round < 15 ? 50 + round * 40 : 600 - (round - 15) * 35;
      for (let j = 0; j < n; j++) {
        const i = round * 10_000 + j;
        expect(window.firstSend(key(i), t, id(i), i, i)).toBeUndefined();
        live.push(i);
        sent.push(i);
      }
      // The carry reads this round's entries back as they were, wherever their keys lie.
      const entry = (i: number): CarriedDedup => ({
        key: key(i),
        messageId: id(i),
        seq: i,
        sentAt: t,
      });
      expect(carryBefore(window, Number.MAX_SAFE_INTEGER, t)).toEqual(sent.map(entry));
      sent.length = 0;
      t += 60; // entries of the round before last expire
      window.prune(t);
      while (live.length > 0 && Math.floor(live[0]! / 10_000) * 60 + 100 <= t) live.shift();
      expect(window.size).toBe(live.length);
      for (const i of live)
        expect(window.firstSend(key(i), t, "dup", -1, -1)).toEqual({ messageId: id(i), seq: i });
    }
    expect(carryBefore(window, Number.MAX_SAFE_INTEGER, t)).toEqual([]);
  });

  it("keeps a replaced entry out of the table when the ring grows or shrinks", () => {
    const window = new DeduplicationWindow(1000);
    window.firstSend("a", 0, "id-1", 1, 1);
    // Expired but not pruned: replaced by a new first send, then the ring grows past 16.
    expect(window.firstSend("a", 1000, "id-2", 2, 2)).toBeUndefined();
    for (let i = 0; i < 40; i++) window.firstSend(`k${i}`, 1000, `m-${i}`, 10 + i, 10 + i);
    expect(window.size).toBe(41);
    expect(window.firstSend("a", 1001, "x", 9, 9)).toEqual({ messageId: "id-2", seq: 2 });
    // Pruning the replaced entry leaves the newer one in place.
    window.prune(1001);
    expect(window.size).toBe(41);
    expect(window.firstSend("a", 1002, "x", 9, 9)).toEqual({ messageId: "id-2", seq: 2 });
  });
});
