import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BusError } from "./bus-error.js";
import type { BusEvent, Target } from "./event-bus-service.js";
import { compileTargetInput, transformInput } from "./input-transformer.js";
import {
  PatternError,
  PatternIndex,
  matchesPatternReference,
  parseEventPattern,
} from "./patterns/index.js";
import { parseSchedule } from "./schedule-expression.js";

/**
 * What users write for the bus, fuzzed by structure rather than by random text alone: trees
 * built from the languages' own words (operators, JSONPath, cron fields) in wrong places and
 * with wrong operands, so the parsers' deep branches are reached. Each input either parses or
 * is refused with the typed error naming the field; nothing else may escape (a TypeError from a
 * shape nobody expected, a RangeError from a number).
 */

const OPERATORS = [
  "prefix",
  "suffix",
  "numeric",
  "anything-but",
  "exists",
  "cidr",
  "wildcard",
  "equals-ignore-case",
  "$or",
];
const KEYS = [...OPERATORS, "source", "detail", "status", "total", "x", ""];
const leafValue = fc.oneof(
  fc.constantFrom("", "a", "10.0.0.0/8", "::1/128", "*", "a*b", "\\*", "=", ">", "<=", "<", "!"),
  fc.string({ maxLength: 6 }),
  fc.oneof(fc.integer(), fc.double(), fc.constant(1e300), fc.constant(-0)),
  fc.boolean(),
  fc.constant(null),
);
const patternTree: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leafValue,
    fc.array(fc.oneof(leafValue, tie("object")), { maxLength: 4 }),
    tie("object"),
  ),
  object: fc.dictionary(fc.constantFrom(...KEYS), tie("node"), { maxKeys: 3 }),
})).node;

/** Patterns close to valid ones: fields holding lists of values and of operators with operands. */
const text = fc.constantFrom("", "a", "shop", "placed", "10.0.0.0/24", "a*", "*b*", "x\\*");
const operatorMatch = fc.oneof(
  fc.record({ prefix: fc.oneof(text, fc.record({ "equals-ignore-case": text })) }),
  fc.record({ suffix: fc.oneof(text, fc.record({ "equals-ignore-case": text })) }),
  fc.record({
    numeric: fc.oneof(
      fc.tuple(fc.constantFrom(">", ">=", "<", "<=", "="), fc.double({ noNaN: true })),
      fc.tuple(fc.constantFrom(">", ">="), fc.integer(), fc.constantFrom("<", "<="), fc.integer()),
    ),
  }),
  fc.record({
    "anything-but": fc.oneof(
      text,
      fc.integer(),
      fc.array(fc.oneof(text, fc.integer()), { maxLength: 3 }),
      fc.record({ prefix: text }),
      fc.record({ suffix: text }),
      fc.record({ wildcard: text }),
      fc.record({ "equals-ignore-case": fc.oneof(text, fc.array(text, { maxLength: 2 })) }),
    ),
  }),
  fc.record({ exists: fc.boolean() }),
  fc.record({ cidr: fc.constantFrom("10.0.0.0/8", "10.1.2.0/24", "::/0", "1.2.3.4/32") }),
  fc.record({ wildcard: text }),
  fc.record({ "equals-ignore-case": text }),
);
const leafList = fc.array(
  fc.oneof(text, fc.integer({ min: -5, max: 5 }), fc.boolean(), fc.constant(null), operatorMatch),
  { minLength: 1, maxLength: 3 },
);
const plausiblePattern: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  fields: fc.dictionary(
    fc.constantFrom("source", "detail", "status", "total", "x", "a b"),
    fc.oneof({ depthSize: "small" }, leafList, tie("fields")),
    { minKeys: 1, maxKeys: 3 },
  ),
  pattern: fc.oneof(
    { depthSize: "small" },
    tie("fields"),
    fc.record({ $or: fc.array(tie("fields"), { minLength: 2, maxLength: 3 }) }),
  ),
})).pattern;

const event: fc.Arbitrary<BusEvent> = fc.record({
  version: fc.constant("0"),
  id: fc.uuid(),
  "detail-type": fc.string({ maxLength: 8 }),
  source: fc.constantFrom("shop", "x", ""),
  account: fc.constant("000000000000"),
  time: fc.constant("2026-01-01T00:00:00Z"),
  region: fc.constant("us-east-1"),
  resources: fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }),
  detail: fc.dictionary(fc.constantFrom("status", "total", "x", "a b", "n"), fc.jsonValue(), {
    maxKeys: 4,
  }),
});

describe("event patterns built from the language's own words", () => {
  it("parse, or are refused with a PatternError naming the path; what parses matches as the reference does", () => {
    fc.assert(
      fc.property(fc.oneof(patternTree, plausiblePattern), event, (tree, e) => {
        let pattern;
        try {
          pattern = parseEventPattern(JSON.stringify(tree));
        } catch (error) {
          if (!(error instanceof PatternError)) throw error;
          expect(error.message).toMatch(/^Event pattern is not valid\. Reason: /);
          return;
        }
        const index = new PatternIndex<number>();
        index.set(1, pattern);
        const expected = matchesPatternReference(pattern, e);
        expect(index.match(e).length > 0).toBe(expected);
        expect(index.matchJson(JSON.stringify(e)).length > 0).toBe(expected);
      }),
      { numRuns: 3_000, seed: 41 },
    );
  });
});

const pathText = fc.oneof(
  fc.constantFrom("$", "$.detail", "$.detail.status", "$.detail['a b']", "$.resources[0]"),
  fc.constantFrom("$..x", "$.detail.*", "detail", "$.", "$[", "$.detail[-1]", "$['", ""),
  fc.string({ maxLength: 8 }).map((s) => `$.${s}`),
  fc.jsonValue(),
);
const template = fc.oneof(
  fc.constantFrom(
    '{"s": <s>}',
    '"text <s>"',
    "<aws.events.event>",
    '{"e": <aws.events.event.json>, "r": "<aws.events.rule-name>"}',
    '["<s>", <s>]',
    "<s",
    "<>",
    '{"s": "\\<s>"}',
    "",
  ),
  fc.string({ maxLength: 12 }),
  fc.jsonValue(),
);
const transformer = fc.record(
  {
    InputPathsMap: fc.oneof(
      fc.dictionary(fc.constantFrom("s", "t", "aws.x", "a b", "", "0"), pathText, {
        maxKeys: 3,
      }),
      fc.jsonValue(),
    ),
    InputTemplate: template,
  },
  { requiredKeys: [] },
);
// Mostly one of the three (as users write them), sometimes several or none.
const input = fc.oneof(fc.json(), fc.string({ maxLength: 8 }), fc.jsonValue());
const target = fc.oneof(
  fc.record({ Input: input }),
  fc.record({ InputPath: pathText }),
  fc.record({ InputTransformer: transformer }),
  fc.record(
    {
      Input: input,
      InputPath: pathText,
      InputTransformer: fc.oneof(transformer, fc.jsonValue()),
    },
    { requiredKeys: [] },
  ),
);

describe("target inputs (Input, InputPath, InputTransformer) of any shape", () => {
  it("compile, or are refused with a ValidationException naming the field; what compiles transforms any event", () => {
    const context = { ruleArn: "arn:r", ruleName: "r", ingestionTime: "2026-01-01T00:00:00Z" };
    fc.assert(
      fc.property(target, event, (t, e) => {
        let compiled;
        try {
          compiled = compileTargetInput({ Id: "t", Arn: "arn:q", ...t } as Target, "Targets[0]");
        } catch (error) {
          if (!(error instanceof BusError)) throw error;
          expect(error.ebError).toBe("ValidationException");
          expect(error.message).toMatch(/^Targets\[0\]/);
          return;
        }
        transformInput(compiled, e, context);
      }),
      { numRuns: 3_000, seed: 43 },
    );
  });
});

const cronField = fc.oneof(
  fc.constantFrom("*", "?", "0", "59", "60", "1-5", "5-1", "*/15", "0/0", "MON-FRI", "JAN,DEC"),
  fc.constantFrom("*", "?", "*", "?", "1", "10-20/3", "2026"),
  fc.constantFrom("L", "W", "3#2", "-1", "1,", ",", "1--2", "/5", "1/", "2199", "1970", "99999"),
  fc.integer({ min: -2, max: 3000 }).map(String),
);
/** Values valid in each cron place: minutes, hours, day of month, month, day of week, year. */
const CRON_PLACES = [
  fc.constantFrom("*", "0", "15", "0/5", "10-20", "1,31,59"),
  fc.constantFrom("*", "0", "23", "9-17", "*/6"),
  fc.constantFrom("*", "1", "15", "31", "1-7", "29,30,31"),
  fc.constantFrom("*", "2", "FEB", "JAN-MAR", "*/3", "12"),
  fc.constantFrom("*", "1", "MON", "MON-FRI", "SAT,SUN", "7"),
  fc.constantFrom("*", "2026", "2030-2040", "2199", "1970"),
];
const schedule = fc.oneof(
  // Six fields, each mostly valid for its place, with exactly one of day-of-month and
  // day-of-week "?": so that parsing succeeds often and `next` runs on many schedules.
  fc
    .tuple(
      fc.tuple(...CRON_PLACES.map((valid) => fc.oneof({ weight: 4, arbitrary: valid }, cronField))),
      fc.boolean(),
    )
    .map(([fields, onDay]) => {
      const f = [...fields];
      f[onDay ? 4 : 2] = "?";
      if (f[onDay ? 2 : 4] === "?") f[onDay ? 2 : 4] = "*";
      return `cron(${f.join(" ")})`;
    }),
  fc
    .tuple(fc.array(cronField, { minLength: 4, maxLength: 7 }))
    .map(([f]) => `cron(${f.join(" ")})`),
  fc
    .tuple(
      fc.oneof(fc.integer({ min: -1, max: 100_000 }).map(String), fc.constantFrom("1.5", "", "x")),
      fc.constantFrom("minute", "minutes", "hour", "hours", "day", "days", "week", ""),
    )
    .map(([value, unit]) => `rate(${value} ${unit})`),
  fc.string({ maxLength: 12 }),
  fc.jsonValue(),
);

describe("schedule expressions of any shape", () => {
  it("parse, or are refused with a ValidationException; what parses gives a later firing time or none", () => {
    fc.assert(
      fc.property(schedule, fc.integer({ min: 0, max: 4_000_000_000_000 }), (text, after) => {
        let parsed;
        try {
          parsed = parseSchedule(text);
        } catch (error) {
          if (!(error instanceof BusError)) throw error;
          expect(error.ebError).toBe("ValidationException");
          return;
        }
        const next = parsed.next(after);
        if (next !== undefined) expect(next).toBeGreaterThan(after);
      }),
      { numRuns: 3_000, seed: 47 },
    );
  });
});
