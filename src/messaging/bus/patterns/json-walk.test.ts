import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { valueAtPath } from "../json-path.js";
import { parseEventPattern } from "./event-pattern.js";
import { JsonWalk } from "./json-walk.js";
import { PathNode } from "./path-node.js";
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

  it("tells keys apart in place: alike beginnings, equal hashes, the empty key, escapes", () => {
    // "Aa" and "BB" have the same hash; keys holding a quote or a backslash are escaped in the
    // text (`a\\` must not take the text of `a"`, whose text begins with the same characters).
    const keys = ["", "a", "ab", "Aa", "BB", "a\\", 'a"', "\\", '"', "é", "b c"];
    const tricky = indexOf(
      Object.fromEntries(
        keys.flatMap((key, i): [string, unknown][] => [
          [`exists-${i}`, { [key]: [{ exists: true }] }],
          [`nested-${i}`, { n: { [key]: [String(i)] } }],
        ]),
      ),
    );
    const value = fc.oneof(fc.constantFrom(...keys.map((_, i) => String(i))), fc.integer());
    const event = fc.dictionary(fc.constantFrom(...keys, "abc", "a\\b"), value, { maxKeys: 4 });
    fc.assert(
      fc.property(fc.record({ top: event, n: event }), fc.boolean(), ({ top, n }, spaced) => {
        const parsed = { ...top, n };
        const text = spaced ? JSON.stringify(parsed, null, 1) : JSON.stringify(parsed);
        // The same keys written with \\u escapes in the text.
        const escaped = text.replace(
          /"(a|b)/g,
          (_, c: string) => `"\\u00${c === "a" ? "61" : "62"}`,
        );
        const expected = tricky.match(parsed).sort();
        expect(tricky.matchJson(text).sort(), text).toEqual(expected);
        expect(tricky.matchJson(escaped).sort(), escaped).toEqual(expected);
      }),
      { numRuns: 2000, seed: 5 },
    );
  });

  it("tries first the key found at the same place before, and confirms it in place", () => {
    // One object after another at the same path, the keys at a place differing from the last
    // object's: a longer key that begins with it, a shorter one, the same key with escapes, a
    // key with an escaped quote after the guessed text, a key no pattern names; then objects
    // that lack a key the last one had, where the key after it is tried.
    const guessed = indexOf({
      a: { n: { a: ["1"] } },
      ab: { n: { ab: ["1"] } },
      x: { n: { x: ["1"] } },
      b: { n: { b: ["2"] } },
    });
    const texts = [
      '{"n":{"a":"1","x":"1"}}',
      '{"n":{"a":"1","x":"1"}}',
      '{"n":{"ab":"1","a":"1"}}',
      '{"n":{"a":"1","ab":"1"}}',
      '{"n":{"\\u0061b":"1","x":"1"}}',
      '{"n":{"a\\"":"1","x":"2"}}',
      '{"n":{"b":"1","a":"1","x":"1"}}',
      '{"n":{"b":"1","ab":"1","a":"1"}}',
      '{"n":{"a":"1","b":"2","x":"1"}}',
      '{"n":{"a":"1","x":"1"}}',
      '{"n":{"a":"1","b":"2","x":"1"}}',
      '{"n":{"b":"2","x":"1"}}',
      '{"n":{"a":"1","b":"2","x":"1"}}',
      '{"n":{"a":"1","xy":"1","x":"1"}}',
      '{"n":{"a":"1","b":"2","ab":"1"}}',
    ];
    for (const text of texts)
      expect(guessed.matchJson(text).sort(), text).toEqual(guessed.match(JSON.parse(text)).sort());
  });

  it("reads numbers as JSON.parse does, plain decimals of up to 15 digits by their digits", () => {
    const root = new PathNode();
    const n = new PathNode();
    n.indexed = true;
    root.children.set("n", n);
    root.freeze();
    const walk = new JsonWalk();
    const digits = fc.string({
      unit: fc.constantFrom(..."0123456789"),
      minLength: 1,
      maxLength: 18,
    });
    const decimal = fc
      .tuple(fc.boolean(), digits, fc.option(digits))
      .map(
        ([minus, whole, fraction]) =>
          `${minus ? "-" : ""}${whole.replace(/^0+(?=\d)/, "")}${fraction === null ? "" : `.${fraction}`}`,
      );
    const written = fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .map((d) => JSON.stringify(d));
    let epoch = 0;
    fc.assert(
      fc.property(
        fc.oneof(decimal, written, fc.constantFrom("-0", "0.1", "9007199254740993")),
        (token) => {
          walk.walk(`{"n":${token}}`, root, ++epoch);
          expect(Object.is(n.values[0], JSON.parse(token)), token).toBe(true);
        },
      ),
      { numRuns: 20_000, seed: 22 },
    );
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

  it("on any text, mangled JSON included, throws only a SyntaxError and agrees with JSON.parse when that parses", () => {
    const event = fc.record({
      detail: fc.record({
        status: fc.oneof(fc.constantFrom("paid", "held", 'p"aid'), fc.string()),
        total: fc.oneof(fc.double({ noNaN: true }), fc.integer()),
        flag: fc.boolean(),
        gone: fc.constant(null),
        note: fc.jsonValue(),
      }),
    });
    // Valid text, then the same text with characters cut, doubled or replaced.
    const text = event.chain((e) => {
      const json = JSON.stringify(e, null, 1);
      return fc.oneof(
        fc.constant(json),
        fc
          .tuple(
            fc.nat(json.length),
            fc.nat(4),
            fc.constantFrom("", '"', "{", "}", "[", ",", ":", "\\", "1e", " "),
          )
          .map(([at, cut, put]) => json.slice(0, at) + put + json.slice(at + cut)),
      );
    });
    fc.assert(
      fc.property(fc.oneof(text, fc.string()), (input) => {
        let parsed: unknown;
        let parses = true;
        try {
          parsed = JSON.parse(input);
        } catch {
          parses = false;
        }
        let found: string[] | undefined;
        try {
          found = matches(input);
        } catch (error) {
          expect(error).toBeInstanceOf(SyntaxError);
          expect(parses).toBe(false);
          return;
        }
        if (parses) expect(found).toEqual(index.match(parsed).sort());
      }),
      { numRuns: 3000 },
    );
  });
});

describe("the text of a part of a JSON value", () => {
  /** Every path in `value`, through objects and arrays. */
  function pathsOf(value: unknown, at: (string | number)[] = []): (string | number)[][] {
    const paths = [at];
    if (Array.isArray(value)) value.forEach((v, i) => paths.push(...pathsOf(v, [...at, i])));
    else if (value !== null && typeof value === "object")
      for (const [k, v] of Object.entries(value)) paths.push(...pathsOf(v, [...at, k]));
    return paths;
  }

  it("is what serialising the parsed part gives, for text as JSON.stringify writes it", () => {
    const walk = new JsonWalk();
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        for (const path of pathsOf(JSON.parse(text))) {
          const part = walk.textAt(text, path);
          expect(part, JSON.stringify(path)).toBe(
            JSON.stringify(valueAtPath(JSON.parse(text), path)),
          );
        }
        expect(walk.textAt(text, ["\u0000absent"])).toBeUndefined();
        expect(walk.textAt(text, [1_000])).toBeUndefined();
      }),
      { numRuns: 500, seed: 21 },
    );
  });

  it("reads keys with escapes and text with spaces", () => {
    const walk = new JsonWalk();
    const text = ' { "a\\u0062" : [ 1 , { "c" : "d\\\\" } ] , "e" : 2 } ';
    expect(walk.textAt(text, ["ab", 1, "c"])).toBe('"d\\\\"');
    expect(walk.textAt(text, ["e"])).toBe("2");
    expect(walk.textAt(text, ["ab", 2])).toBeUndefined();
    expect(walk.textAt(text, ["e", "f"])).toBeUndefined();
  });
});
