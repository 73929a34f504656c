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

/** SNS's limits: at most 5 keys, 150 combinations of values, 256 KB of JSON. */
export const MAX_FILTER_POLICY_KEYS = 5;
export const MAX_FILTER_POLICY_COMBINATIONS = 150;
export const MAX_FILTER_POLICY_CHARS = 256 * 1024;

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
 */
export function parseFilterPolicy(policy: unknown, scope: FilterPolicyScope): Pattern {
  const pattern = parsePattern(policy, DIALECTS[scope]);
  const alternatives = disjunctsOf(pattern, Number.MAX_SAFE_INTEGER) ?? [];
  const keys = new Set<string>();
  let combinations = 0;
  for (const conditions of alternatives) {
    let product = 1;
    for (const condition of conditions) {
      keys.add(condition.path.join("."));
      product *= condition.matchers.length;
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
  for (const [name, attribute] of Object.entries(attributes)) {
    const type = attribute.DataType.split(".")[0];
    const text = attribute.StringValue;
    if (text === undefined) continue;
    if (type === "Number") setOwnEntry(out, name, Number(text));
    else if (attribute.DataType === "String.Array") {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = text;
      }
      setOwnEntry(out, name, value);
    } else if (type === "String") setOwnEntry(out, name, text);
  }
  return out;
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
