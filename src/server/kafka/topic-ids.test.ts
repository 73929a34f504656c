import { describe, expect, it } from "vitest";
import { topicIdOf, topicNamed } from "./topic-ids.js";

describe("topic ids", () => {
  it("are stable per name, distinct across names, never the zero UUID, and marked as version 8", () => {
    const a = topicIdOf("orders");
    expect(topicIdOf("orders")).toEqual(a);
    expect(a).toHaveLength(16);
    expect(topicIdOf("orders-2").equals(a)).toBe(false);
    expect(a.equals(Buffer.alloc(16))).toBe(false);
    expect(a[6]! >> 4).toBe(8);
    expect(a[8]! >> 6).toBe(2);
  });

  it("lead back to their topic among the names given, and to nothing for an unknown id", () => {
    const names = ["a", "b", "orders"];
    expect(topicNamed(topicIdOf("orders"), names)).toBe("orders");
    expect(topicNamed(topicIdOf("gone"), names)).toBeUndefined();
    expect(topicNamed(Buffer.alloc(16), names)).toBeUndefined();
  });
});
