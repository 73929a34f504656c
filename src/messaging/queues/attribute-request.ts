import { isQueueAttributeName } from "./queue-attributes.js";
import { QueueError, invalidParameter } from "./queue-error.js";
import type { QueueAttributeName } from "./queue-service.js";

export type RequestedAttributeName = QueueAttributeName | "All";
export type AttributeValues = Partial<Record<QueueAttributeName, string>>;

/** `getQueueAttributes`' AttributeNames (all when absent), checked name by name. */
export function requestedAttributeNames(value: unknown): readonly RequestedAttributeName[] {
  const requested = value ?? ["All"];
  if (!Array.isArray(requested))
    throw invalidParameter("AttributeNames", 'an array of attribute names, e.g. ["All"]');
  for (const [i, name] of (requested as unknown[]).entries())
    if (name !== "All" && !isQueueAttributeName(name))
      throw new QueueError(
        "InvalidAttributeName",
        `AttributeNames[${i}]: unknown attribute ${typeof name === "string" ? name : typeof name}`,
        `AttributeNames[${i}]`,
      );
  return requested as RequestedAttributeName[];
}

/** The attributes asked for out of `all` (every one for "All"). */
export function pickAttributes(
  all: AttributeValues,
  requested: readonly RequestedAttributeName[],
): { Attributes: AttributeValues } {
  if (requested.includes("All")) return { Attributes: all };
  const picked: AttributeValues = {};
  for (const name of requested as QueueAttributeName[])
    if (all[name] !== undefined) picked[name] = all[name];
  return { Attributes: picked };
}
