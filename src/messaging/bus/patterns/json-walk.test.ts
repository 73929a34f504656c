import { describe, expect, it } from "vitest";
import { parseEventPattern } from "./event-pattern.js";
import { PatternIndex } from "./pattern-index.js";

function indexOf(patterns: Record<string, unknown>): PatternIndex<string> {
  const index = new PatternIndex<string>();
  for (const [id, pattern] of Object.entries(patterns)) index.set(id, parseEventPattern(pattern));
  return index;
}

describe("matching events from JSON text", () => {
  const index = indexOf({
    status: { detail: { status: ["paid"] } },
    total: { detail: { total: [{ numeric: [">", 100] }] } },
    flag: { detail: { flag: [true] } },
    nothing: { detail: { gone: [null] } },
    absent: { detail: { coupon: [{ exists: false }] } },
    proto: { detail: { constructor: ["x"] } },
  });
  const matches = (text: string): string[] => index.matchJson(text).sort();

  it("agrees with matching the parsed text, whatever the spacing and escapes", () => {
    const texts = [
      '{"detail":{"status":"paid","total":1e3,"flag":true,"gone":null}}',
      ' {\n "detail" : { "st\\u0061tus" : "p\\u0061id" , "total" : 100.5 ,"flag":true,"gone":null } } ',
      '{"other":{"status":"paid","x":[1,{"a":"}"},"\\"]"]},"detail":{"status":["held","paid"],"total":-1}}',
      '{"detail":{"constructor":"x","items":[[{"status":"paid"}]]}}',
      '{"detail":{"status":"pa\\"id","coupon":"C1","note":"\\\\"}}',
      '{"detail":[]}',
      "[]",
      '"text"',
    ];
    for (const text of texts)
      expect(matches(text), text).toEqual(index.match(JSON.parse(text)).sort());
  });

  it("finds values inside arrays and tells absent fields", () => {
    expect(matches('{"detail":{"status":["held","paid"],"total":[5,500]}}')).toEqual([
      "absent",
      "status",
      "total",
    ]);
    expect(matches('{"detail":{"coupon":"C1"}}')).toEqual([]);
  });

  it("refuses text that is not JSON with JSON.parse's SyntaxError", () => {
    // Values at paths no pattern names are skipped, not checked: the broken ones here are read.
    const broken = [
      '{"detail":{"status":"paid"',
      '{"detail" "paid"}',
      "{",
      "",
      '{"detail":{"flag":tru}}',
    ];
    for (const text of broken) expect(() => index.matchJson(text), text).toThrow(SyntaxError);
  });
});
