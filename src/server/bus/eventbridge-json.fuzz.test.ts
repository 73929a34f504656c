import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InjectSluice, injectSluice } from "../test-support/inject-sluice.js";

// Malformed or hostile input to the EventBridge endpoint gets a 4xx in AWS JSON 1.1's error
// format and never changes state; nothing a client sends makes the server fail (5xx).
let s: InjectSluice;
const QUEUE = "arn:aws:sqs:us-east-1:000000000000:fuzz-queue";
const BUS = "arn:aws:events:us-east-1:000000000000:event-bus/default";
const ARCHIVE = "arn:aws:events:us-east-1:000000000000:archive/fuzz-archive";
const RULE = "arn:aws:events:us-east-1:000000000000:rule/fuzz";

beforeAll(async () => {
  s = await injectSluice();
  await s.sluice.queues.createQueue({ QueueName: "fuzz-queue" });
  await makeFixtures();
});

/** The rule (with its target and tag) and the archive the calls name, made where missing. */
async function makeFixtures(): Promise<void> {
  await s.sluice.bus.putRule({ Name: "fuzz", EventPattern: '{"source":["fuzz"]}' });
  await s.sluice.bus.putTargets({ Rule: "fuzz", Targets: [{ Id: "q", Arn: QUEUE }] });
  const archived = await s.sluice.bus.describeArchive({ ArchiveName: "fuzz-archive" }).then(
    () => true,
    () => false,
  );
  if (!archived)
    await s.sluice.bus.createArchive({ ArchiveName: "fuzz-archive", EventSourceArn: BUS });
  await s.sluice.bus.tagResource({ ResourceARN: RULE, Tags: [{ Key: "fuzz", Value: "1" }] });
}
afterAll(async () => {
  await s?.close();
});

/** Buses and their rules, with targets and tags, archives and replays. */
async function snapshot(): Promise<string> {
  const bus = s.sluice.bus;
  const { EventBuses } = await bus.listEventBuses();
  const tags = await Promise.all(
    EventBuses.map(async ({ Arn }) => (await bus.listTagsForResource({ ResourceARN: Arn })).Tags),
  );
  const rules = await Promise.all(
    EventBuses.map(async ({ Name }) =>
      Promise.all(
        (await bus.listRules({ EventBusName: Name })).Rules.map(async (rule) => ({
          rule,
          targets: (await bus.listTargetsByRule({ Rule: rule.Name, EventBusName: Name })).Targets,
          tags: (await bus.listTagsForResource({ ResourceARN: rule.Arn })).Tags,
        })),
      ),
    ),
  );
  const archives = (await bus.listArchives()).Archives.map(({ EventCount: _count, ...a }) => a);
  const replays = (await bus.listReplays()).Replays.map((r) => [r.ReplayName, r.EventSourceArn]);
  return JSON.stringify({ EventBuses, tags, rules, archives, replays });
}

const OPERATIONS = [
  "PutEvents",
  "PutRule",
  "DescribeRule",
  "DeleteRule",
  "EnableRule",
  "DisableRule",
  "PutTargets",
  "RemoveTargets",
  "ListTargetsByRule",
  "TestEventPattern",
  "CreateEventBus",
  "DeleteEventBus",
  "CreateArchive",
  "DescribeArchive",
  "UpdateArchive",
  "TagResource",
  "UntagResource",
  "ListTagsForResource",
  "StartReplay",
  "CancelReplay",
  "Nope",
];
const scalar = fc.oneof(
  fc.constantFrom(
    "",
    "fuzz",
    "default",
    "fuzz-archive",
    QUEUE,
    BUS,
    ARCHIVE,
    RULE,
    '{"source":["fuzz"]}',
    '{"source":"x"}',
    "{",
    "rate(5 minutes)",
    "ENABLED",
    "DISABLED",
    "aws.bad",
    "\u0000",
  ),
  fc.string({ maxLength: 16 }),
  fc.integer({ min: -5, max: 2_000_000_000 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const field = fc.oneof(
  scalar,
  fc.array(scalar, { maxLength: 3 }),
  fc.dictionary(
    fc.constantFrom("Id", "Arn", "Source", "DetailType", "Detail", "Time", "Key", "Value"),
    scalar,
    { maxKeys: 4 },
  ),
  fc.array(
    fc.dictionary(
      fc.constantFrom(
        "Id",
        "Arn",
        "Source",
        "DetailType",
        "Detail",
        "Time",
        "EventBusName",
        "Key",
        "Value",
      ),
      scalar,
      { maxKeys: 5 },
    ),
    { maxLength: 3 },
  ),
);
const body = fc.oneof(
  fc
    .record(
      {
        Name: field,
        Rule: field,
        EventBusName: field,
        EventPattern: field,
        ScheduleExpression: field,
        State: field,
        Targets: field,
        Ids: field,
        Entries: field,
        Event: field,
        ArchiveName: field,
        EventSourceArn: field,
        ReplayName: field,
        EventStartTime: field,
        EventEndTime: field,
        Destination: field,
        RetentionDays: field,
        Description: field,
        ResourceARN: field,
        Tags: field,
        TagKeys: field,
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
  fc.string({ maxLength: 30 }),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
);

describe("EventBridge request decoder under fuzzing", () => {
  it("random bodies answer 200 or a 4xx JSON error with __type, and a 4xx changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...OPERATIONS), body, async (operation, payload) => {
        const before = await snapshot();
        const answer = await s.server.app.inject({
          method: "POST",
          url: "/",
          headers: {
            "x-amz-target": `AWSEvents.${operation}`,
            "content-type": "application/x-amz-json-1.1",
          },
          payload,
        });
        expect(answer.statusCode, `${operation} ${payload}: ${answer.body}`).toBeLessThan(500);
        if (answer.statusCode >= 400) {
          expect(answer.headers["content-type"]).toContain("application/x-amz-json-1.1");
          const error = answer.json<{ __type: string; message: string }>();
          expect(error.__type).toMatch(/^([\w.]+#)?[A-Za-z]+$/);
          expect(typeof error.message).toBe("string");
          expect(await snapshot()).toBe(before);
        }
      }),
      { numRuns: 400 },
    );
  });

  it("wrong types and unknown operations are refused with EventBridge's codes", async () => {
    // The random bodies above may have deleted the rule or the archive (valid calls): the
    // cases below need them, so that a wrong type, not a missing resource, is what they meet.
    await makeFixtures();
    const call = (operation: string, payload: string) =>
      s.server.app.inject({
        method: "POST",
        url: "/",
        headers: {
          "x-amz-target": `AWSEvents.${operation}`,
          "content-type": "application/x-amz-json-1.1",
        },
        payload,
      });
    const cases: [string, string, string][] = [
      ["PutRule", "{not json", "SerializationException"],
      ["PutRule", "[1,2]", "SerializationException"],
      ["PutRule", '{"Name": 7, "EventPattern": "{}"}', "ValidationException"],
      [
        "PutRule",
        '{"Name": "r", "EventPattern": "{\\"source\\": \\"x\\"}"}',
        "InvalidEventPatternException",
      ],
      ["PutEvents", '{"Entries": "many"}', "ValidationException"],
      ["PutEvents", '{"Entries": [1]}', "ValidationException"],
      [
        "PutEvents",
        '{"Entries": [{"Source":"a","DetailType":"b","Detail":"{}","Time":"today"}]}',
        "ValidationException",
      ],
      [
        "StartReplay",
        '{"ReplayName":"r","EventSourceArn":"' +
          ARCHIVE +
          '","EventStartTime":"x","EventEndTime":1,"Destination":{"Arn":"' +
          BUS +
          '"}}',
        "ValidationException",
      ],
      ["DescribeRule", '{"Name": "missing"}', "ResourceNotFoundException"],
      ["TagResource", `{"ResourceARN": "${RULE}", "Tags": {"k": "v"}}`, "ValidationException"],
      [
        "TagResource",
        `{"ResourceARN": "${RULE}", "Tags": [{"Key": "k", "Value": 7}]}`,
        "ValidationException",
      ],
      ["UntagResource", `{"ResourceARN": "${RULE}", "TagKeys": [""]}`, "ValidationException"],
      ["ListTagsForResource", `{"ResourceARN": "${RULE}x"}`, "ResourceNotFoundException"],
      ["ListTagsForResource", "{}", "ValidationException"],
      [
        "UpdateArchive",
        '{"ArchiveName": "fuzz-archive", "RetentionDays": "7"}',
        "ValidationException",
      ],
      ["UpdateArchive", '{"ArchiveName": "missing"}', "ResourceNotFoundException"],
      ["LaunchRockets", "{}", "UnknownOperationException"],
    ];
    for (const [operation, payload, type] of cases) {
      const before = await snapshot();
      const answer = await call(operation, payload);
      expect(answer.statusCode, `${operation} ${payload}`).toBe(400);
      expect(answer.json<{ __type: string }>().__type, `${operation} ${payload}`).toMatch(
        new RegExp(`(^|#)${type}$`),
      );
      expect(await snapshot()).toBe(before);
    }
  });
});
