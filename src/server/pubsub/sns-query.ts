import type {
  PubSubMessageAttributeValue,
  PubSubService,
  PublishBatchRequestEntry,
  PublishInput,
  Subscription,
} from "../../messaging/pubsub/index.js";
import { unknownOperation } from "../aws/aws-error.js";
import type { AwsQueryService } from "../aws/aws-protocols.js";
import type { QueryParams } from "../aws/query-params.js";
import type { XmlElement } from "../aws/xml.js";
import { snsInvalidParameter, snsMissingParameter, toSnsError } from "./sns-errors.js";
import { addTopicPermission, removeTopicPermission } from "./sns-permissions.js";
import { setOwnEntry } from "../../messaging/own-entry.js";

type Operation = (pubsub: PubSubService, p: QueryParams) => Promise<XmlElement | undefined>;

/** SNS's subscription protocols this server delivers to (handlers live in a library's process). */
const PROTOCOLS = new Set(["sqs", "http", "https", "sns"]);
const PAGE = 100;

// Inputs go to the service as they came: it validates every field (names, ARNs, attributes,
// sizes), so the SNS API and the library refuse the same input the same way.
/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-explicit-any */
const OPERATIONS: Record<string, Operation> = {
  CreateTopic: async (s, p) =>
    s.createTopic(
      defined({
        Name: required(p, "Name"),
        Attributes: mapOrUndefined(p, "Attributes.entry", "key", "value"),
        Tags: p.has("Tags.member") ? decodeTags(p) : undefined,
      }) as any,
    ),
  // SNS answers the tagging calls with an empty <TagResourceResult/>, which boto3 requires.
  TagResource: async (s, p) => {
    await s.tagResource({ ResourceArn: required(p, "ResourceArn"), Tags: decodeTags(p) });
    return {};
  },
  UntagResource: async (s, p) => {
    await s.untagResource({
      ResourceArn: required(p, "ResourceArn"),
      TagKeys: p.list("TagKeys.member"),
    });
    return {};
  },
  ListTagsForResource: async (s, p) => {
    const { Tags } = await s.listTagsForResource({ ResourceArn: required(p, "ResourceArn") });
    return { Tags: { member: Tags.map((t) => ({ Key: t.Key, Value: t.Value })) } };
  },
  DeleteTopic: async (s, p) => void (await s.deleteTopic({ TopicArn: required(p, "TopicArn") })),
  ListTopics: async (s, p) => {
    const { Topics, NextToken } = await s.listTopics(defined({ NextToken: p.string("NextToken") }));
    return { Topics: { member: Topics }, NextToken };
  },
  GetTopicAttributes: async (s, p) => {
    const { Attributes } = await s.getTopicAttributes({ TopicArn: required(p, "TopicArn") });
    return { Attributes: entries(Attributes) };
  },
  SetTopicAttributes: async (s, p) =>
    void (await s.setTopicAttributes({
      TopicArn: required(p, "TopicArn"),
      AttributeName: required(p, "AttributeName") as never,
      AttributeValue: p.string("AttributeValue") ?? "",
    })),
  // Edits of the topic's stored Policy, as SNS makes them; not enforced.
  AddPermission: async (s, p) => void (await addTopicPermission(s, p)),
  RemovePermission: async (s, p) => void (await removeTopicPermission(s, p)),
  Subscribe: async (s, p) => {
    const protocol = required(p, "Protocol");
    if (!PROTOCOLS.has(protocol))
      throw snsInvalidParameter(
        "Protocol",
        `this server delivers to sqs, http, https and sns endpoints, not ${JSON.stringify(protocol)}`,
      );
    return s.subscribe(
      defined({
        TopicArn: required(p, "TopicArn"),
        Protocol: protocol,
        Endpoint: p.string("Endpoint"),
        Attributes: mapOrUndefined(p, "Attributes.entry", "key", "value"),
        ReturnSubscriptionArn: booleanOrUndefined(p, "ReturnSubscriptionArn"),
      }) as any,
    );
  },
  ConfirmSubscription: (s, p) =>
    s.confirmSubscription({ TopicArn: required(p, "TopicArn"), Token: required(p, "Token") }),
  Unsubscribe: async (s, p) =>
    void (await s.unsubscribe({ SubscriptionArn: required(p, "SubscriptionArn") })),
  ListSubscriptionsByTopic: async (s, p) => {
    const { Subscriptions, NextToken } = await s.listSubscriptionsByTopic(
      defined({ TopicArn: required(p, "TopicArn"), NextToken: p.string("NextToken") }) as any,
    );
    return { Subscriptions: { member: Subscriptions.map(subscriptionXml) }, NextToken };
  },
  ListSubscriptions: async (s, p) => listSubscriptions(s, p.string("NextToken")),
  GetSubscriptionAttributes: async (s, p) => {
    const { Attributes } = await s.getSubscriptionAttributes({
      SubscriptionArn: required(p, "SubscriptionArn"),
    });
    return { Attributes: entries(Attributes) };
  },
  SetSubscriptionAttributes: async (s, p) =>
    void (await s.setSubscriptionAttributes({
      SubscriptionArn: required(p, "SubscriptionArn"),
      AttributeName: required(p, "AttributeName") as never,
      AttributeValue: p.string("AttributeValue") ?? "",
    })),
  Publish: async (s, p) => {
    const result = await s.publish({ TopicArn: publishTarget(p), ...decodePublish(p, "") });
    return { ...result };
  },
  PublishBatch: async (s, p) => {
    const { Successful, Failed } = await s.publishBatch({
      TopicArn: required(p, "TopicArn"),
      PublishBatchRequestEntries: p.structures("PublishBatchRequestEntries.member").map((e, i) => {
        const prefix = `PublishBatchRequestEntries.member.${i + 1}.`;
        return defined({ Id: required(e, "Id", prefix), ...decodePublish(e, prefix) });
      }) as unknown as PublishBatchRequestEntry[],
    });
    return {
      Successful: { member: Successful.map((entry) => ({ ...entry })) },
      Failed: { member: Failed.map((entry) => ({ ...entry })) },
    };
  },
};
/* eslint-enable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-explicit-any */

/** Whether `action` is an SNS action this server answers. */
export function isSnsOperation(action: string): boolean {
  return Object.hasOwn(OPERATIONS, action);
}

/**
 * Amazon SNS in the AWS query protocol (`Action=Publish&Version=2010-03-31`, XML answers), the
 * only protocol SNS speaks: the AWS SDKs (JavaScript v3 included) and boto3 send it.
 */
export function snsQueryService(pubsub: PubSubService): AwsQueryService {
  return {
    name: "SNS",
    version: "2010-03-31",
    xmlNamespace: "http://sns.amazonaws.com/doc/2010-03-31/",
    handles: isSnsOperation,
    async call(action, params) {
      const run = Object.hasOwn(OPERATIONS, action) ? OPERATIONS[action] : undefined;
      if (run === undefined) throw unknownOperation(action);
      return run(pubsub, params);
    },
    toAwsError: toSnsError,
  };
}

/** Every subscription of every topic, a page of 100 at a time (the token is an offset). */
async function listSubscriptions(
  pubsub: PubSubService,
  nextToken: string | undefined,
): Promise<XmlElement> {
  const start = nextToken === undefined ? 0 : Number(nextToken);
  if (nextToken !== undefined && (!/^\d{1,15}$/.test(nextToken) || !Number.isSafeInteger(start)))
    throw snsInvalidParameter("NextToken", "not a token from ListSubscriptions");
  const all: Subscription[] = [];
  let topicsToken: string | undefined;
  do {
    const page = await pubsub.listTopics(
      topicsToken === undefined ? {} : { NextToken: topicsToken },
    );
    for (const { TopicArn } of page.Topics) {
      let token: string | undefined;
      do {
        const subscriptions = await pubsub
          .listSubscriptionsByTopic(
            token === undefined ? { TopicArn } : { TopicArn, NextToken: token },
          )
          .catch((error: unknown) => {
            // A topic deleted while we list has no subscriptions left to show.
            if (toSnsError(error)?.awsCode === "NotFound") return { Subscriptions: [] };
            throw error;
          });
        all.push(...subscriptions.Subscriptions);
        token = "NextToken" in subscriptions ? subscriptions.NextToken : undefined;
      } while (token !== undefined);
    }
    topicsToken = page.NextToken;
  } while (topicsToken !== undefined);
  return {
    Subscriptions: { member: all.slice(start, start + PAGE).map(subscriptionXml) },
    NextToken: start + PAGE < all.length ? String(start + PAGE) : undefined,
  };
}

function subscriptionXml(s: Subscription): XmlElement {
  return {
    TopicArn: s.TopicArn,
    Protocol: s.Protocol,
    SubscriptionArn: s.SubscriptionArn,
    Owner: s.Owner,
    Endpoint: s.Endpoint,
  };
}

/** Publish names its topic by TopicArn or TargetArn; SMS (PhoneNumber) is not served. */
function publishTarget(p: QueryParams): string {
  if (p.string("PhoneNumber") !== undefined)
    throw snsInvalidParameter("PhoneNumber", "SMS delivery is not supported by this server");
  const topicArn = p.string("TopicArn") ?? p.string("TargetArn");
  if (topicArn === undefined) throw snsMissingParameter("TopicArn or TargetArn");
  return topicArn;
}

/** `Tags.member.N.Key` / `.Value`; a missing value is the empty string, as SNS takes it. */
function decodeTags(p: QueryParams): { Key: string; Value: string }[] {
  return p.structures("Tags.member").map((t, i) => {
    const key = t.string("Key");
    if (key === undefined) throw snsMissingParameter(`Tags.member.${i + 1}.Key`);
    return { Key: key, Value: t.string("Value") ?? "" };
  });
}

function decodePublish(p: QueryParams, prefix: string): Omit<PublishInput, "TopicArn"> {
  return defined({
    Message: p.string("Message"),
    // The service checks it: "json" and a JSON object with a default entry, or refused.
    MessageStructure: p.string("MessageStructure"),
    Subject: p.string("Subject"),
    MessageAttributes: p.has("MessageAttributes.entry")
      ? decodeAttributes(p, `${prefix}MessageAttributes.entry`)
      : undefined,
    MessageGroupId: p.string("MessageGroupId"),
    MessageDeduplicationId: p.string("MessageDeduplicationId"),
  }) as unknown as Omit<PublishInput, "TopicArn">;
}

function decodeAttributes(
  p: QueryParams,
  field: string,
): Record<string, PubSubMessageAttributeValue> {
  const out: Record<string, PubSubMessageAttributeValue> = {};
  for (const [i, entry] of p.structures("MessageAttributes.entry").entries()) {
    const name = entry.string("Name");
    if (name === undefined) throw snsMissingParameter(`${field}.${i + 1}.Name`);
    const value = entry
      .under("Value")
      .attributeValue((binary) => decodeBase64(binary, `${field}.${i + 1}.Value.BinaryValue`));
    setOwnEntry(out, name, value as PubSubMessageAttributeValue);
  }
  return out;
}

function decodeBase64(text: string, field: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1)
    throw snsInvalidParameter(field, "expected base64");
  return Buffer.from(text, "base64");
}

/** A parameter SNS requires; `prefix` names the structure it is in (a batch entry's). */
function required(p: QueryParams, name: string, prefix = ""): string {
  const value = p.string(name);
  if (value === undefined) throw snsMissingParameter(`${prefix}${name}`);
  return value;
}

function mapOrUndefined(
  p: QueryParams,
  prefix: string,
  keyName: string,
  valueName: string,
): Record<string, string> | undefined {
  return p.has(prefix) ? p.map(prefix, keyName, valueName) : undefined;
}

function booleanOrUndefined(p: QueryParams, name: string): boolean | string | undefined {
  const value = p.string(name);
  if (value === undefined) return undefined;
  if (value === "true" || value === "false") return value === "true";
  throw snsInvalidParameter(name, `expected true or false, got ${JSON.stringify(value)}`);
}

/** SNS's attribute maps: `<entry><key>..</key><value>..</value></entry>`. */
function entries(map: Record<string, string>): XmlElement {
  return { entry: Object.entries(map).map(([key, value]) => ({ key, value })) };
}

function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}
