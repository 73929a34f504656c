/**
 * Every event pattern example in EventBridge's documentation of its pattern language, with the
 * documented events it is matched against and the documented answer, checked three ways: by
 * `testEventPattern` (the plain reference matcher), by a `PatternIndex` holding that pattern
 * alone, and by one `PatternIndex` holding every pattern here at once (the shared automaton as
 * a bus with many rules has it), on the event as an object and as the JSON text a bus matches.
 *
 * Where the examples come from: the Amazon EventBridge User Guide, pages "Amazon EventBridge
 * event patterns", "Arrays in Amazon EventBridge event patterns", "Matching null values and empty
 * strings in Amazon EventBridge event patterns" and "Content filtering in Amazon EventBridge
 * event patterns" (github.com/awsdocs/amazon-eventbridge-user-guide, doc_source/, as archived in
 * June 2023), and the rule syntax column of "Comparison operators for use in event patterns in
 * Amazon EventBridge" (docs.aws.amazon.com/eventbridge/latest/userguide/
 * eb-create-pattern-operators.html). The JSON examples are AWS sample code, licensed MIT-0
 * (the guide's LICENSE-SAMPLECODE); only they are used here, not the guide's text. Obvious typos
 * in them are fixed and noted.
 *
 * `documented(...)`: the pattern and the event are both the guide's. `described(...)`: the
 * pattern is the guide's and the event is built from the values its text names for it (or, for
 * the counter-examples, from the rule it states).
 */
import { describe, expect, it } from "vitest";
import { parseEventPattern, testEventPattern } from "./event-pattern.js";
import { PatternError } from "./pattern-error.js";
import { PatternIndex } from "./pattern-index.js";

interface Example {
  readonly pattern: unknown;
  readonly event: unknown;
  readonly matches: boolean;
  readonly documented: boolean;
}

/** Every example, by section, as they are declared. */
const examples = new Map<string, Example[]>();
let section = "";

function documented(pattern: unknown, event: unknown, matches: boolean): void {
  add({ pattern, event, matches, documented: true });
}

function described(pattern: unknown, event: unknown, matches: boolean): void {
  add({ pattern, event, matches, documented: false });
}

function add(example: Example): void {
  const list = examples.get(section) ?? [];
  list.push(example);
  examples.set(section, list);
}

/** Patterns as JSON text (a pattern given as text stays as written: duplicate keys and all). */
const textOf = (pattern: unknown): string =>
  typeof pattern === "string" ? pattern : JSON.stringify(pattern);

// ------------------------------------------------------------------ the documented events

/** "Amazon EventBridge event patterns": the simple Amazon EC2 event. */
const ec2Event = {
  version: "0",
  id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "111122223333",
  time: "2017-12-22T18:43:48Z",
  region: "us-west-1",
  resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  detail: {
    "instance-id": "i-1234567890abcdef0",
    state: "terminated",
  },
};

/** "Field matching" and "Matching null values and empty strings": the Auto Scaling event. */
const autoScalingEvent = {
  version: "0",
  id: "3e3c153a-8339-4e30-8c35-687ebef853fe",
  "detail-type": "EC2 Instance Launch Successful",
  source: "aws.autoscaling",
  account: "123456789012",
  time: "2015-11-11T21:31:47Z",
  region: "us-east-1",
  resources: [],
  detail: {
    eventVersion: "",
    responseElements: null,
  },
};

/**
 * "Value matching": the Amazon Macie event, as far as the guide shows it (it is truncated there;
 * its description, broken over two lines in the guide, is one string here).
 */
const macieEvent = {
  version: "0",
  id: "0948ba87-d3b8-c6d4-f2da-732a1example",
  "detail-type": "Macie Finding",
  source: "aws.macie",
  account: "123456789012",
  time: "2021-04-29T23:12:15Z",
  region: "us-east-1",
  resources: [],
  detail: {
    schemaVersion: "1.0",
    id: "64b917aa-3843-014c-91d8-937ffexample",
    accountId: "123456789012",
    partition: "aws",
    region: "us-east-1",
    type: "Policy:IAMUser/S3BucketEncryptionDisabled",
    title: "Encryption is disabled for the S3 bucket",
    description:
      "Encryption is disabled for the Amazon S3 bucket. The data in the bucket isn’t encrypted using server-side encryption.",
    severity: {
      score: 1,
      description: "Low",
    },
    createdAt: "2021-04-29T15:46:02Z",
    updatedAt: "2021-04-29T23:12:15Z",
    count: 2,
  },
};

/** "Exists matching": the event the pattern matches. */
const pendingEvent = {
  version: "0",
  id: "7bf73129-1428-4cd3-a780-95db273d1602",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "123456789012",
  time: "2015-11-11T21:29:54Z",
  region: "us-east-1",
  resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
  detail: {
    "instance-id": "i-abcd1111",
    state: "pending",
  },
};

/**
 * "Exists matching" (the event the pattern does not match) and "Equals-ignore-case matching"
 * (the event it matches): its detail-type is an array.
 */
const countEvent = {
  "detail-type": ["EC2 Instance State-change Notification"],
  resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
  detail: {
    "c-count": {
      c1: 100,
    },
  },
};

/** `ec2Event` with some detail fields replaced. */
const ec2With = (detail: Record<string, unknown>): unknown => ({
  ...ec2Event,
  detail: { ...ec2Event.detail, ...detail },
});

// ------------------------------------------------------------------ the examples

section = "Amazon EventBridge event patterns";
documented(
  {
    source: ["aws.ec2"],
    "detail-type": ["EC2 Instance State-change Notification"],
    detail: {
      state: ["terminated"],
    },
  },
  ec2Event,
  true,
);
described(
  {
    source: ["aws.ec2"],
    "detail-type": ["EC2 Instance State-change Notification"],
    detail: {
      state: ["terminated"],
    },
  },
  ec2With({ state: "running" }),
  false,
);
// Match values: events from Amazon EC2 or AWS Fargate.
documented({ source: ["aws.ec2", "aws.fargate"] }, ec2Event, true);
described({ source: ["aws.ec2", "aws.fargate"] }, { ...ec2Event, source: "aws.fargate" }, true);
described({ source: ["aws.ec2", "aws.fargate"] }, { ...ec2Event, source: "aws.s3" }, false);
// Field matching.
documented(
  {
    source: ["aws.autoscaling"],
    "detail-type": ["EC2 Instance Launch Successful"],
    detail: {
      responseElements: [null],
    },
  },
  autoScalingEvent,
  true,
);
// Value matching: a severity score of 1 and a count of 2.
documented(
  {
    source: ["aws.macie"],
    "detail-type": ["Macie Finding"],
    detail: {
      severity: {
        score: [1],
      },
      count: [2],
    },
  },
  macieEvent,
  true,
);
described(
  {
    source: ["aws.macie"],
    "detail-type": ["Macie Finding"],
    detail: {
      severity: {
        score: [1],
      },
      count: [2],
    },
  },
  { ...macieEvent, detail: { ...macieEvent.detail, count: 3 } },
  false,
);
// Strings match character by character, with no case folding.
described({ source: ["aws.ec2"] }, { ...ec2Event, source: "AWS.EC2" }, false);

section = "comparison operators (the rule syntax column, with the example column's values)";
// Null: UserID is null. Null and empty are not interchangeable.
described({ UserID: [null] }, { UserID: null }, true);
described({ UserID: [null] }, { UserID: "" }, false);
// Empty: LastName is empty.
described({ LastName: [""] }, { LastName: "" }, true);
described({ LastName: [""] }, { LastName: null }, false);
// Equals: Name is "Alice".
described({ Name: ["Alice"] }, { Name: "Alice" }, true);
described({ Name: ["Alice"] }, { Name: "alice" }, false);
// Equals (ignore case): Name is "Alice".
described({ Name: [{ "equals-ignore-case": "alice" }] }, { Name: "Alice" }, true);
described({ Name: [{ "equals-ignore-case": "alice" }] }, { Name: "Alicia" }, false);
// And: Location is "New York" and Day is "Monday".
described(
  { Location: ["New York"], Day: ["Monday"] },
  { Location: "New York", Day: "Monday" },
  true,
);
described(
  { Location: ["New York"], Day: ["Monday"] },
  { Location: "New York", Day: "Tuesday" },
  false,
);
// Or: PaymentType is "Credit" or "Debit".
described({ PaymentType: ["Credit", "Debit"] }, { PaymentType: "Debit" }, true);
described({ PaymentType: ["Credit", "Debit"] }, { PaymentType: "Cash" }, false);
// Or (multiple fields): Location is "New York", or Day is "Monday".
const locationOrDay = { $or: [{ Location: ["New York"] }, { Day: ["Monday"] }] };
described(locationOrDay, { Location: "New York", Day: "Friday" }, true);
described(locationOrDay, { Location: "Boston", Day: "Monday" }, true);
described(locationOrDay, { Location: "Boston", Day: "Friday" }, false);
// Not: Weather is anything but "Raining".
described({ Weather: [{ "anything-but": ["Raining"] }] }, { Weather: "Sunny" }, true);
described({ Weather: [{ "anything-but": ["Raining"] }] }, { Weather: "Raining" }, false);
// Numeric (equals): Price is 100.
described({ Price: [{ numeric: ["=", 100] }] }, { Price: 100 }, true);
described({ Price: [{ numeric: ["=", 100] }] }, { Price: 100.5 }, false);
// Numeric (range): Price is more than 10, and less than or equal to 20.
described({ Price: [{ numeric: [">", 10, "<=", 20] }] }, { Price: 20 }, true);
described({ Price: [{ numeric: [">", 10, "<=", 20] }] }, { Price: 10 }, false);
// Exists and does not exist: ProductName.
described({ ProductName: [{ exists: true }] }, { ProductName: "Kettle" }, true);
described({ ProductName: [{ exists: true }] }, { Name: "Alice" }, false);
described({ ProductName: [{ exists: false }] }, { Name: "Alice" }, true);
described({ ProductName: [{ exists: false }] }, { ProductName: "Kettle" }, false);
// Begins with: Region is in the US.
described({ Region: [{ prefix: "us-" }] }, { Region: "us-east-1" }, true);
described({ Region: [{ prefix: "us-" }] }, { Region: "eu-west-1" }, false);
// Begins with (ignore case): service name starts with "eventb", regardless of case.
described(
  { service: [{ prefix: { "equals-ignore-case": "eventb" } }] },
  { service: "EventBridge" },
  true,
);
described({ service: [{ prefix: { "equals-ignore-case": "eventb" } }] }, { service: "SNS" }, false);
// Ends with: FileName ends with a .png extension.
described({ FileName: [{ suffix: ".png" }] }, { FileName: "image.png" }, true);
described({ FileName: [{ suffix: ".png" }] }, { FileName: "image.PNG" }, false);
// Ends with (ignore case): service name ends with "tbridge", or "TBRIDGE", ...
described(
  { service: [{ suffix: { "equals-ignore-case": "tbridge" } }] },
  { service: "EVENTBRIDGE" },
  true,
);
described(
  { service: [{ suffix: { "equals-ignore-case": "tbridge" } }] },
  { service: "SNS" },
  false,
);
// Anything-but (begins with): Region is not in the US.
described({ Region: [{ "anything-but": { prefix: "us-" } }] }, { Region: "eu-west-1" }, true);
described({ Region: [{ "anything-but": { prefix: "us-" } }] }, { Region: "us-east-1" }, false);
// Anything-but (ends with): FileName does not end with a .png extension.
described({ FileName: [{ "anything-but": { suffix: ".png" } }] }, { FileName: "a.jpg" }, true);
described({ FileName: [{ "anything-but": { suffix: ".png" } }] }, { FileName: "a.png" }, false);
// Anything-but (ignore case): state is anything but "initializing" in any casing. (The guide's
// example has a stray ":" and "}"; they are left out.)
const notInitializing = { state: [{ "anything-but": { "equals-ignore-case": "initializing" } }] };
described(notInitializing, { state: "running" }, true);
described(notInitializing, { state: "INITIALIZING" }, false);
// Anything-but using a wildcard: FilePath is not a path that includes /lib/.
const notInLib = { FilePath: [{ "anything-but": { wildcard: "*/lib/*" } }] };
described(notInLib, { FilePath: "/usr/bin/env" }, true);
described(notInLib, { FilePath: "/usr/lib/libc.so" }, false);

section = "Arrays in Amazon EventBridge event patterns";
// The guide shows the field alone (with a trailing comma, left out here) in pattern and event.
const threeInstances = {
  resources: [
    "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
    "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
    "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f",
  ],
};
documented(
  threeInstances,
  {
    resources: [
      "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate",
      "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
    ],
  },
  true,
);
described(
  threeInstances,
  {
    resources: [
      "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate",
    ],
  },
  false,
);

section = "Matching null values and empty strings";
documented({ detail: { eventVersion: [""] } }, autoScalingEvent, true);
documented({ detail: { responseElements: [null] } }, autoScalingEvent, true);
// Null values and empty strings are not interchangeable.
described({ detail: { responseElements: [""] } }, autoScalingEvent, false);
described({ detail: { eventVersion: [null] } }, autoScalingEvent, false);

section = "Content filtering: prefix and suffix";
const timePrefix = { time: [{ prefix: "2017-10-02" }] };
described(timePrefix, { ...ec2Event, time: "2017-10-02T18:43:48Z" }, true);
documented(timePrefix, ec2Event, false);
// Prefix while ignoring case: "EventB", "EVENTB", "eventb", ...
const servicePrefix = { detail: { service: [{ prefix: { "equals-ignore-case": "EventB" } }] } };
for (const service of ["EventBridge", "EVENTBRIDGE", "eventbridge"])
  described(servicePrefix, ec2With({ service }), true);
described(servicePrefix, ec2With({ service: "Event Bridge" }), false);
const pngSuffix = { FileName: [{ suffix: ".png" }] };
described(pngSuffix, { FileName: "photo.png" }, true);
described(pngSuffix, { FileName: "photo.png.jpg" }, false);
// Suffix while ignoring case: ".png", ".PNG", ...
const pngSuffixAnyCase = { detail: { FileName: [{ suffix: { "equals-ignore-case": ".png" } }] } };
described(pngSuffixAnyCase, ec2With({ FileName: "photo.png" }), true);
described(pngSuffixAnyCase, ec2With({ FileName: "photo.PNG" }), true);
described(pngSuffixAnyCase, ec2With({ FileName: "photo.jpg" }), false);

section = "Content filtering: anything-but";
const notInitializingState = { detail: { state: [{ "anything-but": "initializing" }] } };
documented(notInitializingState, ec2Event, true);
described(notInitializingState, ec2With({ state: "initializing" }), false);
const notLimit123 = { detail: { "x-limit": [{ "anything-but": 123 }] } };
described(notLimit123, ec2With({ "x-limit": 124 }), true);
described(notLimit123, ec2With({ "x-limit": 123 }), false);
const notStoppedOrOverloaded = {
  detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] },
};
documented(notStoppedOrOverloaded, ec2Event, true);
described(notStoppedOrOverloaded, ec2With({ state: "overloaded" }), false);
const notRoundLimits = { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } };
described(notRoundLimits, ec2With({ "x-limit": 301.8 }), true);
described(notRoundLimits, ec2With({ "x-limit": 200 }), false);
const notInit = { detail: { state: [{ "anything-but": { prefix: "init" } }] } };
documented(notInit, ec2Event, true);
described(notInit, ec2With({ state: "initializing" }), false);

section = "Content filtering: numeric";
const counts = {
  detail: {
    "c-count": [{ numeric: [">", 0, "<=", 5] }],
    "d-count": [{ numeric: ["<", 10] }],
    "x-limit": [{ numeric: ["=", 3.018e2] }],
  },
};
described(counts, ec2With({ "c-count": 5, "d-count": 9, "x-limit": 301.8 }), true);
described(counts, ec2With({ "c-count": 0, "d-count": 9, "x-limit": 301.8 }), false);
described(counts, ec2With({ "c-count": 5, "d-count": 10, "x-limit": 301.8 }), false);
described(counts, ec2With({ "c-count": 5, "d-count": 9, "x-limit": 300 }), false);
// All fields must be there.
documented(counts, ec2Event, false);

section = "Content filtering: IP address";
// IP addresses that start with 10.0.0 and end with a number between 0 and 255.
const tenNet = { detail: { sourceIPAddress: [{ cidr: "10.0.0.0/24" }] } };
described(tenNet, ec2With({ sourceIPAddress: "10.0.0.0" }), true);
described(tenNet, ec2With({ sourceIPAddress: "10.0.0.255" }), true);
described(tenNet, ec2With({ sourceIPAddress: "10.0.1.0" }), false);

section = "Content filtering: exists";
const hasState = { detail: { state: [{ exists: true }] } };
documented(hasState, pendingEvent, true);
documented(hasState, countEvent, false);

section = "Content filtering: equals-ignore-case";
const stateChange = {
  "detail-type": [{ "equals-ignore-case": "ec2 instance state-change notification" }],
};
documented(stateChange, countEvent, true);
documented(stateChange, ec2Event, true);
documented(stateChange, autoScalingEvent, false);

section = "Content filtering: complex example with multiple matching";
const complex = {
  time: [{ prefix: "2017-10-02" }],
  detail: {
    state: [{ "anything-but": "initializing" }],
    "c-count": [{ numeric: [">", 0, "<=", 5] }],
    "d-count": [{ numeric: ["<", 10] }],
    "x-limit": [{ "anything-but": [100, 200, 300] }],
  },
};
const complexEvent = (detail: Record<string, unknown>): unknown => ({
  ...ec2Event,
  time: "2017-10-02T18:43:48Z",
  detail: { state: "running", "c-count": 3, "d-count": 3, "x-limit": 301.8, ...detail },
});
described(complex, complexEvent({}), true);
described(complex, complexEvent({ state: "initializing" }), false);
described(complex, complexEvent({ "x-limit": 300 }), false);
described(complex, { ...(complexEvent({}) as object), time: "2017-10-03T00:00:00Z" }, false);
// A key given twice: the last one is the one used. The pattern is JSON text, as written.
const lastLocation =
  '{"detail": {"location": [{"prefix": "us-"}], "location": [{"anything-but": "us-east"}]}}';
described(lastLocation, ec2With({ location: "eu-west-1" }), true);
described(lastLocation, ec2With({ location: "us-west-2" }), true);
described(lastLocation, ec2With({ location: "us-east" }), false);

section = "Content filtering: complex example with $or matching";
const anyCount = {
  detail: {
    $or: [
      { "c-count": [{ numeric: [">", 0, "<=", 5] }] },
      { "d-count": [{ numeric: ["<", 10] }] },
      { "x-limit": [{ numeric: ["=", 3.018e2] }] },
    ],
  },
};
described(anyCount, ec2With({ "c-count": 1 }), true);
described(anyCount, ec2With({ "d-count": 9 }), true);
described(anyCount, ec2With({ "x-limit": 301.8 }), true);
described(anyCount, ec2With({ "c-count": 6, "d-count": 10, "x-limit": 301 }), false);
documented(anyCount, ec2Event, false);

// ------------------------------------------------------------------ the checks

/**
 * Every pattern here, in one shared automaton: ids are the patterns' JSON text. (A pattern that
 * does not parse is left out: its own examples say so.)
 */
const everyPattern = new PatternIndex<string>();
for (const list of examples.values())
  for (const { pattern } of list)
    try {
      everyPattern.set(textOf(pattern), parseEventPattern(textOf(pattern)));
    } catch {
      // reported by the examples of that pattern
    }

function expectExample({ pattern, event, matches }: Example): void {
  const text = textOf(pattern);
  const eventText = JSON.stringify(event);
  const shown = `${text} on ${eventText}`;
  expect(testEventPattern(text, event), shown).toBe(matches);
  expect(testEventPattern(text, eventText), shown).toBe(matches);
  const alone = new PatternIndex<string>();
  alone.set("rule", parseEventPattern(text));
  expect(alone.match(event), shown).toEqual(matches ? ["rule"] : []);
  expect(alone.matchJson(eventText), shown).toEqual(matches ? ["rule"] : []);
  expect(everyPattern.match(event).includes(text), shown).toBe(matches);
  expect(everyPattern.matchJson(eventText).includes(text), shown).toBe(matches);
}

describe("EventBridge's documented pattern examples: testEventPattern and the shared automaton agree with the guide", () => {
  for (const [name, list] of examples)
    it(`${name} (${list.length} examples)`, () => {
      for (const example of list) expectExample(example);
    });

  it("$or that multiplies out to more than 1,000 combinations is refused, as the guide's note says", () => {
    const alternatives = (n: number, key: string): unknown[] =>
      Array.from({ length: n }, (_, i) => ({ [key]: [`v${i}`] }));
    // 32 x 31 = 992 combinations: accepted.
    expect(() =>
      parseEventPattern({ $or: alternatives(32, "a"), detail: { $or: alternatives(31, "b") } }),
    ).not.toThrow();
    let error: unknown;
    try {
      parseEventPattern({ $or: alternatives(32, "a"), detail: { $or: alternatives(32, "b") } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PatternError);
    expect((error as PatternError).message).toBe(
      "Event pattern is not valid. Reason: the pattern is too complex: its $or alternatives multiply out to more than 1000",
    );
  });
});
