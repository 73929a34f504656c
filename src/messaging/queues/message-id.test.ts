import { describe, expect, it } from "vitest";
import { newMessageId } from "./message-id.js";

describe("newMessageId", () => {
  it("gives version 4 UUIDs, all different, across many draws", () => {
    const ids = Array.from({ length: 1000 }, newMessageId);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // Every hex digit of the random part shows up: the bytes are formatted, not left as zeros.
    expect(new Set(ids.join("").replaceAll("-", "")).size).toBe(16);
  });
});
