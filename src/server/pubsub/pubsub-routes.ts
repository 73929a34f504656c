import type { FastifyInstance, FastifyRequest } from "fastify";
import {
  PubSubError,
  type PubSubMessageAttributes,
  type PubSubService,
  type PubSubTag,
  type SubscribeInput,
  isPubSubError,
} from "../../messaging/pubsub/index.js";
import { documented } from "../route-schema.js";
import { arnOf as topicArn } from "./pubsub-stream.js";

type Json = Record<string, unknown>;
type Req<P = Json, B = Json> = FastifyRequest<{ Params: P; Body: B }>;

const text = { type: "string" } as const;
const strict = (properties: object, required: string[] = []): object => ({
  type: "object",
  additionalProperties: false,
  required,
  properties,
});
const topicParams = strict({ topic: { type: "string", minLength: 1, maxLength: 256 } }, ["topic"]);
const subscriptionParams = strict({ arn: { type: "string", minLength: 1 } }, ["arn"]);
const attributeValue = strict(
  { DataType: text, StringValue: text, BinaryValue: { type: "string", description: "base64" } },
  ["DataType"],
);
const tagList = { type: "array", items: strict({ Key: text, Value: text }, ["Key", "Value"]) };
const messageFields = {
  Message: text,
  // "json" (checked by the service, so the REST API refuses as the SNS API does).
  MessageStructure: text,
  Subject: text,
  MessageAttributes: { type: "object", additionalProperties: attributeValue },
  MessageGroupId: text,
  MessageDeduplicationId: text,
} as const;

type AttributesJson = Record<
  string,
  { DataType: string; StringValue?: string; BinaryValue?: string }
>;

/** Message attributes from JSON: binary values arrive as base64. */
function decodeAttributes(
  attributes: AttributesJson | undefined,
): PubSubMessageAttributes | undefined {
  if (attributes === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(attributes).map(([key, value]) => [
      key,
      {
        DataType: value.DataType,
        ...(value.StringValue === undefined ? {} : { StringValue: value.StringValue }),
        ...(value.BinaryValue === undefined
          ? {}
          : { BinaryValue: Buffer.from(value.BinaryValue, "base64") }),
      },
    ]),
  );
}

/** A publish body with its attributes decoded. */
function decodeMessage<T extends { MessageAttributes?: AttributesJson }>(
  body: T,
): Omit<T, "MessageAttributes"> & { MessageAttributes?: PubSubMessageAttributes } {
  const attributes = decodeAttributes(body.MessageAttributes);
  const { MessageAttributes: _omit, ...rest } = body;
  return { ...rest, ...(attributes === undefined ? {} : { MessageAttributes: attributes }) };
}

/**
 * The pub/sub REST API in SNS's shapes: topics by name, subscriptions by ARN, publish one
 * message or a batch of up to 10. WebSocket subscribers: see pubsub-stream.ts.
 */
export function registerPubSubRoutes(app: FastifyInstance, pubsub: PubSubService): void {
  const tags = ["pub/sub"];
  const arnOf = (name: string): Promise<string> => topicArn(pubsub, name);

  app.post(
    "/pubsub/topics",
    documented(tags, "Create a topic (or return the existing one)", {
      body: strict(
        {
          Name: text,
          Attributes: { type: "object", additionalProperties: text },
          Tags: tagList,
        },
        ["Name"],
      ),
    }),
    async (request: Req<Json, never>, reply) =>
      reply.status(201).send(await pubsub.createTopic(request.body as never)),
  );
  app.get("/pubsub/topics", documented(tags, "List pub/sub topics"), async () => {
    const Topics: { TopicArn: string }[] = [];
    let token: string | undefined;
    do {
      const page = await pubsub.listTopics(token === undefined ? {} : { NextToken: token });
      Topics.push(...page.Topics);
      token = page.NextToken;
    } while (token !== undefined);
    return { Topics };
  });
  app.get(
    "/pubsub/topics/:topic",
    documented(tags, "A topic's attributes", { params: topicParams }),
    async (request: Req<{ topic: string }>) =>
      pubsub.getTopicAttributes({ TopicArn: await arnOf(request.params.topic) }),
  );
  app.put(
    "/pubsub/topics/:topic/attributes",
    documented(tags, "Set a topic attribute", {
      params: topicParams,
      body: strict({ AttributeName: text, AttributeValue: text }, [
        "AttributeName",
        "AttributeValue",
      ]),
    }),
    async (
      request: Req<{ topic: string }, { AttributeName: never; AttributeValue: string }>,
      reply,
    ) => {
      await pubsub.setTopicAttributes({
        TopicArn: await arnOf(request.params.topic),
        ...request.body,
      });
      return reply.status(204).send();
    },
  );
  app.delete(
    "/pubsub/topics/:topic",
    documented(tags, "Delete a topic and its subscriptions", { params: topicParams }),
    async (request: Req<{ topic: string }>, reply) => {
      await pubsub.deleteTopic({ TopicArn: await arnOf(request.params.topic) });
      return reply.status(204).send();
    },
  );
  // Tagging calls answer ResourceNotFound for a missing topic, as SNS's do.
  const taggedArnOf = (name: string): Promise<string> =>
    arnOf(name).catch((error: unknown) => {
      if (isPubSubError(error, "NotFound"))
        throw new PubSubError("ResourceNotFound", error.message, "topic");
      throw error;
    });
  app.get(
    "/pubsub/topics/:topic/tags",
    documented(tags, "A topic's tags", { params: topicParams }),
    async (request: Req<{ topic: string }>) =>
      pubsub.listTagsForResource({ ResourceArn: await taggedArnOf(request.params.topic) }),
  );
  app.post(
    "/pubsub/topics/:topic/tags",
    documented(tags, "Add or overwrite tags of a topic (at most 50 in all)", {
      params: topicParams,
      body: strict({ Tags: tagList }, ["Tags"]),
    }),
    async (request: Req<{ topic: string }, { Tags: PubSubTag[] }>, reply) => {
      await pubsub.tagResource({
        ResourceArn: await taggedArnOf(request.params.topic),
        Tags: request.body.Tags,
      });
      return reply.status(204).send();
    },
  );
  app.post(
    "/pubsub/topics/:topic/tags/remove",
    documented(tags, "Remove tags of a topic by key", {
      params: topicParams,
      body: strict({ TagKeys: { type: "array", items: text } }, ["TagKeys"]),
    }),
    async (request: Req<{ topic: string }, { TagKeys: string[] }>, reply) => {
      await pubsub.untagResource({
        ResourceArn: await taggedArnOf(request.params.topic),
        TagKeys: request.body.TagKeys,
      });
      return reply.status(204).send();
    },
  );
  app.post(
    "/pubsub/topics/:topic/messages",
    documented(tags, "Publish a message to every matching subscription", {
      params: topicParams,
      body: strict(messageFields, ["Message"]),
    }),
    async (
      request: Req<{ topic: string }, { Message: string; MessageAttributes?: AttributesJson }>,
    ) =>
      pubsub.publish({
        TopicArn: await arnOf(request.params.topic),
        ...decodeMessage(request.body),
      }),
  );
  app.post(
    "/pubsub/topics/:topic/messages/batch",
    documented(tags, "Publish up to 10 messages; each succeeds or fails on its own", {
      params: topicParams,
      body: strict(
        {
          // Entry counts are the service's to check: it answers with SNS's own errors for them.
          PublishBatchRequestEntries: {
            type: "array",
            items: strict({ Id: text, ...messageFields }, ["Id", "Message"]),
          },
        },
        ["PublishBatchRequestEntries"],
      ),
    }),
    async (
      request: Req<
        { topic: string },
        {
          PublishBatchRequestEntries: Array<{
            Id: string;
            Message: string;
            MessageAttributes?: AttributesJson;
          }>;
        }
      >,
    ) =>
      pubsub.publishBatch({
        TopicArn: await arnOf(request.params.topic),
        PublishBatchRequestEntries: request.body.PublishBatchRequestEntries.map(decodeMessage),
      }),
  );
  app.get(
    "/pubsub/topics/:topic/subscriptions",
    documented(tags, "The topic's subscriptions", { params: topicParams }),
    async (request: Req<{ topic: string }>) => {
      const TopicArn = await arnOf(request.params.topic);
      const Subscriptions = [];
      let token: string | undefined;
      do {
        const page = await pubsub.listSubscriptionsByTopic({
          TopicArn,
          ...(token === undefined ? {} : { NextToken: token }),
        });
        Subscriptions.push(...page.Subscriptions);
        token = page.NextToken;
      } while (token !== undefined);
      return { Subscriptions };
    },
  );
  app.post(
    "/pubsub/topics/:topic/subscriptions",
    documented(tags, "Subscribe a queue, handler, HTTP endpoint or topic", {
      params: topicParams,
      body: strict(
        {
          Protocol: { enum: ["sqs", "http", "https", "handler", "sns"] },
          Endpoint: text,
          Attributes: { type: "object", additionalProperties: text },
          ReturnSubscriptionArn: { type: "boolean" },
        },
        ["Protocol", "Endpoint"],
      ),
    }),
    async (request: Req<{ topic: string }, Omit<SubscribeInput, "TopicArn">>, reply) =>
      reply
        .status(201)
        .send(
          await pubsub.subscribe({ TopicArn: await arnOf(request.params.topic), ...request.body }),
        ),
  );
  app.post(
    "/pubsub/topics/:topic/confirm",
    documented(tags, "Confirm an HTTP(S) subscription with the token its endpoint was sent", {
      params: topicParams,
      body: strict({ Token: text }, ["Token"]),
    }),
    async (request: Req<{ topic: string }, { Token: string }>) =>
      pubsub.confirmSubscription({
        TopicArn: await arnOf(request.params.topic),
        Token: request.body.Token,
      }),
  );
  app.get(
    "/pubsub/subscriptions/:arn",
    documented(tags, "A subscription's attributes (ARN URL-encoded)", {
      params: subscriptionParams,
    }),
    (request: Req<{ arn: string }>) =>
      pubsub.getSubscriptionAttributes({ SubscriptionArn: request.params.arn }),
  );
  app.put(
    "/pubsub/subscriptions/:arn/attributes",
    documented(tags, "Set a subscription attribute (FilterPolicy, RawMessageDelivery, …)", {
      params: subscriptionParams,
      body: strict({ AttributeName: text, AttributeValue: text }, [
        "AttributeName",
        "AttributeValue",
      ]),
    }),
    async (
      request: Req<{ arn: string }, { AttributeName: never; AttributeValue: string }>,
      reply,
    ) => {
      await pubsub.setSubscriptionAttributes({
        SubscriptionArn: request.params.arn,
        ...request.body,
      });
      return reply.status(204).send();
    },
  );
  app.delete(
    "/pubsub/subscriptions/:arn",
    documented(tags, "Unsubscribe", { params: subscriptionParams }),
    async (request: Req<{ arn: string }>, reply) => {
      await pubsub.unsubscribe({ SubscriptionArn: request.params.arn });
      return reply.status(204).send();
    },
  );
}
