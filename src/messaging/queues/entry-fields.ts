/**
 * Names of the fields of batch entries ("Entries[3].MessageBody"), made once per entry index
 * and kept: validation names every field it checks, and building those strings for each entry
 * of each call, only for the rare error, was a large share of a send's garbage.
 */
export interface EntryFields {
  /** "Entries[i]." (or "" outside a batch). */
  readonly at: string;
  readonly messageBody: string;
  readonly messageAttributes: string;
  readonly messageSystemAttributes: string;
  readonly delaySeconds: string;
  readonly messageGroupId: string;
  readonly messageDeduplicationId: string;
  readonly receiptHandle: string;
  readonly visibilityTimeout: string;
}

function fieldsAt(at: string): EntryFields {
  return {
    at,
    messageBody: `${at}MessageBody`,
    messageAttributes: `${at}MessageAttributes`,
    messageSystemAttributes: `${at}MessageSystemAttributes`,
    delaySeconds: `${at}DelaySeconds`,
    messageGroupId: `${at}MessageGroupId`,
    messageDeduplicationId: `${at}MessageDeduplicationId`,
    receiptHandle: `${at}ReceiptHandle`,
    visibilityTimeout: `${at}VisibilityTimeout`,
  };
}

/** The fields of a request that is not a batch. */
export const REQUEST_FIELDS = fieldsAt("");

/** Entries kept: well past SQS's 10 a batch, for bulk sends of many. */
const KEPT_ENTRIES = 1024;
const entries: EntryFields[] = [];

/** The field names of entry `index` of a batch. */
export function entryFields(index: number): EntryFields {
  if (index >= KEPT_ENTRIES) return fieldsAt(`Entries[${index}].`);
  return (entries[index] ??= fieldsAt(`Entries[${index}].`));
}
