import type { FastifyInstance, FastifyRequest } from "fastify";
import {
  BusError,
  type EventBusService,
  type PutEventsRequestEntry,
  type ReplayState,
  type StartReplayInput,
  type Tag,
  type Target,
} from "../../messaging/bus/index.js";
import { documented } from "../route-schema.js";

type Json = Record<string, unknown>;
type Req<P = Json, B = Json, Q = Json> = FastifyRequest<{ Params: P; Body: B; Querystring: Q }>;

const name = { type: "string", minLength: 1, maxLength: 256 } as const;
const params = (...names: string[]): object => ({
  type: "object",
  required: names,
  properties: Object.fromEntries(names.map((n) => [n, name])),
});
const strict = (properties: object, required: string[] = []): object => ({
  type: "object",
  additionalProperties: false,
  required,
  properties,
});
const text = { type: "string" } as const;
const time = { type: "string", format: "date-time" } as const;
// Lengths and the count are the service's to check, so the API and the library say the same.
const tagList = { type: "array", items: strict({ Key: text, Value: text }, ["Key", "Value"]) };

const target = strict(
  {
    Id: text,
    Arn: text,
    Input: text,
    InputPath: text,
    InputTransformer: strict(
      { InputPathsMap: { type: "object", additionalProperties: text }, InputTemplate: text },
      ["InputTemplate"],
    ),
    RetryPolicy: strict({
      MaximumRetryAttempts: { type: "integer" },
      MaximumEventAgeInSeconds: { type: "integer" },
    }),
    DeadLetterConfig: strict({ Arn: text }, ["Arn"]),
    SqsParameters: strict({ MessageGroupId: text }, ["MessageGroupId"]),
  },
  ["Id", "Arn"],
);

const entry = strict(
  {
    Source: text,
    DetailType: text,
    Detail: text,
    Resources: { type: "array", items: text },
    Time: text,
    EventBusName: text,
  },
  ["Source", "DetailType", "Detail"],
);

/**
 * The event bus REST API in EventBridge's shapes: buses, rules and their targets as resources,
 * events put on a bus, pattern tests, archives and replays (times as ISO-8601 text).
 */
export function registerBusRoutes(app: FastifyInstance, bus: EventBusService): void {
  const tags = ["bus"];
  type Bus = { bus: string };
  type BusRule = { bus: string; rule: string };
  const EventBusName = (request: Req<Bus>): string => request.params.bus;
  const noContent = (reply: { status(n: number): { send(): unknown } }): unknown =>
    reply.status(204).send();

  app.post(
    "/buses",
    documented(tags, "Create an event bus", {
      body: strict({ Name: name, Tags: tagList }, ["Name"]),
    }),
    async (request: Req<Json, { Name: string; Tags?: Tag[] }>, reply) =>
      reply.status(201).send(await bus.createEventBus(request.body)),
  );
  app.get(
    "/buses",
    documented(tags, "List event buses", { querystring: strict({ NamePrefix: text }) }),
    (request: Req<Json, Json, { NamePrefix?: string }>) => bus.listEventBuses(request.query),
  );
  app.delete(
    "/buses/:bus",
    documented(tags, "Delete an event bus", { params: params("bus") }),
    async (request: Req<Bus>, reply) => {
      await bus.deleteEventBus({ Name: request.params.bus });
      return noContent(reply);
    },
  );
  app.post(
    "/buses/:bus/events",
    documented(tags, "Put 1-10 events on the bus; each entry succeeds or fails on its own", {
      params: params("bus"),
      body: strict({ Entries: { type: "array", minItems: 1, maxItems: 10, items: entry } }, [
        "Entries",
      ]),
    }),
    (request: Req<Bus, { Entries: PutEventsRequestEntry[] }>) =>
      bus.putEvents({
        // Not `{ ...e, EventBusName }`: V8 builds that on a slow path when the field is new.
        Entries: request.body.Entries.map((e) =>
          Object.assign({}, e, { EventBusName: e.EventBusName ?? EventBusName(request) }),
        ),
      }),
  );
  app.get(
    "/buses/:bus/rules",
    documented(tags, "List the bus's rules", {
      params: params("bus"),
      querystring: strict({ NamePrefix: text }),
    }),
    (request: Req<Bus, Json, { NamePrefix?: string }>) =>
      bus.listRules({ EventBusName: EventBusName(request), ...request.query }),
  );
  app.put(
    "/buses/:bus/rules/:rule",
    documented(tags, "Create or change a rule (an event pattern, a schedule, or both)", {
      params: params("bus", "rule"),
      body: strict({
        EventPattern: text,
        ScheduleExpression: text,
        State: { enum: ["ENABLED", "DISABLED"] },
        Description: text,
        Tags: tagList,
      }),
    }),
    (request: Req<BusRule, Json>) =>
      bus.putRule({
        ...request.body,
        Name: request.params.rule,
        EventBusName: request.params.bus,
      }),
  );
  const ruleOf = (request: Req<BusRule>) => ({
    Name: request.params.rule,
    EventBusName: request.params.bus,
  });
  app.get(
    "/buses/:bus/rules/:rule",
    documented(tags, "Describe a rule", { params: params("bus", "rule") }),
    (request: Req<BusRule>) => bus.describeRule(ruleOf(request)),
  );
  app.delete(
    "/buses/:bus/rules/:rule",
    documented(tags, "Delete a rule (force=true also removes its targets)", {
      params: params("bus", "rule"),
      querystring: strict({ force: { type: "boolean" } }),
    }),
    async (request: Req<BusRule, Json, { force?: boolean }>, reply) => {
      await bus.deleteRule({
        ...ruleOf(request),
        ...(request.query.force === undefined ? {} : { Force: request.query.force }),
      });
      return noContent(reply);
    },
  );
  for (const [action, call] of [
    ["enable", (r: Req<BusRule>) => bus.enableRule(ruleOf(r))],
    ["disable", (r: Req<BusRule>) => bus.disableRule(ruleOf(r))],
  ] as const)
    app.post(
      `/buses/:bus/rules/:rule/${action}`,
      documented(tags, `${action === "enable" ? "Enable" : "Disable"} a rule`, {
        params: params("bus", "rule"),
      }),
      async (request: Req<BusRule>, reply) => {
        await call(request);
        return noContent(reply);
      },
    );
  const targetsOf = (request: Req<BusRule>) => ({
    Rule: request.params.rule,
    EventBusName: request.params.bus,
  });
  app.get(
    "/buses/:bus/rules/:rule/targets",
    documented(tags, "A rule's targets", { params: params("bus", "rule") }),
    (request: Req<BusRule>) => bus.listTargetsByRule(targetsOf(request)),
  );
  app.put(
    "/buses/:bus/rules/:rule/targets",
    documented(tags, "Add or change a rule's targets", {
      params: params("bus", "rule"),
      body: strict({ Targets: { type: "array", minItems: 1, items: target } }, ["Targets"]),
    }),
    (request: Req<BusRule, { Targets: Target[] }>) =>
      bus.putTargets({ ...targetsOf(request), Targets: request.body.Targets }),
  );
  app.delete(
    "/buses/:bus/rules/:rule/targets",
    documented(tags, "Remove targets by id", {
      params: params("bus", "rule"),
      querystring: strict({ ids: { type: "string", description: "comma-separated" } }, ["ids"]),
    }),
    (request: Req<BusRule, Json, { ids: string }>) =>
      bus.removeTargets({ ...targetsOf(request), Ids: request.query.ids.split(",") }),
  );
  registerTagRoutes(app, bus, "/buses/:bus/tags", "an event bus", async (request) => {
    const { bus: name } = request.params as Bus;
    const found = (await bus.listEventBuses()).EventBuses.find((b) => b.Name === name);
    if (found === undefined)
      throw new BusError("ResourceNotFoundException", `Event bus ${name} does not exist.`, "bus");
    return found.Arn;
  });
  registerTagRoutes(
    app,
    bus,
    "/buses/:bus/rules/:rule/tags",
    "a rule",
    async (request) => (await bus.describeRule(ruleOf(request as Req<BusRule>))).Arn,
  );
  app.post(
    "/test-event-pattern",
    documented(tags, "Whether an event (JSON text) matches a pattern (JSON text)", {
      body: strict({ EventPattern: text, Event: text }, ["EventPattern", "Event"]),
    }),
    (request: Req<Json, { EventPattern: string; Event: string }>) =>
      bus.testEventPattern(request.body),
  );

  app.post(
    "/archives",
    documented(tags, "Archive a bus's events (all, or those matching a pattern)", {
      body: strict(
        {
          ArchiveName: name,
          EventSourceArn: text,
          EventPattern: text,
          RetentionDays: { type: "integer", minimum: 0 },
          Description: text,
        },
        ["ArchiveName", "EventSourceArn"],
      ),
    }),
    async (request: Req<Json, never>, reply) =>
      reply.status(201).send(await bus.createArchive(request.body as never)),
  );
  app.get(
    "/archives",
    documented(tags, "List archives", { querystring: strict({ EventSourceArn: text }) }),
    (request: Req<Json, Json, { EventSourceArn?: string }>) => bus.listArchives(request.query),
  );
  app.get(
    "/archives/:archive",
    documented(tags, "Describe an archive", { params: params("archive") }),
    (request: Req<{ archive: string }>) =>
      bus.describeArchive({ ArchiveName: request.params.archive }),
  );
  app.patch(
    "/archives/:archive",
    documented(tags, "Change an archive's description, pattern or retention (the others stay)", {
      params: params("archive"),
      body: strict({
        EventPattern: text,
        RetentionDays: { type: "integer", minimum: 0 },
        Description: text,
      }),
    }),
    (request: Req<{ archive: string }, Json>) =>
      bus.updateArchive({ ...request.body, ArchiveName: request.params.archive }),
  );
  app.delete(
    "/archives/:archive",
    documented(tags, "Delete an archive", { params: params("archive") }),
    async (request: Req<{ archive: string }>, reply) => {
      await bus.deleteArchive({ ArchiveName: request.params.archive });
      return noContent(reply);
    },
  );
  app.post(
    "/replays",
    documented(tags, "Replay an archive's events from a time range onto its bus", {
      body: strict(
        {
          ReplayName: name,
          EventSourceArn: text,
          EventStartTime: time,
          EventEndTime: time,
          Destination: strict({ Arn: text, FilterArns: { type: "array", items: text } }, ["Arn"]),
          Description: text,
        },
        ["ReplayName", "EventSourceArn", "EventStartTime", "EventEndTime", "Destination"],
      ),
    }),
    async (
      request: Req<Json, Omit<StartReplayInput, "EventStartTime" | "EventEndTime"> & Json>,
      reply,
    ) =>
      reply.status(201).send(
        await bus.startReplay({
          ...request.body,
          EventStartTime: new Date(request.body.EventStartTime as string),
          EventEndTime: new Date(request.body.EventEndTime as string),
        }),
      ),
  );
  app.get(
    "/replays",
    documented(tags, "List replays", {
      querystring: strict({
        State: {
          enum: ["STARTING", "RUNNING", "CANCELLING", "COMPLETED", "CANCELLED", "FAILED"],
        },
      }),
    }),
    (request: Req<Json, Json, { State?: ReplayState }>) => bus.listReplays(request.query),
  );
  app.get(
    "/replays/:replay",
    documented(tags, "Describe a replay", { params: params("replay") }),
    (request: Req<{ replay: string }>) => bus.describeReplay({ ReplayName: request.params.replay }),
  );
  app.post(
    "/replays/:replay/cancel",
    documented(tags, "Cancel a replay", { params: params("replay") }),
    (request: Req<{ replay: string }>) => bus.cancelReplay({ ReplayName: request.params.replay }),
  );
}

/** GET, POST {Tags} and DELETE {TagKeys} on the tags of the bus or rule `arnOf` finds. */
function registerTagRoutes(
  app: FastifyInstance,
  bus: EventBusService,
  path: string,
  what: string,
  arnOf: (request: FastifyRequest) => Promise<string>,
): void {
  const tags = ["bus"];
  const pathParams = params(...[...path.matchAll(/:(\w+)/g)].map((m) => m[1]!));
  const noContent = (reply: { status(n: number): { send(): unknown } }): unknown =>
    reply.status(204).send();
  app.get(path, documented(tags, `The tags of ${what}`, { params: pathParams }), async (request) =>
    bus.listTagsForResource({ ResourceARN: await arnOf(request) }),
  );
  app.post(
    path,
    documented(tags, `Add tags to ${what} (a key it has takes the new value)`, {
      params: pathParams,
      body: strict({ Tags: tagList }, ["Tags"]),
    }),
    async (request: Req<Json, { Tags: Tag[] }>, reply) => {
      await bus.tagResource({ ResourceARN: await arnOf(request), Tags: request.body.Tags });
      return noContent(reply);
    },
  );
  app.delete(
    path,
    documented(tags, `Remove tags from ${what} by key`, {
      params: pathParams,
      body: strict({ TagKeys: { type: "array", items: text } }, ["TagKeys"]),
    }),
    async (request: Req<Json, { TagKeys: string[] }>, reply) => {
      await bus.untagResource({ ResourceARN: await arnOf(request), TagKeys: request.body.TagKeys });
      return noContent(reply);
    },
  );
}
