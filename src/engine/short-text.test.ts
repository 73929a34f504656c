import { describe, expect, it } from "vitest";
import { utf8Length, writeUtf8 } from "./short-text.js";

describe("short text as UTF-8", () => {
  it("measures and writes the bytes Node's encoder does, ASCII or not, short or long", () => {
    for (const text of [
      "",
      "m",
      "0b7f3c52-3b1e-4a4e-9a53-2f1f2d0e5c11",
      "née ✓ 𝄞",
      "x".repeat(65),
      "é".repeat(70),
    ]) {
      const expected = Buffer.from(text, "utf8");
      expect(utf8Length(text)).toBe(expected.length);
      const buf = Buffer.alloc(expected.length + 4, 0xee);
      expect(writeUtf8(buf, 2, text)).toBe(2 + expected.length);
      expect(buf.subarray(2, 2 + expected.length).equals(expected)).toBe(true);
      expect(buf[0]).toBe(0xee);
      expect(buf[buf.length - 1]).toBe(0xee);
    }
  });
});
