import { describe, expect, it } from "vitest";
import { parseEventPattern, testEventPattern } from "./event-pattern.js";
import { PatternError } from "./pattern-error.js";
import { PatternIndex } from "./pattern-index.js";

/** The EC2 state-change event EventBridge's documentation uses throughout its pattern pages. */
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
    "source-ip": "10.0.0.123",
    "c-count": 5,
    "d-count": 3,
    "x-limit": 301.8,
    location: null,
    scores: [1, 4, 9],
    name: "",
  },
};

/** Both matchers must give the documented answer. */
function expectMatch(pattern: unknown, event: unknown, expected: boolean): void {
  expect(testEventPattern(pattern, event)).toBe(expected);
  const index = new PatternIndex<string>();
  index.set("rule", parseEventPattern(pattern));
  expect(index.match(event)).toEqual(expected ? ["rule"] : []);
}

describe("event patterns: EventBridge's documented examples", () => {
  it("exact values, arrays of values, and nested fields", () => {
    expectMatch({ source: ["aws.ec2"] }, ec2Event, true);
    expectMatch({ source: ["aws.ec2", "aws.fargate"] }, ec2Event, true);
    expectMatch({ source: ["aws.s3"] }, ec2Event, false);
    expectMatch({ detail: { state: ["terminated", "stopped"] } }, ec2Event, true);
    expectMatch({ detail: { state: ["running"] } }, ec2Event, false);
    expectMatch({ source: ["aws.ec2"], detail: { state: ["running"] } }, ec2Event, false);
  });

  it('matching is case-sensitive and typed: the string "5" is not the number 5', () => {
    expectMatch({ source: ["AWS.EC2"] }, ec2Event, false);
    expectMatch({ detail: { "c-count": [5] } }, ec2Event, true);
    expectMatch({ detail: { "c-count": ["5"] } }, ec2Event, false);
  });

  it("arrays match when the pattern's values and the event's values intersect", () => {
    expectMatch(
      { resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0", "other"] },
      ec2Event,
      true,
    );
    expectMatch({ detail: { scores: [9, 16] } }, ec2Event, true);
    expectMatch({ detail: { scores: [2, 3] } }, ec2Event, false);
  });

  it("null and empty values", () => {
    expectMatch({ detail: { location: [null] } }, ec2Event, true);
    expectMatch({ detail: { name: [""] } }, ec2Event, true);
    expectMatch({ detail: { name: [null] } }, ec2Event, false);
    expectMatch({ detail: { missing: [null] } }, ec2Event, false);
  });

  it("prefix, suffix and their equals-ignore-case forms", () => {
    expectMatch({ time: [{ prefix: "2017-12-22" }] }, ec2Event, true);
    expectMatch({ time: [{ prefix: "2018" }] }, ec2Event, false);
    expectMatch({ "detail-type": [{ suffix: "Notification" }] }, ec2Event, true);
    expectMatch({ "detail-type": [{ suffix: "notification" }] }, ec2Event, false);
    expectMatch(
      { "detail-type": [{ suffix: { "equals-ignore-case": "NOTIFICATION" } }] },
      ec2Event,
      true,
    );
    expectMatch({ source: [{ prefix: { "equals-ignore-case": "AWS." } }] }, ec2Event, true);
  });

  it("equals-ignore-case", () => {
    expectMatch(
      { "detail-type": [{ "equals-ignore-case": "ec2 instance state-change notification" }] },
      ec2Event,
      true,
    );
    expectMatch({ source: [{ "equals-ignore-case": "aws.s3" }] }, ec2Event, false);
  });

  it("wildcard, with escapes", () => {
    expectMatch({ "detail-type": [{ wildcard: "EC2*Notification" }] }, ec2Event, true);
    expectMatch({ resources: [{ wildcard: "arn:aws:ec2:*:*:instance/*" }] }, ec2Event, true);
    expectMatch({ "detail-type": [{ wildcard: "EC2*Error" }] }, ec2Event, false);
    expectMatch({ a: [{ wildcard: "x\\*y" }] }, { a: "x*y" }, true);
    expectMatch({ a: [{ wildcard: "x\\*y" }] }, { a: "xzzy" }, false);
  });

  it("anything-but: a value, a list, prefix, suffix, wildcard, equals-ignore-case", () => {
    expectMatch({ detail: { state: [{ "anything-but": "initializing" }] } }, ec2Event, true);
    expectMatch({ detail: { state: [{ "anything-but": "terminated" }] } }, ec2Event, false);
    expectMatch(
      { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } },
      ec2Event,
      true,
    );
    expectMatch({ detail: { "c-count": [{ "anything-but": [1, 2, 3] }] } }, ec2Event, true);
    expectMatch({ detail: { "c-count": [{ "anything-but": 5 }] } }, ec2Event, false);
    expectMatch({ detail: { state: [{ "anything-but": { prefix: "init" } }] } }, ec2Event, true);
    expectMatch({ detail: { state: [{ "anything-but": { prefix: "term" } }] } }, ec2Event, false);
    expectMatch({ detail: { state: [{ "anything-but": { suffix: "ated" } }] } }, ec2Event, false);
    expectMatch(
      { detail: { state: [{ "anything-but": { wildcard: "*min*" } }] } },
      ec2Event,
      false,
    );
    expectMatch(
      { detail: { state: [{ "anything-but": { wildcard: ["run*", "stop*"] } }] } },
      ec2Event,
      true,
    );
    expectMatch(
      { detail: { state: [{ "anything-but": { "equals-ignore-case": ["TERMINATED", "x"] } }] } },
      ec2Event,
      false,
    );
    // anything-but needs the field to be there
    expectMatch({ detail: { missing: [{ "anything-but": "x" }] } }, ec2Event, false);
  });

  it("numeric comparisons and ranges", () => {
    expectMatch({ detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }] } }, ec2Event, true);
    expectMatch({ detail: { "d-count": [{ numeric: ["<", 10] }] } }, ec2Event, true);
    expectMatch({ detail: { "x-limit": [{ numeric: ["=", 3.018e2] }] } }, ec2Event, true);
    expectMatch({ detail: { "c-count": [{ numeric: [">", 5] }] } }, ec2Event, false);
    expectMatch({ detail: { "c-count": [{ numeric: [">=", 5] }] } }, ec2Event, true);
    expectMatch({ detail: { state: [{ numeric: [">", 0] }] } }, ec2Event, false);
  });

  it("cidr, IPv4 and IPv6", () => {
    expectMatch({ detail: { "source-ip": [{ cidr: "10.0.0.0/24" }] } }, ec2Event, true);
    expectMatch({ detail: { "source-ip": [{ cidr: "10.0.1.0/24" }] } }, ec2Event, false);
    expectMatch({ ip: [{ cidr: "2001:db8::/32" }] }, { ip: "2001:db8:85a3::8a2e:370:7334" }, true);
    expectMatch({ ip: [{ cidr: "2001:db8::/32" }] }, { ip: "2001:db9::1" }, false);
    expectMatch({ ip: [{ cidr: "10.0.0.0/8" }] }, { ip: "::ffff:10.1.2.3" }, false);
  });

  it("exists", () => {
    expectMatch({ detail: { state: [{ exists: true }] } }, ec2Event, true);
    expectMatch({ detail: { missing: [{ exists: false }] } }, ec2Event, true);
    expectMatch({ detail: { state: [{ exists: false }] } }, ec2Event, false);
    // exists matches leaves only: an object is not a value
    expectMatch({ detail: [{ exists: true }] }, ec2Event, false);
    expectMatch({ detail: { location: [{ exists: true }] } }, ec2Event, true);
    expectMatch({ a: [{ exists: false }] }, { a: [] }, true);
  });

  it("$or at the top and nested, combined with other fields", () => {
    const pattern = {
      source: ["aws.ec2"],
      $or: [{ "detail-type": ["nope"] }, { detail: { "c-count": [{ numeric: [">", 1] }] } }],
    };
    expectMatch(pattern, ec2Event, true);
    expectMatch(
      { detail: { $or: [{ state: ["running"] }, { "d-count": [{ numeric: ["<", 1] }] }] } },
      ec2Event,
      false,
    );
  });

  it("several operators in one list are alternatives", () => {
    expectMatch({ detail: { state: ["running", { prefix: "term" }] } }, ec2Event, true);
    expectMatch({ detail: { missing: [{ exists: false }, "x"] } }, ec2Event, true);
  });

  it("accepts JSON text for the pattern and the event", () => {
    expect(testEventPattern('{"source":["aws.ec2"]}', JSON.stringify(ec2Event))).toBe(true);
  });
});

describe("event patterns: invalid patterns name the path and the operator", () => {
  const reject = (pattern: unknown): PatternError => {
    try {
      parseEventPattern(pattern);
    } catch (error) {
      expect(error).toBeInstanceOf(PatternError);
      expect((error as PatternError).code).toBe("SLUICE_VALIDATION");
      expect((error as PatternError).message).toMatch(/^Event pattern is not valid\. Reason: /);
      return error as PatternError;
    }
    throw new Error(`accepted ${JSON.stringify(pattern)}`);
  };

  it("unknown operators", () => {
    const error = reject({ detail: { state: [{ prefixx: "a" }] } });
    expect(error.field).toBe("detail.state[0]");
    expect(error.operator).toBe("prefixx");
    expect(error.message).toContain("unrecognized match type prefixx");
  });

  it("bad leaves and shapes", () => {
    expect(reject({ source: "aws.ec2" }).field).toBe("source");
    expect(reject({ source: [] }).message).toContain("empty arrays are not allowed");
    expect(reject({}).message).toContain("empty objects");
    expect(reject({ detail: {} }).field).toBe("detail");
    expect(reject({ a: [[1]] }).field).toBe("a[0]");
    expect(reject({ a: [{ prefix: "a", suffix: "b" }] }).field).toBe("a[0]");
    expect(reject([1]).field).toBe("");
    expect(reject("{not json").message).toContain("not valid JSON");
  });

  it("operator arguments", () => {
    expect(reject({ a: [{ prefix: 5 }] }).field).toBe("a[0].prefix");
    expect(reject({ a: [{ exists: "yes" }] }).operator).toBe("exists");
    expect(reject({ a: [{ cidr: "10.0.0.0/33" }] }).operator).toBe("cidr");
    expect(reject({ a: [{ cidr: "10.0.0.1" }] }).operator).toBe("cidr");
    expect(reject({ a: [{ wildcard: "a**b" }] }).message).toContain("consecutive wildcard");
    expect(reject({ a: [{ wildcard: "a\\b" }] }).message).toContain("invalid escape");
    expect(reject({ a: [{ "anything-but": [] }] }).operator).toBe("anything-but");
    expect(reject({ a: [{ "anything-but": [true] }] }).field).toBe("a[0].anything-but[0]");
    expect(reject({ a: [{ "anything-but": { numeric: [">", 1] } }] }).operator).toBe(
      "anything-but",
    );
    expect(reject({ a: [{ "anything-but": { prefix: "" } }] }).operator).toBe("anything-but");
  });

  it("numeric", () => {
    expect(reject({ a: [{ numeric: [">", "1"] }] }).field).toBe("a[0].numeric[1]");
    expect(reject({ a: [{ numeric: ["<", 5, ">", 1] }] }).field).toBe("a[0].numeric[2]");
    expect(reject({ a: [{ numeric: [">", 5, "<", 1] }] }).message).toContain(
      "bottom must be less than top",
    );
    expect(reject({ a: [{ numeric: [">", 1, ">", 2] }] }).field).toBe("a[0].numeric[2]");
    expect(reject({ a: [{ numeric: ["!=", 1] }] }).message).toContain("bad numeric range operator");
    expect(reject({ a: [{ numeric: [">", 6e9] }] }).message).toContain("out of range");
    expect(reject({ a: [{ numeric: [">"] }] }).operator).toBe("numeric");
  });

  it("$or", () => {
    expect(reject({ $or: [{ a: ["x"] }] }).field).toBe("$or");
    expect(reject({ $or: [{ a: ["x"] }, {}] }).field).toBe("$or[1]");
    expect(reject({ d: { $or: "x" } }).field).toBe("d.$or");
  });

  it("limits: size and $or complexity", () => {
    expect(reject({ a: ["x".repeat(3000)] }).message).toContain("the limit is 2048");
    const wide = Array.from({ length: 11 }, (_, i) => ({ [`k${i}`]: ["v"] }));
    expect(reject({ $or: wide, d: { $or: wide }, e: { $or: wide.slice(0, 9) } }).message).toContain(
      "too complex",
    );
  });
});
