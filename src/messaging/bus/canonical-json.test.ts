import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { prepareEvent } from "./bus-event.js";
import type { PutEventsRequestEntry } from "./event-bus-service.js";
import { isCanonicalJsonObject } from "./canonical-json.js";

/** The property the bus relies on: true only for text that JSON.stringify(JSON.parse(text)) gives back. */
function canonicalByReference(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    JSON.stringify(value) === text
  );
}

/** Whether an object in `value` has a key that is an array index. */
const hasIndexKey = (value: unknown): boolean =>
  Array.isArray(value)
    ? value.some(hasIndexKey)
    : value !== null &&
      typeof value === "object" &&
      Object.entries(value).some(([k, v]) => /^\d+$/.test(k) || hasIndexKey(v));

describe("isCanonicalJsonObject", () => {
  it("holds for objects as JSON.stringify writes them", () => {
    for (const text of [
      "{}",
      '{"a":1}',
      '{"a":-1.5,"b":[true,false,null],"c":{"d":"e"},"":""}',
      '{"q":"a\\"b\\\\c\\n\\t\\r\\b\\f","e":"é😀\u2028"}',
      '{"n":1e+21,"m":1.5e-7,"k":0.1,"z":0,"big":123456789012345}',
      '{"__proto__":1}',
      '{"a01":1,"0a":2}',
    ]) {
      expect(canonicalByReference(text), text).toBe(true);
      expect(isCanonicalJsonObject(text), text).toBe(true);
    }
  });

  it("is false for JSON written otherwise, for text that is not JSON, and past its depth", () => {
    for (const text of [
      '{"a": 1}',
      ' {"a":1}',
      '{"a":1}\n',
      '{"a":1.0}',
      '{"a":1E5}',
      '{"a":-0}',
      '{"a":1e400}',
      '{"a":12345678901234567890}',
      '{"a":"\\u0041"}',
      '{"a":"\\/"}',
      '{"a":"\\ud800"}',
      '{"a":"\ud800"}',
      '{"a":"\u0001"}',
      '{"a":1,"a":2}',
      '{"b":1,"1":2}',
      '{"1":2}',
      "[1]",
      '"a"',
      "{",
      '{"a":}',
      '{"a":1,}',
      '{"a":tru}',
      '{"a":truex}',
      '{"a":"x}',
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":+1}',
      '{"a":[1,]}',
      '{"a":"\\x"}',
      '{"a":1}}',
      "{'a':1}",
      "",
      // Canonical, but nested deeper than the check goes: left to JSON.parse.
      `{"a":${'{"a":'.repeat(80)}1${"}".repeat(80)}}`,
    ])
      expect(isCanonicalJsonObject(text), JSON.stringify(text)).toBe(false);
  });

  it("repeated keys are found past the keys compared in line", () => {
    const keys = Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`);
    expect(isCanonicalJsonObject(`{${keys.join(",")}}`)).toBe(true);
    expect(isCanonicalJsonObject(`{${keys.join(",")},"k3":0}`)).toBe(false);
    expect(isCanonicalJsonObject(`{${keys.join(",")},"x":{"k3":0}}`)).toBe(true);
  });

  it("agrees with JSON.stringify(JSON.parse(text)) on random JSON, as written and mutated", () => {
    const objects = fc.dictionary(fc.string({ unit: "binary" }), fc.jsonValue());
    fc.assert(
      fc.property(objects, (value) => {
        const text = JSON.stringify(value);
        // Canonical text is recognised, except with array-index keys or \u escapes (control
        // characters, lone surrogates), which are left to the slow path.
        const recognised = isCanonicalJsonObject(text);
        if (hasIndexKey(value)) expect(recognised).toBe(false);
        else if (!text.includes("\\u")) expect(recognised).toBe(true);
      }),
      { numRuns: 3000 },
    );
    const mutated = fc
      .tuple(
        objects,
        fc.nat(),
        fc.constantFrom(" ", "\\", '"', ",", "0", ".", "e", "}", "-", "\\u0041", "1"),
      )
      .map(([value, at, insert]) => {
        const text = JSON.stringify(value);
        const i = at % (text.length + 1);
        return text.slice(0, i) + insert + text.slice(i);
      });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.string({ unit: "binary" })), (text) => {
        // Never true where the reference says no (it may be false where the reference says yes).
        if (isCanonicalJsonObject(text)) expect(canonicalByReference(text)).toBe(true);
      }),
      { numRuns: 20000 },
    );
  });
});

/** The event's text the plain way: the detail parsed, the whole event written by JSON.stringify. */
function referenceEvent(
  entry: PutEventsRequestEntry,
  id: string,
  nowMs: number,
): { text: string; detail: unknown } | "MalformedDetail" {
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail);
  } catch {
    return "MalformedDetail";
  }
  if (detail === null || typeof detail !== "object" || Array.isArray(detail))
    return "MalformedDetail";
  const time = new Date(Math.floor(nowMs / 1000) * 1000).toISOString().replace(".000Z", "Z");
  const event = {
    version: "0",
    id,
    "detail-type": entry.DetailType,
    source: entry.Source,
    account: "000000000000",
    time,
    region: "eu-west-1",
    resources: entry.Resources ?? [],
    detail,
  };
  return { text: JSON.stringify(event), detail };
}

describe("prepareEvent", () => {
  it("gives the text JSON.stringify gives of the event, with the detail's place", () => {
    const details = fc.oneof(
      fc.dictionary(fc.string(), fc.jsonValue()).map((v) => JSON.stringify(v)),
      fc.dictionary(fc.string(), fc.jsonValue()).map((v) => JSON.stringify(v, null, 1)),
      fc.string(),
    );
    fc.assert(
      fc.property(
        details,
        fc.string({ minLength: 1, maxLength: 50, unit: "binary" }),
        fc.array(fc.string({ unit: "binary" }), { maxLength: 3 }),
        (Detail, Source, Resources) => {
          const entry = { Source, DetailType: 'T\u2028"', Detail, Resources };
          const prepared = prepareEvent(entry, 1_700_000_000_123, "eu-west-1", "000000000000");
          const id = "ErrorCode" in prepared ? "" : prepared.id;
          const reference = referenceEvent(entry, id, 1_700_000_000_123);
          if (reference === "MalformedDetail") {
            expect(prepared).toMatchObject({ ErrorCode: "MalformedDetail" });
            return;
          }
          if ("ErrorCode" in prepared) throw new Error(`refused: ${prepared.ErrorMessage}`);
          expect(prepared.text).toBe(reference.text);
          if (prepared.detailStart >= 0)
            expect(prepared.text.slice(prepared.detailStart, -1)).toBe(
              JSON.stringify(reference.detail),
            );
        },
      ),
      { numRuns: 3000 },
    );
  });
});
