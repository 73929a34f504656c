import { type QueueAddresses, isFifoName } from "./queue-address.js";
import { type QueueConfig, parseConfig } from "./queue-attributes.js";
import { invalidParameter } from "./queue-error.js";

/** What the check needs to know of an existing queue. */
export interface RedriveCandidate {
  readonly name: string;
  readonly config: QueueConfig;
}

/**
 * SQS's rule for a RedrivePolicy, shared by every backend: it must name an existing queue, not
 * the queue itself, of the same type (FIFO or standard), whose RedriveAllowPolicy admits this
 * source. Throws InvalidParameterValue naming `Attributes.RedrivePolicy`.
 */
export function checkRedrivePolicy(
  name: string,
  attributes: Readonly<Record<string, string>>,
  addresses: QueueAddresses,
  find: (name: string) => RedriveCandidate | undefined,
): void {
  const policy = parseConfig(attributes).redrivePolicy;
  if (policy === undefined) return;
  const field = "Attributes.RedrivePolicy";
  const dlqName = addresses.nameFromArn(policy.deadLetterTargetArn);
  const dlq = dlqName === undefined ? undefined : find(dlqName);
  if (dlq === undefined)
    throw invalidParameter(
      field,
      `an existing dead-letter queue, not ${policy.deadLetterTargetArn}`,
    );
  if (dlq.name === name)
    throw invalidParameter(field, "a dead-letter queue other than the queue itself");
  if (dlq.config.fifo !== isFifoName(name))
    throw invalidParameter(
      field,
      `a ${isFifoName(name) ? "FIFO" : "standard"} dead-letter queue, like its source`,
    );
  const allow = dlq.config.redriveAllowPolicy;
  const sourceArn = addresses.arn(name);
  if (
    allow !== undefined &&
    (allow.redrivePermission === "denyAll" ||
      (allow.redrivePermission === "byQueue" && !allow.sourceQueueArns.includes(sourceArn)))
  )
    throw invalidParameter(
      field,
      `a dead-letter queue whose RedriveAllowPolicy admits ${sourceArn}`,
    );
}
