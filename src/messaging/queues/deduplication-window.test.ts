import { describe, expect, it } from "vitest";
import { DeduplicationWindow, IN_WINDOW_LOG } from "./deduplication-window.js";

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
    expect(window.carryBefore(4, 1200)).toEqual([
      { key: "a", messageId: "id-1", seq: 1, sentAt: 500 },
      { key: "b", messageId: "id-2", seq: 2, sentAt: 600 },
      { key: "old", messageId: "id-3", seq: 3, sentAt: 1000 },
    ]);
    expect(window.carryBefore(4, 1200)).toEqual([]);
    expect(window.carryBefore(10, 1550)).toEqual([
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
    expect(window.carryBefore(10, 500).map((e) => e.key)).toEqual(["b", "c"]);
    expect(window.firstSend("a", 500, "x", 9, 9)).toEqual({ messageId: "id-1", seq: 1 });
    window.prune(1200); // "a" and "b" expire; "b"'s replaced entry goes without dropping the other
    expect(window.size).toBe(1);
    expect(window.firstSend("c", 1250, "x", 9, 9)).toEqual({ messageId: "id-3", seq: 3 });
  });
});
