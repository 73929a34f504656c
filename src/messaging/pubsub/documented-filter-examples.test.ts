/**
 * Every filter policy example in Amazon SNS's documentation of message filtering, with the
 * documented message attributes and message bodies it is matched against and the documented
 * answer, checked the way a topic filters: the policy parsed for its scope, compiled into a
 * topic's shared filters (alone, and together with every other policy here, as one topic with
 * many subscriptions has them), and the message seen as the topic's log gives it back; and by
 * the plain reference matcher on the same view. Documented attributes must also be ones
 * `publish` accepts.
 *
 * Where the examples come from: the Amazon SNS Developer Guide, pages "Example filter policies",
 * "String value matching", "Numeric value matching", "Key matching", "AND/OR logic" and "Filter
 * policy constraints" (github.com/awsdocs/amazon-sns-developer-guide, doc_source/, as archived
 * in 2023; and, for the string matching and AND/OR pages, their current versions at
 * docs.aws.amazon.com/sns/latest/dg/, which add String.Array cases, equals-ignore-case, suffix,
 * anything-but suffix and wildcard, and `$or`). The JSON examples are AWS sample code, licensed
 * MIT-0 (the guide's LICENSE-SAMPLECODE); only they are used here, not the guide's text. Obvious
 * typos in them are fixed and noted.
 *
 * The guide writes attributes as `"name": {"Type": ..., "Value": ...}`; they are published here
 * as `{ DataType: Type, StringValue: Value }`, a number's value as the text the guide shows.
 * `documented(...)`: policy and message are the guide's; `described(...)`: the policy is the
 * guide's and the message is built from the values its text names (or, for counter-examples,
 * from the rule it states).
 */
import { describe, expect, it } from "vitest";
import { PatternError, matchesPatternReference } from "../bus/patterns/index.js";
import { StoredMessage } from "./durable-topic.js";
import {
  type FilterPolicyScope,
  attributesForFiltering,
  bodyForFiltering,
  parseFilterPolicy,
} from "./filter-policy.js";
import { checkAttributes } from "./message-validation.js";
import type { PubSubMessageAttributes } from "./pubsub-service.js";
import { SharedFilters } from "./shared-filters.js";

/** Attributes as the guide writes them. */
type DocAttributes = Record<string, { readonly Type: string; readonly Value: string | number }>;

interface Example {
  readonly policy: unknown;
  readonly scope: FilterPolicyScope;
  /** The message's attributes (MessageAttributes scope) or body text (MessageBody scope). */
  readonly attributes?: PubSubMessageAttributes;
  readonly body?: string;
  readonly matches: boolean;
  readonly documented: boolean;
}

const examples = new Map<string, Example[]>();
let section = "";

function add(example: Example): void {
  const list = examples.get(section) ?? [];
  list.push(example);
  examples.set(section, list);
}

const published = (attributes: DocAttributes): PubSubMessageAttributes =>
  Object.fromEntries(
    Object.entries(attributes).map(([name, { Type, Value }]) => [
      name,
      { DataType: Type, StringValue: String(Value) },
    ]),
  );

/** Policy and message both the guide's: on attributes, or on the body (JSON text as shown). */
const documented = {
  attributes(policy: unknown, attributes: DocAttributes, matches: boolean): void {
    add({
      policy,
      scope: "MessageAttributes",
      attributes: published(attributes),
      matches,
      documented: true,
    });
  },
  body(policy: unknown, body: string, matches: boolean): void {
    add({ policy, scope: "MessageBody", body, matches, documented: true });
  },
};

/** The guide's policy, the message built from what its text says. */
const described = {
  attributes(policy: unknown, attributes: DocAttributes, matches: boolean): void {
    add({
      policy,
      scope: "MessageAttributes",
      attributes: published(attributes),
      matches,
      documented: false,
    });
  },
  body(policy: unknown, body: string, matches: boolean): void {
    add({ policy, scope: "MessageBody", body, matches, documented: false });
  },
};

const textOf = (policy: unknown): string =>
  typeof policy === "string" ? policy : JSON.stringify(policy);

// ------------------------------------------------------------------ the examples

section = "Example filter policies";
// The customer transaction, with its details as message attributes and as the message body.
const transactionAttributes: DocAttributes = {
  customer_interests: {
    Type: "String.Array",
    Value: '["soccer", "rugby", "hockey"]',
  },
  store: {
    Type: "String",
    Value: "example_corp",
  },
  event: {
    Type: "String",
    Value: "order_placed",
  },
  price_usd: {
    Type: "Number",
    Value: "210.75",
  },
};
const transactionBody = `{
      "customer_interests": ["soccer", "rugby", "hockey"],
      "store": "example_corp",
      "event":"order_placed",
      "price_usd":210.75
   }`;
const accepts = {
  store: ["example_corp"],
  event: [{ "anything-but": "order_cancelled" }],
  customer_interests: ["rugby", "football", "baseball"],
  price_usd: [{ numeric: [">=", 100] }],
};
const rejects = {
  store: ["example_corp"],
  event: ["order_cancelled"],
  encrypted: [false],
  customer_interests: ["basketball", "baseball"],
};
documented.attributes(accepts, transactionAttributes, true);
documented.body(accepts, transactionBody, true);
documented.attributes(rejects, transactionAttributes, false);
documented.body(rejects, transactionBody, false);

section = "String value matching: exact";
const rugbyOrTennis = { customer_interests: ["rugby", "tennis"] };
for (const [Type, Value, matches] of [
  ["String", "rugby", true],
  ["String", "tennis", true],
  ["String.Array", '["rugby", "tennis"]', true],
  ["String", "baseball", false],
  ["String.Array", '["baseball"]', false],
] as const)
  documented.attributes(rugbyOrTennis, { customer_interests: { Type, Value } }, matches);
documented.body(rugbyOrTennis, '{\n   "customer_interests": "rugby"\n}', true);
documented.body(rugbyOrTennis, '{\n   "customer_interests": "tennis"\n}', true);
documented.body(rugbyOrTennis, '{\n   "customer_interests": "baseball"\n}', false);

section = "String value matching: anything-but";
const notRugbyOrTennis = { customer_interests: [{ "anything-but": ["rugby", "tennis"] }] };
for (const [Type, Value, matches] of [
  ["String", "baseball", true],
  ["String", "football", true],
  ["String.Array", '["rugby", "baseball"]', true],
  ["String", "rugby", false],
  ["String.Array", '["rugby"]', false],
] as const)
  documented.attributes(notRugbyOrTennis, { customer_interests: { Type, Value } }, matches);
documented.body(notRugbyOrTennis, '{\n   "customer_interests": "baseball"\n}', true);
documented.body(notRugbyOrTennis, '{\n   "customer_interests": "football"\n}', true);
documented.body(notRugbyOrTennis, '{\n   "customer_interests": ["rugby", "baseball"]\n}', true);
documented.body(notRugbyOrTennis, '{\n   "customer_interests": ["rugby"]\n}', false);
// With a prefix: denies the "order-" prefix.
const notOrderPrefix = { event: [{ "anything-but": { prefix: "order-" } }] };
for (const [Value, matches] of [
  ["data-entry", true],
  ["order_number", true],
  ["order-cancelled", false],
] as const) {
  documented.attributes(notOrderPrefix, { event: { Type: "String", Value } }, matches);
  documented.body(notOrderPrefix, `{\n   "event": "${Value}"\n}`, matches);
}
// With a suffix: denies the "ball" suffix. The guide shows the messages as JSON objects (the
// first missing a closing quote after "soccer"): as bodies, and as String.Array attributes.
const notBallSuffix = { customer_interests: [{ "anything-but": { suffix: "ball" } }] };
documented.body(notBallSuffix, '{"customer_interests": ["hockey", "rugby", "soccer"] }', true);
documented.body(notBallSuffix, '{"customer_interests": ["baseball", "basketball"] }', false);
documented.attributes(
  notBallSuffix,
  { customer_interests: { Type: "String.Array", Value: '["hockey", "rugby", "soccer"]' } },
  true,
);
documented.attributes(
  notBallSuffix,
  { customer_interests: { Type: "String.Array", Value: '["baseball", "basketball"]' } },
  false,
);

section = "String value matching: equals-ignore-case";
const tennisAnyCase = { customer_interests: [{ "equals-ignore-case": "tennis" }] };
documented.attributes(
  tennisAnyCase,
  { customer_interests: { Type: "String", Value: "TENNIS" } },
  true,
);
documented.attributes(
  tennisAnyCase,
  { customer_interests: { Type: "String", Value: "Tennis" } },
  true,
);
documented.body(tennisAnyCase, '{\n    "customer_interests": "TENNIS"\n}', true);
// (The guide closes this one with "{".)
documented.body(tennisAnyCase, '{\n    "customer_interests": "teNnis"\n}', true);
described.attributes(
  tennisAnyCase,
  { customer_interests: { Type: "String", Value: "tennis court" } },
  false,
);

section = "String value matching: IP address";
const tenNet = { source_ip: [{ cidr: "10.0.0.0/24" }] };
for (const [Value, matches] of [
  ["10.0.0.0", true],
  ["10.0.0.255", true],
  ["10.1.1.0", false],
] as const) {
  documented.attributes(tenNet, { source_ip: { Type: "String", Value } }, matches);
  documented.body(tenNet, `{\n   "source_ip": "${Value}"\n}`, matches);
}

section = "String value matching: prefix and suffix";
const basPrefix = { customer_interests: [{ prefix: "bas" }] };
const ballSuffix = { customer_interests: [{ suffix: "ball" }] };
for (const policy of [basPrefix, ballSuffix])
  for (const [Value, matches] of [
    ["baseball", true],
    ["basketball", true],
    ["rugby", false],
  ] as const) {
    documented.attributes(policy, { customer_interests: { Type: "String", Value } }, matches);
    documented.body(policy, `{\n   "customer_interests": "${Value}"\n}`, matches);
  }

section = "Numeric value matching";
const exactly301 = { price_usd: [{ numeric: ["=", 301.5] }] };
documented.attributes(exactly301, { price_usd: { Type: "Number", Value: "301.5" } }, true);
documented.attributes(exactly301, { price_usd: { Type: "Number", Value: "3.015e2" } }, true);
documented.body(exactly301, '{\n   "price_usd": 301.5\n}', true);
documented.body(exactly301, '{\n   "price_usd": 3.015e2\n}', true);
described.body(exactly301, '{\n   "price_usd": 301.25\n}', false);
const not100Or500 = { price: [{ "anything-but": [100, 500] }] };
for (const [Value, matches] of [
  ["101", true],
  ["100.1", true],
  ["100", false],
] as const) {
  documented.attributes(not100Or500, { price: { Type: "Number", Value } }, matches);
  documented.body(not100Or500, `{\n   "price": ${Value}\n}`, matches);
}
documented.body(not100Or500, '{\n   "price": [100, 50]\n}', true);
// Negative values; positive ones up to and including 150.
const negative = { price_usd: [{ numeric: ["<", 0] }] };
described.attributes(negative, { price_usd: { Type: "Number", Value: "-0.5" } }, true);
described.body(negative, '{"price_usd": -0.5}', true);
described.body(negative, '{"price_usd": 0}', false);
const upTo150 = { price_usd: [{ numeric: [">", 0, "<=", 150] }] };
described.attributes(upTo150, { price_usd: { Type: "Number", Value: "150" } }, true);
described.body(upTo150, '{"price_usd": 150}', true);
described.body(upTo150, '{"price_usd": 0}', false);
described.body(upTo150, '{"price_usd": 150.5}', false);

section = "Key matching";
const interests = { Type: "String.Array", Value: '["baseball", "basketball"]' };
const withStore: DocAttributes = {
  store: { Type: "String", Value: "fans" },
  customer_interests: interests,
};
const withoutStore: DocAttributes = { customer_interests: interests };
// (The guide's body with a store lacks the comma after "fans"; the one without opens with '"{'.)
const bodyWithStore = `{
    "store": "fans",
    "customer_interests": ["baseball", "basketball"]
}`;
const bodyWithoutStore = `{
    "customer_interests": ["baseball", "basketball"]
}`;
const hasStore = { store: [{ exists: true }] };
const noStore = { store: [{ exists: false }] };
documented.attributes(hasStore, withStore, true);
documented.body(hasStore, bodyWithStore, true);
documented.attributes(hasStore, withoutStore, false);
documented.body(hasStore, bodyWithoutStore, false);
documented.attributes(noStore, withStore, false);
documented.body(noStore, bodyWithStore, false);
documented.attributes(noStore, withoutStore, true);
documented.body(noStore, bodyWithoutStore, true);
// (Filter policy constraints) Binary attributes are not looked at.
add({
  policy: hasStore,
  scope: "MessageAttributes",
  attributes: { store: { DataType: "Binary", BinaryValue: Buffer.from("fans") } },
  matches: false,
  documented: false,
});

section = "AND/OR logic";
const rugbyOver100 = { customer_interests: ["rugby"], price_usd: [{ numeric: [">", 100] }] };
described.body(rugbyOver100, '{"customer_interests": "rugby", "price_usd": 100.5}', true);
described.body(rugbyOver100, '{"customer_interests": "rugby", "price_usd": 100}', false);
described.attributes(
  rugbyOver100,
  {
    customer_interests: { Type: "String", Value: "tennis" },
    price_usd: { Type: "Number", Value: "150" },
  },
  false,
);
const threeSports = { customer_interests: ["rugby", "football", "baseball"] };
described.attributes(
  threeSports,
  { customer_interests: { Type: "String", Value: "football" } },
  true,
);
described.body(threeSports, '{"customer_interests": "hockey"}', false);
// The OR operator.
const cpuOrEc2 = {
  source: ["aws.cloudwatch"],
  $or: [{ metricName: ["CPUUtilization"] }, { namespace: ["AWS/EC2"] }],
};
documented.attributes(
  cpuOrEc2,
  {
    source: { Type: "String", Value: "aws.cloudwatch" },
    metricName: { Type: "String", Value: "CPUUtilization" },
  },
  true,
);
documented.attributes(
  cpuOrEc2,
  {
    source: { Type: "String", Value: "aws.cloudwatch" },
    namespace: { Type: "String", Value: "AWS/EC2" },
  },
  true,
);
documented.body(
  cpuOrEc2,
  `{
    "source": "aws.cloudwatch",
    "metricName": "CPUUtilization"
}`,
  true,
);
documented.body(
  cpuOrEc2,
  `{
    "source": "aws.cloudwatch",
    "namespace": "AWS/EC2"
}`,
  true,
);
described.body(cpuOrEc2, '{"source": "aws.cloudwatch", "namespace": "AWS/S3"}', false);
described.body(cpuOrEc2, '{"source": "aws.s3", "namespace": "AWS/EC2"}', false);
// ("source" AND "metricName") OR ("source" AND "metricType" AND "metricId") OR (... "spaceId")
const nestedOr = {
  source: ["aws.cloudwatch"],
  $or: [
    { metricName: ["CPUUtilization", "ReadLatency"] },
    {
      metricType: ["MetricType"],
      $or: [{ metricId: [1234, 4321] }, { spaceId: [1000, 2000, 3000] }],
    },
  ],
};
described.attributes(
  nestedOr,
  {
    source: { Type: "String", Value: "aws.cloudwatch" },
    metricType: { Type: "String", Value: "MetricType" },
    spaceId: { Type: "Number", Value: "2000" },
  },
  true,
);
described.body(nestedOr, '{"source": "aws.cloudwatch", "metricName": "ReadLatency"}', true);
described.body(
  nestedOr,
  '{"source": "aws.cloudwatch", "metricType": "MetricType", "metricId": 9999}',
  false,
);
// ("metricName" OR "namespace") AND "detail"."scope" AND ("detail"."source" OR "detail"."type")
const nestedBodyOr = {
  $or: [{ metricName: ["CPUUtilization", "ReadLatency"] }, { namespace: ["AWS/EC2", "AWS/ES"] }],
  detail: {
    scope: ["Service"],
    $or: [{ source: ["aws.cloudwatch"] }, { type: ["CloudWatch Alarm State Change"] }],
  },
};
described.body(
  nestedBodyOr,
  '{"namespace": "AWS/ES", "detail": {"scope": "Service", "type": "CloudWatch Alarm State Change"}}',
  true,
);
described.body(
  nestedBodyOr,
  '{"namespace": "AWS/S3", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}',
  false,
);
described.body(
  nestedBodyOr,
  '{"metricName": "ReadLatency", "detail": {"scope": "Region", "source": "aws.cloudwatch"}}',
  false,
);

// ------------------------------------------------------------------ the checks

/**
 * Every policy here, in one topic's shared filters: ids are the scope and the policy's text. (A
 * policy that does not parse is left out: its own examples say so.)
 */
const everyPolicy = new SharedFilters();
for (const list of examples.values())
  for (const { policy, scope } of list)
    try {
      everyPolicy.set(
        `${scope} ${textOf(policy)}`,
        parseFilterPolicy(textOf(policy), scope),
        scope,
      );
    } catch {
      // reported by the examples of that policy
    }

function storedMessage(example: Example): StoredMessage {
  return new StoredMessage(0, {
    MessageId: "00000000-0000-4000-8000-000000000000",
    Message: example.body ?? "a message with attributes",
    MessageAttributes: example.attributes ?? {},
    timestamp: 0,
  });
}

function expectExample(example: Example): void {
  const { policy, scope, matches } = example;
  const text = textOf(policy);
  const shown = `${scope} ${text} on ${example.body ?? JSON.stringify(example.attributes)}`;
  // What publish accepts.
  expect(() => checkAttributes(example.attributes ?? {}), shown).not.toThrow();
  const pattern = parseFilterPolicy(text, scope);
  const alone = new SharedFilters();
  alone.set("subscription", pattern, scope);
  expect(alone.passes("subscription", scope, storedMessage(example)), shown).toBe(matches);
  expect(everyPolicy.passes(`${scope} ${text}`, scope, storedMessage(example)), shown).toBe(
    matches,
  );
  const view =
    scope === "MessageBody"
      ? bodyForFiltering(example.body ?? "")
      : attributesForFiltering(example.attributes ?? {});
  expect(view !== undefined && matchesPatternReference(pattern, view), shown).toBe(matches);
}

function refusal(policy: unknown, scope: FilterPolicyScope): PatternError {
  try {
    parseFilterPolicy(textOf(policy), scope);
  } catch (error) {
    if (error instanceof PatternError) return error;
    throw error;
  }
  throw new Error(`accepted: ${textOf(policy)}`);
}

const values = (n: number): string[] => Array.from({ length: n }, (_, i) => `v${i}`);

describe("SNS's documented filter policy examples: a topic's filters agree with the guide", () => {
  for (const [name, list] of examples)
    it(`${name} (${list.length} examples)`, () => {
      for (const example of list) expectExample(example);
    });

  it("filter policy constraints: the guide's policies are accepted, nested ones only on the body", () => {
    // 3 x 1 x 2 = 6 combinations.
    const flat = {
      key_a: ["value_one", "value_two", "value_three"],
      key_b: ["value_one"],
      key_c: ["value_one", "value_two"],
    };
    // 3 x 4 x 2 x 3 = 72 combinations.
    const nested = {
      key_a: {
        key_b: {
          key_c: ["value_one", "value_two", "value_three", "value_four"],
        },
      },
      key_d: {
        key_e: ["value_one", "value_two", "value_three"],
      },
    };
    for (const scope of ["MessageAttributes", "MessageBody"] as const)
      expect(() => parseFilterPolicy(flat, scope)).not.toThrow();
    expect(() => parseFilterPolicy(nested, "MessageBody")).not.toThrow();
    expect(refusal(nested, "MessageAttributes").message).toContain("nested");
    // The AND/OR page's policies: 7 and 32 combinations.
    expect(() => parseFilterPolicy(nestedOr, "MessageAttributes")).not.toThrow();
    expect(() => parseFilterPolicy(nestedBodyOr, "MessageBody")).not.toThrow();
  });

  it("filter policy constraints: at most five keys, a nested policy's parent keys only", () => {
    const six = Object.fromEntries(values(6).map((key) => [key, ["x"]]));
    for (const scope of ["MessageAttributes", "MessageBody"] as const)
      expect(refusal(six, scope).message).toBe(
        "Invalid parameter: FilterPolicy: Filter policy can not have more than 5 keys (it has 6)",
      );
    // Six keys nested under one parent key are one key.
    expect(() => parseFilterPolicy({ parent: six }, "MessageBody")).not.toThrow();
  });

  it("filter policy constraints: at most 150 combinations, a nested key's values counted once per level", () => {
    // On one key at the top level: 150 values is the most.
    expect(() => parseFilterPolicy({ a: values(150) }, "MessageAttributes")).not.toThrow();
    expect(refusal({ a: values(151) }, "MessageAttributes").message).toBe(
      "Invalid parameter: FilterPolicy: Filter policy is too complex: 151 combinations of values, the limit is 150",
    );
    // Three levels deep, as the guide counts them: 3 x 50 = 150, 3 x 51 = 153.
    expect(() => parseFilterPolicy({ a: { b: { c: values(50) } } }, "MessageBody")).not.toThrow();
    expect(refusal({ a: { b: { c: values(51) } } }, "MessageBody").message).toBe(
      "Invalid parameter: FilterPolicy: Filter policy is too complex: 153 combinations of values, the limit is 150",
    );
    // With $or, the alternatives' combinations add up: 2 x 75 + 1 = 151.
    expect(
      refusal({ $or: [{ a: ["x", "y"], b: values(75) }, { c: ["z"] }] }, "MessageAttributes")
        .message,
    ).toContain("151 combinations");
  });

  it("wildcard, shown on the current string matching page but not in SNS's list of operators, is refused naming the operator", () => {
    // "*ball" matches {"customer_interests": ["baseball", "basketball"]}, says the page, and
    // anything-but "*ball" matches {"customer_interests": ["hockey", "rugby", "soccer"]}.
    const wildcard = refusal({ customer_interests: [{ wildcard: "*ball" }] }, "MessageBody");
    expect([wildcard.field, wildcard.message]).toEqual([
      "customer_interests[0]",
      "Invalid parameter: FilterPolicy: customer_interests[0]: unrecognized match type wildcard (expected one of prefix, suffix, equals-ignore-case, anything-but, numeric, cidr, exists)",
    ]);
    const notWildcard = refusal(
      { customer_interests: [{ "anything-but": { wildcard: "*ball" } }] },
      "MessageBody",
    );
    expect(notWildcard.message).toContain("unsupported anything-but pattern: wildcard");
  });

  it('the numeric page\'s "Number.Array" attribute is not one publish accepts (a Number whose value is not a number)', () => {
    // The page says {"Type": "Number.Array", "Value": "[100, 50]"} matches anything-but
    // [100, 500]; its body form, {"price": [100, 50]}, is checked above and matches.
    expect(() =>
      checkAttributes(published({ price: { Type: "Number.Array", Value: "[100, 50]" } })),
    ).toThrow("Could not cast message attribute 'price' value to number.");
  });
});
