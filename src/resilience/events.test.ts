import { describe, expect, it } from "vitest";
import { EventEmitter } from "./events.js";

describe("EventEmitter", () => {
  it("delivers to every listener until it is disposed", () => {
    const emitter = new EventEmitter<number>();
    const a: number[] = [];
    const b: number[] = [];
    const subA = emitter.event((n) => a.push(n));
    emitter.event((n) => b.push(n));
    emitter.emit(1);
    subA.dispose();
    subA.dispose(); // idempotent
    emitter.emit(2);
    expect(a).toEqual([1]);
    expect(b).toEqual([1, 2]);
  });

  it("supports Symbol.dispose and reports whether anyone listens", () => {
    const emitter = new EventEmitter<string>();
    expect(emitter.hasListeners).toBe(false);
    const seen: string[] = [];
    {
      using _sub = emitter.event((s) => seen.push(s));
      expect(emitter.hasListeners).toBe(true);
      emitter.emit("in scope");
    }
    emitter.emit("out of scope");
    expect(seen).toEqual(["in scope"]);
    expect(emitter.hasListeners).toBe(false);
  });

  it("lets a listener unsubscribe itself during emit without skipping the others", () => {
    const emitter = new EventEmitter<number>();
    const seen: string[] = [];
    const first = emitter.event(() => {
      seen.push("first");
      first.dispose();
    });
    emitter.event(() => seen.push("second"));
    emitter.emit(1);
    emitter.emit(2);
    expect(seen).toEqual(["first", "second", "second"]);
  });
});
