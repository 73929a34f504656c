import { checkIntParameter } from "./message-validation.js";
import { invalidParameter } from "./queue-error.js";
import { checkRequest, decodeListToken, encodeListToken } from "./request-checks.js";

export type ListQueuesRequest = {
  QueueNamePrefix?: string;
  MaxResults?: number;
  NextToken?: string;
} | null;

/**
 * One `listQueues` page of `names`, as SQS answers it: sorted names with the prefix, after the
 * token's name, at most `MaxResults` (1,000 without), and a `NextToken` only when `MaxResults`
 * was given and more remain.
 */
export function listQueuesPage(
  names: Iterable<string>,
  request: ListQueuesRequest | undefined,
  urlOf: (name: string) => string,
): { QueueUrls: string[]; NextToken?: string } {
  // Every parameter is optional, so no request at all (null from JSON too) lists everything.
  const input = checkRequest(request ?? {});
  const prefix = input.QueueNamePrefix ?? "";
  if (typeof prefix !== "string") throw invalidParameter("QueueNamePrefix", "a string");
  const max =
    input.MaxResults == null ? 1000 : checkIntParameter(input.MaxResults, "MaxResults", 1, 1000);
  const after = input.NextToken == null ? "" : decodeListToken(input.NextToken);
  const matching = [...names].filter((n) => n.startsWith(prefix) && n > after).sort();
  const page = matching.slice(0, max);
  const result: { QueueUrls: string[]; NextToken?: string } = { QueueUrls: page.map(urlOf) };
  if (input.MaxResults !== undefined && matching.length > max)
    result.NextToken = encodeListToken(page[page.length - 1]!);
  return result;
}
