import { describe, expect, it } from "vitest";
import { TailCache } from "./tail-cache.js";

const batch = (bytes: number): Buffer => Buffer.alloc(bytes, 1);

describe("TailCache handing buffers back", () => {
  it("hands back a batch that falls out unread, and keeps one a reader was given", () => {
    const released: Buffer[] = [];
    const release = (b: Buffer): void => void released.push(b);
    const cache = new TailCache(250);
    const [a, b, c, d] = [batch(100), batch(100), batch(100), batch(100)];
    cache.add(a, 0, 9, release);
    cache.add(b, 10, 19, release);
    // A reader takes b (and so may keep views of it).
    expect([...cache.from(10, 1)!]).toEqual([b]);
    cache.add(c, 20, 29, release); // a falls out
    expect(released).toEqual([a]);
    cache.add(d, 30, 39, release); // b falls out: read, so not handed back
    expect(released).toEqual([a]);
    expect([...cache.from(20, 1000)!]).toEqual([c, d]);
    cache.clear();
    expect(released).toEqual([a]); // c and d were read
  });

  it("hands back unread batches when cleared (a roll), and at once when it caches nothing", () => {
    const released: Buffer[] = [];
    const cache = new TailCache(1000);
    const [a, b] = [batch(100), batch(100)];
    cache.add(a, 0, 0, (x) => void released.push(x));
    cache.add(b, 1, 1); // no callback: never handed back
    cache.clear();
    expect(released).toEqual([a]);
    const none = new TailCache(0);
    const c = batch(10);
    none.add(c, 0, 0, (x) => void released.push(x));
    expect(released).toEqual([a, c]);
  });

  it("stops a reader at batches that fell out while it was busy, never yielding a dropped one", () => {
    const cache = new TailCache(250);
    cache.add(batch(100), 0, 9);
    cache.add(batch(100), 10, 19);
    const reading = cache.from(0, 1000)![Symbol.iterator]();
    expect(reading.next().value).toHaveLength(100);
    cache.add(batch(100), 20, 29);
    cache.add(batch(100), 30, 39); // 0-9 and 10-19 fall out
    expect(reading.next().done).toBe(true);
  });
});

describe("TailCache bounds", () => {
  it("keeps at most maxBatches batches however small they are, the oldest falling out first", () => {
    const released: number[] = [];
    const cache = new TailCache(1024 * 1024, 3);
    for (let i = 0; i < 10; i++) cache.add(batch(10), i, i, () => void released.push(i));
    expect(released).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(cache.from(6, 1000)).toBeUndefined();
    expect([...cache.from(7, 1000)!]).toHaveLength(3);
  });
});
