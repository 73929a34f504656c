import { describe, expect, it } from "vitest";
import { parseFilterPolicy } from "./filter-policy.js";
import { type Filterable, SharedFilters } from "./shared-filters.js";

const message = (attributes: Record<string, unknown>, body?: unknown): Filterable => ({
  attributesForFiltering: attributes,
  bodyForFiltering: body,
  verdicts: undefined,
});

describe("SharedFilters", () => {
  it("matches each subscription's policy in its own scope", () => {
    const filters = new SharedFilters();
    filters.set(
      "a",
      parseFilterPolicy({ kind: ["order"] }, "MessageAttributes"),
      "MessageAttributes",
    );
    filters.set(
      "b",
      parseFilterPolicy({ kind: ["refund"] }, "MessageAttributes"),
      "MessageAttributes",
    );
    filters.set(
      "c",
      parseFilterPolicy({ total: [{ numeric: [">", 10] }] }, "MessageBody"),
      "MessageBody",
    );
    const m = message({ kind: "order" }, { total: 12 });
    expect(filters.passes("a", "MessageAttributes", m)).toBe(true);
    expect(filters.passes("b", "MessageAttributes", m)).toBe(false);
    expect(filters.passes("c", "MessageBody", m)).toBe(true);
    expect(filters.passes("c", "MessageBody", message({ kind: "order" }))).toBe(false);
  });

  it("does not answer from a message's cached verdicts once a policy changed", () => {
    const filters = new SharedFilters();
    filters.set(
      "a",
      parseFilterPolicy({ kind: ["order"] }, "MessageAttributes"),
      "MessageAttributes",
    );
    const m = message({ kind: "refund" });
    expect(filters.passes("a", "MessageAttributes", m)).toBe(false);
    filters.set(
      "a",
      parseFilterPolicy({ kind: ["refund"] }, "MessageAttributes"),
      "MessageAttributes",
    );
    expect(filters.passes("a", "MessageAttributes", m)).toBe(true);
    filters.delete("a");
    filters.set("a", parseFilterPolicy({ kind: ["x"] }, "MessageBody"), "MessageBody");
    expect(filters.passes("a", "MessageAttributes", m)).toBe(false);
  });
});
