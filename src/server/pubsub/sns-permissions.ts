import type { PubSubService } from "../../messaging/pubsub/index.js";
import { AwsError } from "../aws/aws-error.js";
import { serializerOf } from "../../messaging/per-key-serializer.js";
import {
  type PolicyDocument,
  hasStatement,
  policyForEdit,
  withGrant,
  withoutGrant,
} from "../aws/permission-statements.js";
import type { QueryParams } from "../aws/query-params.js";
import { snsInvalidParameter, snsMissingParameter } from "./sns-errors.js";

/** The actions SNS lets AddPermission grant. */
const GRANTABLE_ACTIONS = new Set([
  "GetTopicAttributes",
  "SetTopicAttributes",
  "AddPermission",
  "RemovePermission",
  "DeleteTopic",
  "Subscribe",
  "ListSubscriptionsByTopic",
  "Publish",
  "Receive",
]);
const ACCOUNT_ID = /^\d{12}$/;

/**
 * SNS's AddPermission: a statement (Sid = Label) allowing the accounts the actions on the
 * topic, added to its stored Policy (SNS's default policy when none was set). Not enforced.
 */
export async function addTopicPermission(pubsub: PubSubService, p: QueryParams): Promise<void> {
  const topicArn = required(p, "TopicArn");
  const label = required(p, "Label");
  const accountIds = requiredList(p, "AWSAccountId");
  for (const [i, id] of accountIds.entries())
    if (!ACCOUNT_ID.test(id))
      throw snsInvalidParameter(`AWSAccountId.member.${i + 1}`, "an account id of 12 digits");
  const actions = requiredList(p, "ActionName");
  for (const action of actions)
    if (!GRANTABLE_ACTIONS.has(action))
      throw new AwsError(
        "InvalidParameter",
        `Invalid parameter: Policy statement action out of service scope! (${JSON.stringify(action)})`,
        { field: "ActionName" },
      );
  await serializerOf(pubsub).run(topicArn, async () => {
    const policy = await currentPolicy(pubsub, topicArn);
    if (hasStatement(policy, label))
      throw new AwsError("InvalidParameter", "Invalid parameter: Statement already exists", {
        field: "Label",
      });
    const granted = withGrant(policy, {
      label,
      accountIds,
      actions: actions.map((a) => `SNS:${a}`),
      resource: topicArn,
    });
    await savePolicy(pubsub, topicArn, granted);
  });
}

/** SNS's RemovePermission: drops the statement labelled Label; a label not there is ignored. */
export async function removeTopicPermission(pubsub: PubSubService, p: QueryParams): Promise<void> {
  const topicArn = required(p, "TopicArn");
  const label = required(p, "Label");
  await serializerOf(pubsub).run(topicArn, async () => {
    const policy = await currentPolicy(pubsub, topicArn);
    if (hasStatement(policy, label))
      await savePolicy(pubsub, topicArn, withoutGrant(policy, label));
  });
}

/** The topic's Policy as GetTopicAttributes answers it (SNS's default when none was set). */
async function currentPolicy(pubsub: PubSubService, topicArn: string): Promise<PolicyDocument> {
  const { Attributes } = await pubsub.getTopicAttributes({ TopicArn: topicArn });
  return policyForEdit(Attributes.Policy, () => ({ Version: "2008-10-17", Statement: [] }));
}

async function savePolicy(
  pubsub: PubSubService,
  topicArn: string,
  policy: PolicyDocument,
): Promise<void> {
  await pubsub.setTopicAttributes({
    TopicArn: topicArn,
    AttributeName: "Policy",
    AttributeValue: JSON.stringify(policy),
  });
}

function required(p: QueryParams, name: string): string {
  const value = p.string(name);
  if (value === undefined || value === "") throw snsMissingParameter(name);
  return value;
}

function requiredList(p: QueryParams, name: string): string[] {
  const values = p.list(`${name}.member`);
  if (values.length === 0) throw snsMissingParameter(name);
  return values;
}
