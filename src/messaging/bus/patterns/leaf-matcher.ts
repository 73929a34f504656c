import { inCidr } from "./ip-address.js";
import type { LeafMatcher, Scalar } from "./pattern.js";

/**
 * Whether one leaf value of an event satisfies one operator. String operators (prefix, suffix,
 * equals-ignore-case, wildcard, cidr and their anything-but forms) only ever match strings,
 * numeric only numbers; exact and plain anything-but compare any JSON value.
 */
export function matchesLeaf(matcher: LeafMatcher, value: Scalar): boolean {
  switch (matcher.kind) {
    case "exact":
      return value === matcher.value;
    case "exists":
      return matcher.value;
    case "anything-but":
      return !matcher.values.includes(value);
    case "numeric":
      return typeof value === "number" && inRange(matcher, value);
    default:
      return typeof value === "string" && matchesString(matcher, value);
  }
}

function inRange(matcher: Extract<LeafMatcher, { kind: "numeric" }>, value: number): boolean {
  const { lower, upper } = matcher;
  if (lower !== undefined && (lower.inclusive ? value < lower.value : value <= lower.value))
    return false;
  if (upper !== undefined && (upper.inclusive ? value > upper.value : value >= upper.value))
    return false;
  return true;
}

function matchesString(matcher: LeafMatcher, value: string): boolean {
  switch (matcher.kind) {
    case "prefix":
      return matcher.ignoreCase
        ? value.toLowerCase().startsWith(matcher.value)
        : value.startsWith(matcher.value);
    case "suffix":
      return matcher.ignoreCase
        ? value.toLowerCase().endsWith(matcher.value)
        : value.endsWith(matcher.value);
    case "equals-ignore-case":
      return value.toLowerCase() === matcher.value;
    case "wildcard":
      return matcher.regex.test(value);
    case "anything-but-ignore-case":
      return !matcher.values.includes(value.toLowerCase());
    case "anything-but-prefix":
      return !value.startsWith(matcher.value);
    case "anything-but-suffix":
      return !value.endsWith(matcher.value);
    case "anything-but-wildcard":
      return !matcher.regexes.some((regex) => regex.test(value));
    case "cidr":
      return inCidr(matcher.network, value);
    default:
      return false;
  }
}
