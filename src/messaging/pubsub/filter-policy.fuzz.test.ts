import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PatternError, PatternIndex, matchesPatternReference } from "../bus/patterns/index.js";
import { attributesForFiltering, parseFilterPolicy } from "./filter-policy.js";

describe("filter policy parser under arbitrary input", () => {
  it("either parses or throws PatternError, for both scopes", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.jsonValue(), fc.string(), fc.json()),
        fc.constantFrom("MessageAttributes", "MessageBody" as const),
        (input, scope) => {
          try {
            parseFilterPolicy(input, scope);
          } catch (error) {
            if (!(error instanceof PatternError)) throw error;
            expect(error.message.startsWith("Invalid parameter: FilterPolicy: ")).toBe(true);
          }
        },
      ),
      { numRuns: 1_500, seed: 31 },
    );
  });

  it("SNS's documented attribute examples", () => {
    const attributes = attributesForFiltering({
      customer_interests: {
        DataType: "String.Array",
        StringValue: '["soccer", "rugby", "hockey"]',
      },
      store: { DataType: "String", StringValue: "example_corp" },
      event: { DataType: "String", StringValue: "order_placed" },
      price_usd: { DataType: "Number", StringValue: "210.75" },
      encrypted: { DataType: "Binary", BinaryValue: Buffer.from([1]) },
    });
    const matches = (policy: object): boolean => {
      const pattern = parseFilterPolicy(JSON.stringify(policy), "MessageAttributes");
      const index = new PatternIndex<true>();
      index.set(true, pattern);
      const viaIndex = index.match(attributes).length > 0;
      expect(viaIndex).toBe(matchesPatternReference(pattern, attributes));
      return viaIndex;
    };
    expect(
      matches({
        store: ["example_corp"],
        event: [{ "anything-but": "order_cancelled" }],
        customer_interests: ["rugby", "football", "baseball"],
        price_usd: [{ numeric: [">=", 100] }],
      }),
    ).toBe(true);
    expect(matches({ customer_interests: [{ prefix: "bas" }] })).toBe(false);
    expect(matches({ store: [{ suffix: "_corp" }] })).toBe(true);
    expect(matches({ store: [{ "equals-ignore-case": "EXAMPLE_CORP" }] })).toBe(true);
    expect(matches({ price_usd: [{ numeric: [">", 0, "<=", 150] }] })).toBe(false);
    expect(matches({ encrypted: [{ exists: true }] })).toBe(false); // Binary attributes are not matched
    expect(matches({ event: [{ exists: false }] })).toBe(false);
    expect(matches({ $or: [{ store: ["other"] }, { event: ["order_placed"] }] })).toBe(true);
    expect(matches({ price_usd: ["210.75"] })).toBe(false); // a Number attribute is not the string
  });
});
