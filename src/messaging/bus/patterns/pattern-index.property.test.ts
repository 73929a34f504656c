import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseEventPattern } from "./event-pattern.js";
import { PatternError } from "./pattern-error.js";
import { PatternIndex } from "./pattern-index.js";
import { matchesPatternReference } from "./reference-matcher.js";

// A small vocabulary so that random patterns and random events actually meet.
const keys = ["a", "b", "c", "a.b", 'q"k'];
const strings = [
  "",
  "x",
  "xy",
  "XY",
  "yx",
  "zy",
  "10.0.0.7",
  "10.1.0.1",
  "2001:db8::1",
  "a*b",
  "ab",
  'x"y\\',
];
const numbers = [-1, 0, 0.5, 1, 2, 3, 5e9];

const scalar = fc.oneof(
  fc.constantFrom(...strings),
  fc.constantFrom(...numbers),
  fc.constantFrom(true, false, null),
);

const leafOperator = fc.oneof(
  scalar,
  fc.constantFrom(...strings).map((s) => ({ prefix: s })),
  fc.constantFrom(...strings).map((s) => ({ suffix: s })),
  fc.constantFrom(...strings).map((s) => ({ prefix: { "equals-ignore-case": s } })),
  fc.constantFrom(...strings).map((s) => ({ suffix: { "equals-ignore-case": s } })),
  fc.constantFrom(...strings).map((s) => ({ "equals-ignore-case": s })),
  // Every shape the wildcard table files differently: literal head, literal tail, both, none.
  fc
    .constantFrom("x*", "*y", "*", "x*y", "a\\*b", "*0.*", "*x*y", "x*y*", "*y*", "x*x")
    .map((s) => ({ wildcard: s })),
  fc
    .oneof(
      fc.constantFrom(...strings.filter((s) => s !== "")),
      fc.constantFrom(...numbers),
      fc.array(fc.oneof(fc.constantFrom(...strings), fc.constantFrom(...numbers)), {
        minLength: 1,
        maxLength: 3,
      }),
      fc.constantFrom("x", "1").map((s) => ({ prefix: s })),
      fc.constantFrom("y", "1").map((s) => ({ suffix: s })),
      fc.constantFrom("x*", "*1", "*x*y", "y*").map((s) => ({ wildcard: s })),
      fc.constantFrom("XY", "ab").map((s) => ({ "equals-ignore-case": s })),
    )
    .map((v) => ({ "anything-but": v })),
  fc
    .tuple(
      fc.constantFrom(...numbers),
      fc.constantFrom(...numbers),
      fc.constantFrom(">", ">="),
      fc.constantFrom("<", "<="),
    )
    .map(([x, y, lo, hi]) =>
      x < y ? { numeric: [lo, x, hi, y] } : { numeric: [x === y ? "=" : lo, x] },
    ),
  fc
    .constantFrom("10.0.0.0/16", "10.0.0.0/8", "2001:db8::/32", "0.0.0.0/0")
    .map((c) => ({ cidr: c })),
  fc.boolean().map((b) => ({ exists: b })),
);

const leafList = fc.array(leafOperator, { minLength: 1, maxLength: 3 });

type PatternJson = { [key: string]: unknown };

const fields = fc.dictionary(
  fc.constantFrom(...keys),
  fc.oneof(
    { weight: 3, arbitrary: leafList },
    {
      weight: 1,
      arbitrary: fc.dictionary(fc.constantFrom(...keys), leafList, { minKeys: 1, maxKeys: 2 }),
    },
  ),
  { minKeys: 1, maxKeys: 3 },
);

/** Patterns with `$or` nested at most `depth` deep (small enough for EventBridge's size limit). */
function patternAt(depth: number): fc.Arbitrary<PatternJson> {
  if (depth === 0) return fields;
  return fc
    .tuple(
      fields,
      fc.option(fc.array(patternAt(depth - 1), { minLength: 2, maxLength: 3 }), { freq: 3 }),
    )
    .map(([f, or]) => (or === null ? f : { ...f, $or: or }));
}

const patternJson = patternAt(2).filter((p) => JSON.stringify(p).length <= 2048);

const eventValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { weight: 4, arbitrary: scalar },
    { weight: 1, arbitrary: fc.array(tie("v"), { maxLength: 3 }) },
    {
      weight: 1,
      arbitrary: fc.dictionary(fc.constantFrom(...keys), tie("v"), { maxKeys: 3 }),
    },
  ),
})).v;

const event = fc.dictionary(fc.constantFrom(...keys), eventValue, { maxKeys: 4 });

/**
 * Patterns assembled from a small pool of conditions, so that many of them begin alike, repeat
 * a condition inside an `$or` alternative, or equal each other: the cases where the automaton
 * shares states between alternatives and patterns.
 */
const poolEntry = fc.tuple(
  fc.constantFrom(...keys),
  fc.oneof(
    { weight: 3, arbitrary: leafList },
    {
      weight: 1,
      arbitrary: fc.dictionary(fc.constantFrom(...keys), leafList, { minKeys: 1, maxKeys: 1 }),
    },
  ),
);

function parses(pattern: unknown): boolean {
  try {
    parseEventPattern(pattern);
    return true;
  } catch {
    return false;
  }
}

const sharingPatterns = fc.array(poolEntry, { minLength: 2, maxLength: 6 }).chain((pool) => {
  const part = fc
    .subarray(pool, { minLength: 1, maxLength: Math.min(3, pool.length) })
    .map((e) => Object.fromEntries(e));
  const pattern = fc
    .tuple(part, fc.option(fc.array(part, { minLength: 2, maxLength: 3 }), { freq: 3 }))
    .map(([own, or]): PatternJson => (or === null ? own : { ...own, $or: or }))
    .filter((p) => JSON.stringify(p).length <= 2048 && parses(p));
  return fc.array(pattern, { minLength: 20, maxLength: 40 });
});

/**
 * Indexes `patterns` and checks every event against the reference matcher, parsed and as the
 * JSON text `textOf` gives; returns the (pattern, event) pairs compared and how many matched.
 */
function agreeWithReference(
  patterns: readonly unknown[],
  events: readonly unknown[],
  textOf: (event: unknown, i: number) => string,
): { pairs: number; matches: number } {
  const index = new PatternIndex<number>();
  const parsed = patterns.map((p) => parseEventPattern(p));
  parsed.forEach((p, i) => index.set(i, p));
  let matches = 0;
  for (const [n, e] of events.entries()) {
    const expected = parsed.flatMap((p, i) => (matchesPatternReference(p, e) ? [i] : []));
    expect(index.match(e).sort((x, y) => x - y)).toEqual(expected);
    expect(index.matchJson(textOf(e, n)).sort((x, y) => x - y)).toEqual(expected);
    matches += expected.length;
  }
  return { pairs: parsed.length * events.length, matches };
}

describe("PatternIndex agrees with the reference matcher", () => {
  it("on at least 100,000 random (pattern, event) pairs", () => {
    let pairs = 0;
    let matches = 0;
    fc.assert(
      fc.property(
        fc.array(patternJson, { minLength: 20, maxLength: 30 }),
        fc.array(event, { minLength: 20, maxLength: 30 }),
        (patterns, events) => {
          // The same event as JSON text, compact or spaced out, walked without parsing it.
          const met = agreeWithReference(patterns, events, (e, n) =>
            JSON.stringify(e, null, n % 2 === 0 ? undefined : 1),
          );
          pairs += met.pairs;
          matches += met.matches;
        },
      ),
      { numRuns: 180, seed: 17 },
    );
    expect(pairs).toBeGreaterThanOrEqual(100_000);
    // Random pairs must meet often enough for the comparison to mean something.
    expect(matches / pairs).toBeGreaterThan(0.01);
  });

  it("on patterns that share their beginnings, repeat conditions or equal each other", () => {
    let pairs = 0;
    let matches = 0;
    fc.assert(
      fc.property(
        sharingPatterns,
        fc.array(event, { minLength: 10, maxLength: 20 }),
        (patterns, events) => {
          const met = agreeWithReference(patterns, events, (e) => JSON.stringify(e));
          pairs += met.pairs;
          matches += met.matches;
        },
      ),
      { numRuns: 100, seed: 21 },
    );
    expect(pairs).toBeGreaterThanOrEqual(20_000);
    expect(matches / pairs).toBeGreaterThan(0.01);
  });

  it("after patterns are replaced and removed", () => {
    fc.assert(
      fc.property(
        fc.array(patternJson, { minLength: 2, maxLength: 8 }),
        fc.array(event, { maxLength: 8 }),
        (patterns, events) => {
          const index = new PatternIndex<number>();
          patterns.forEach((p, i) => index.set(i, parseEventPattern(p)));
          index.match({});
          index.delete(0);
          index.set(1, parseEventPattern(patterns[0]!));
          for (const e of events) {
            const expected: number[] = [];
            if (matchesPatternReference(parseEventPattern(patterns[0]!), e)) expected.push(1);
            for (let i = 2; i < patterns.length; i++)
              if (matchesPatternReference(parseEventPattern(patterns[i]!), e)) expected.push(i);
            expect(index.match(e).sort((x, y) => x - y)).toEqual(expected);
          }
        },
      ),
      { numRuns: 100, seed: 18 },
    );
  });
});

describe("event pattern parser under arbitrary input", () => {
  it("either parses or throws PatternError, never anything else", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.string(),
          patternJson.map((p) => mutate(p)),
        ),
        (input) => {
          try {
            parseEventPattern(input);
          } catch (error) {
            if (!(error instanceof PatternError)) throw error;
          }
        },
      ),
      { numRuns: 2_000, seed: 19 },
    );
  });

  it("every pattern built from the grammar parses", () => {
    fc.assert(
      fc.property(patternJson, (p) => {
        parseEventPattern(p);
      }),
      { numRuns: 1_000, seed: 20 },
    );
  });
});

/** Breaks a valid pattern in one place, the way a typo would. */
function mutate(pattern: PatternJson): unknown {
  const text = JSON.stringify(pattern);
  const at = text.length >> 1;
  return text.slice(0, at) + text.slice(at + 1);
}
