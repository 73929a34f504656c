import {
  type Pattern,
  type PatternDialect,
  PatternError,
  disjunctsOf,
  parsePattern,
} from "../bus/patterns/index.js";
import type { PubSubMessageAttributes } from "./pubsub-service.js";
import { setOwnEntry } from "../own-entry.js";

/** Where a filter policy looks: the message's attributes (default) or its JSON body. */
export type FilterPolicyScope = "MessageAttributes" | "MessageBody";

/** SNS's limits: at most 5 keys, 150 combinations of values, 256 KB of JSON (UTF-8 bytes). */
export const MAX_FILTER_POLICY_KEYS = 5;
export const MAX_FILTER_POLICY_COMBINATIONS = 150;
export const MAX_FILTER_POLICY_BYTES = 256 * 1024;
/** A policy of at most MAX_FILTER_POLICY_BYTES has at most as many characters. */
export const MAX_FILTER_POLICY_CHARS = MAX_FILTER_POLICY_BYTES;

const base = {
  language: "FilterPolicy",
  operators: new Set([
    "prefix",
    "suffix",
    "equals-ignore-case",
    "anything-but",
    "numeric",
    "cidr",
    "exists",
  ]),
  anythingButOperators: new Set(["prefix", "suffix"]),
  caseInsensitiveAffixes: false,
  numericMin: -1e9,
  numericMax: 1e9,
  maxChars: MAX_FILTER_POLICY_CHARS,
  maxAlternatives: MAX_FILTER_POLICY_COMBINATIONS,
  allowEmpty: true,
} as const satisfies Omit<PatternDialect, "nested">;

const DIALECTS: Record<FilterPolicyScope, PatternDialect> = {
  MessageAttributes: { ...base, nested: false },
  MessageBody: { ...base, nested: true },
};

/**
 * Parses an SNS filter policy for `scope` and checks SNS's limits; throws PatternError
 * ("Invalid parameter: FilterPolicy: ...") naming the path.
 *
 * The limits are counted as SNS documents them: the size in UTF-8 bytes; the keys at the top
 * level (a nested policy's parent keys, those inside `$or` too); and the combinations as the
 * sum, over the alternatives `$or` makes, of the product of each key's number of values times
 * its nesting depth (`{"a":{"b":["x","y"]}}` is 2 x 2 = 4).
 */
export function parseFilterPolicy(policy: unknown, scope: FilterPolicyScope): Pattern {
  let text: string | undefined;
  try {
    text = typeof policy === "string" ? policy : JSON.stringify(policy);
  } catch {
    // parsePattern says what is wrong with it
  }
  const bytes = text === undefined ? 0 : Buffer.byteLength(text, "utf8");
  if (bytes > MAX_FILTER_POLICY_BYTES)
    throw new PatternError(
      "FilterPolicy",
      "",
      `Filter policy is too large: ${bytes} bytes, the limit is ${MAX_FILTER_POLICY_BYTES} (256 KB)`,
    );
  const pattern = parsePattern(policy, DIALECTS[scope]);
  const alternatives = disjunctsOf(pattern, Number.MAX_SAFE_INTEGER) ?? [];
  const keys = new Set<string>();
  let combinations = 0;
  for (const conditions of alternatives) {
    let product = 1;
    for (const condition of conditions) {
      keys.add(condition.path[0]!);
      product *= condition.path.length * condition.matchers.length;
    }
    combinations += product;
  }
  if (keys.size > MAX_FILTER_POLICY_KEYS)
    throw new PatternError(
      "FilterPolicy",
      "",
      `Filter policy can not have more than ${MAX_FILTER_POLICY_KEYS} keys (it has ${keys.size})`,
    );
  if (combinations > MAX_FILTER_POLICY_COMBINATIONS)
    throw new PatternError(
      "FilterPolicy",
      "",
      `Filter policy is too complex: ${combinations} combinations of values, the limit is ${MAX_FILTER_POLICY_COMBINATIONS}`,
    );
  return pattern;
}

/**
 * The attributes as a filter policy sees them: String as a string, Number as a number,
 * String.Array as its parsed JSON array; Binary attributes are not matched (as in SNS).
 */
export function attributesForFiltering(
  attributes: PubSubMessageAttributes,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(attributes)) {
    const attribute = attributes[name]!;
    const text = attribute.StringValue;
    if (text === undefined) continue;
    const dataType = attribute.DataType;
    if (hasBaseType(dataType, "Number")) setOwnEntry(out, name, Number(text));
    else if (dataType === "String.Array") {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = text;
      }
      setOwnEntry(out, name, value);
    } else if (hasBaseType(dataType, "String")) setOwnEntry(out, name, text);
  }
  return out;
}

/**
 * Whether `dataType` is `base` or `base` with a custom suffix ("Number.float"), as its part
 * before the first dot; without splitting it, as every published message is matched.
 */
function hasBaseType(dataType: string, base: string): boolean {
  return (
    dataType.startsWith(base) &&
    (dataType.length === base.length || dataType.charCodeAt(base.length) === 0x2e) // "."
  );
}

/** The body as a filter policy with scope MessageBody sees it: parsed JSON, or nothing. */
export function bodyForFiltering(message: string): unknown {
  try {
    const parsed: unknown = JSON.parse(message);
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
      ? parsed
      : undefined;
  } catch {
    return undefined;
  }
}
