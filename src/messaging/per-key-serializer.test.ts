import { describe, expect, it } from "vitest";
import { PerKeySerializer } from "./per-key-serializer.js";

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("PerKeySerializer", () => {
  it("runs read-modify-writes of one key one after another, so none is lost", async () => {
    const serializer = new PerKeySerializer();
    let stored: string[] = [];
    const append = (item: string) =>
      serializer.run("topic", async () => {
        const read = stored;
        await tick();
        stored = [...read, item];
      });
    await Promise.all(["a", "b", "c", "d"].map(append));
    expect(stored).toEqual(["a", "b", "c", "d"]);
  });

  it("a failed call rejects its own caller only; the next one still runs", async () => {
    const serializer = new PerKeySerializer();
    const failed = serializer.run("k", () => Promise.reject(new Error("boom")));
    const next = serializer.run("k", () => Promise.resolve("ran"));
    await expect(failed).rejects.toThrow("boom");
    await expect(next).resolves.toBe("ran");
  });

  it("calls for different keys do not wait for each other", async () => {
    const serializer = new PerKeySerializer();
    let release!: () => void;
    const blocked = serializer.run("a", () => new Promise<void>((r) => (release = r)));
    await expect(serializer.run("b", () => Promise.resolve("free"))).resolves.toBe("free");
    release();
    await blocked;
  });
});
