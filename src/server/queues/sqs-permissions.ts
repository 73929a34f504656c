import { QueueError, type QueueService, canEditAttributes } from "../../messaging/queues/index.js";
import { serializerOf } from "../../messaging/per-key-serializer.js";
import {
  type PolicyDocument,
  hasStatement,
  policyForEdit,
  withGrant,
  withoutGrant,
} from "../aws/permission-statements.js";
import type { SqsShape } from "./sqs-operations.js";

/** The actions SQS lets AddPermission grant ("*" for all; the batch forms come with their single ones). */
const GRANTABLE_ACTIONS = new Set([
  "*",
  "ChangeMessageVisibility",
  "DeleteMessage",
  "GetQueueAttributes",
  "GetQueueUrl",
  "ListDeadLetterSourceQueues",
  "PurgeQueue",
  "ReceiveMessage",
  "SendMessage",
]);
/** SQS allows at most seven actions in one statement. */
const MAX_ACTIONS = 7;
const LABEL = /^[A-Za-z0-9_-]{1,80}$/;
const ACCOUNT_ID = /^\d{12}$/;

/**
 * SQS's AddPermission: a statement (Sid = Label) allowing the accounts the actions on the
 * queue, added to its stored Policy (a new one when it has none). Not enforced.
 */
export async function addQueuePermission(queues: QueueService, input: SqsShape): Promise<void> {
  const queueUrl = input.QueueUrl as string;
  const label = checkLabel(input.Label);
  const accountIds = requiredStrings(input.AWSAccountIds, "AWSAccountIds");
  for (const id of accountIds)
    if (!ACCOUNT_ID.test(id)) throw invalidValue(id, "AWSAccountIds", "an account id is 12 digits");
  const actions = requiredStrings(input.Actions, "Actions");
  if (actions.length > MAX_ACTIONS)
    throw new QueueError(
      "OverLimit",
      `${actions.length} Actions were found, maximum allowed is ${MAX_ACTIONS}.`,
      "Actions",
    );
  for (const action of actions)
    if (!GRANTABLE_ACTIONS.has(action))
      throw invalidValue(
        `SQS:${action}`,
        "ActionName",
        "Only the queue owner is allowed to invoke this action.",
      );
  await editPolicy(queues, queueUrl, (policy, queueArn) => {
    if (hasStatement(policy, label)) throw invalidValue(label, "Label", "Already exists.");
    return JSON.stringify(
      withGrant(policy, {
        label,
        accountIds,
        actions: actions.map((a) => `SQS:${a}`),
        resource: queueArn,
      }),
    );
  });
}

/** SQS's RemovePermission: drops the statement labelled Label, and the Policy with its last one. */
export async function removeQueuePermission(queues: QueueService, input: SqsShape): Promise<void> {
  const queueUrl = input.QueueUrl as string;
  const label = checkLabel(input.Label);
  await editPolicy(queues, queueUrl, (policy) => {
    if (!hasStatement(policy, label))
      throw invalidValue(label, "Label", "can't find label on existing policy.");
    const remaining = withoutGrant(policy, label);
    // An empty Policy removes it, as SQS shows a queue whose last permission went.
    return remaining.Statement.length === 0 ? "" : JSON.stringify(remaining);
  });
}

/**
 * Replaces the queue's Policy with what `edit` makes of the stored one, as one step: through the
 * service's `editQueueAttributes` where it has it (so concurrent edits are all kept, from other
 * servers on a shared backend too), else one edit at a time per queue through this server.
 */
async function editPolicy(
  queues: QueueService,
  queueUrl: string,
  edit: (policy: PolicyDocument, queueArn: string) => string,
): Promise<void> {
  const { Attributes } = await queues.getQueueAttributes({
    QueueUrl: queueUrl,
    AttributeNames: ["QueueArn"],
  });
  const queueArn = Attributes.QueueArn!;
  const edited = (stored: string | undefined): string =>
    edit(
      policyForEdit(stored, () => ({
        Version: "2012-10-17",
        Id: `${queueArn}/SQSDefaultPolicy`,
        Statement: [],
      })),
      queueArn,
    );
  if (canEditAttributes(queues)) {
    await queues.editQueueAttributes(queueUrl, (current) => ({ Policy: edited(current.Policy) }));
    return;
  }
  await serializerOf(queues).run(queueUrl, async () => {
    const { Attributes: now } = await queues.getQueueAttributes({
      QueueUrl: queueUrl,
      AttributeNames: ["Policy"],
    });
    await queues.setQueueAttributes({
      QueueUrl: queueUrl,
      Attributes: { Policy: edited(now.Policy) },
    });
  });
}

function checkLabel(value: unknown): string {
  if (value === undefined || value === "")
    throw new QueueError(
      "MissingParameter",
      "The request must contain the parameter Label.",
      "Label",
    );
  if (typeof value !== "string" || !LABEL.test(value))
    throw invalidValue(
      typeof value === "string" ? value : JSON.stringify(value),
      "Label",
      "Must be 1-80 letters, digits, hyphens and underscores.",
    );
  return value;
}

function requiredStrings(value: unknown, field: string): string[] {
  if (value === undefined || (Array.isArray(value) && value.length === 0))
    throw new QueueError(
      "MissingParameter",
      `The request must contain the parameter ${field}.`,
      field,
    );
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === "string"))
    throw new QueueError("InvalidParameterValue", `${field}: expected a list of strings`, field);
  return value;
}

/** SQS's wording: "Value X for parameter P is invalid. Reason: ...". */
function invalidValue(value: string, field: string, reason: string): QueueError {
  return new QueueError(
    "InvalidParameterValue",
    `Value ${value} for parameter ${field} is invalid. Reason: ${reason}`,
    field,
  );
}
