import { describe, expect, it } from "vitest";
import { ExpiringMap } from "./expiring-map.js";

describe("ExpiringMap", () => {
  it("forgets an entry ttl after it was set, not before", () => {
    const map = new ExpiringMap<string>(1000);
    map.set("a", "first", 0);
    expect(map.get("a", 999)).toBe("first");
    expect(map.get("a", 1000)).toBeUndefined();
    expect(map.size).toBe(0);
  });

  it("keeps a key set again alive when its older entry expires", () => {
    const map = new ExpiringMap<string>(1000);
    map.set("a", "old", 0);
    map.set("a", "new", 500);
    expect(map.get("a", 1200)).toBe("new");
    expect(map.get("a", 1500)).toBeUndefined();
  });

  it("prunes only what expired, oldest first", () => {
    const map = new ExpiringMap<number>(10);
    for (let i = 0; i < 100; i++) map.set(`k${i}`, i, i);
    map.prune(50);
    expect(map.size).toBe(59);
    expect(map.get("k40", 50)).toBeUndefined();
    expect(map.get("k41", 50)).toBe(41);
    map.delete("k41");
    expect(map.get("k41", 50)).toBeUndefined();
  });
});
