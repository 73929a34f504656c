/**
 * What SNS answers for a topic's Policy and EffectiveDeliveryPolicy when none was set: its
 * documented defaults, so tools that read a topic's policy (and edit it, as AddPermission does)
 * find the document SNS would give them.
 */

/** The actions SNS's default topic policy grants the owning account. */
const DEFAULT_POLICY_ACTIONS = [
  "SNS:GetTopicAttributes",
  "SNS:SetTopicAttributes",
  "SNS:AddPermission",
  "SNS:RemovePermission",
  "SNS:DeleteTopic",
  "SNS:Subscribe",
  "SNS:ListSubscriptionsByTopic",
  "SNS:Publish",
];

/** SNS's default access policy of a topic: everything, for callers of the owning account. */
export function defaultTopicPolicy(topicArn: string, accountId: string): string {
  return JSON.stringify({
    Version: "2008-10-17",
    Id: "__default_policy_ID",
    Statement: [
      {
        Sid: "__default_statement_ID",
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: DEFAULT_POLICY_ACTIONS,
        Resource: topicArn,
        Condition: { StringEquals: { "AWS:SourceOwner": accountId } },
      },
    ],
  });
}

/** SNS's default delivery policy for HTTP(S) endpoints: 3 retries, 20 s apart. */
const DEFAULT_DELIVERY_POLICY = {
  http: {
    defaultHealthyRetryPolicy: {
      minDelayTarget: 20,
      maxDelayTarget: 20,
      numRetries: 3,
      numMaxDelayRetries: 0,
      numNoDelayRetries: 0,
      numMinDelayRetries: 0,
      backoffFunction: "linear",
    },
    disableSubscriptionOverrides: false,
    defaultRequestPolicy: { headerContentType: "text/plain; charset=UTF-8" },
  },
};

/**
 * A topic's EffectiveDeliveryPolicy: its DeliveryPolicy (already validated as JSON) merged
 * over SNS's default, object by object; the default alone when none is set.
 */
export function effectiveDeliveryPolicy(deliveryPolicy: string | undefined): string {
  if (deliveryPolicy === undefined) return JSON.stringify(DEFAULT_DELIVERY_POLICY);
  return JSON.stringify(mergeOver(DEFAULT_DELIVERY_POLICY, JSON.parse(deliveryPolicy) as unknown));
}

function mergeOver(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over))
    merged[key] = Object.hasOwn(base, key) ? mergeOver(base[key], value) : value;
  return merged;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
