import { wildcardShape } from "./wildcard-table.js";
import type { Disjunct, FieldCondition, LeafMatcher } from "./pattern.js";

/**
 * The text two conditions share exactly when they hold for the same events: the path and the
 * set of operators (order and repeats aside). Equal keys share one step of the automaton.
 */
export function conditionKey(condition: FieldCondition): string {
  const operators = [...new Set(condition.matchers.map(matcherKey))].sort();
  // JSON of the parts, so that no field name can make two different conditions look alike.
  return JSON.stringify([condition.path, operators]);
}

function matcherKey(matcher: LeafMatcher): string {
  switch (matcher.kind) {
    case "exact":
      // Typed: the string "5" and the number 5 get different keys.
      return `exact:${JSON.stringify(matcher.value)}`;
    case "prefix":
    case "suffix":
      return `${matcher.kind}:${matcher.ignoreCase ? "i" : "c"}:${matcher.value}`;
    case "equals-ignore-case":
    case "wildcard":
    case "anything-but-prefix":
    case "anything-but-suffix":
      return `${matcher.kind}:${matcher.value}`;
    case "anything-but":
    case "anything-but-ignore-case":
    case "anything-but-wildcard":
      return `${matcher.kind}:${JSON.stringify(matcher.values)}`;
    case "numeric":
      return `numeric:${JSON.stringify([matcher.lower, matcher.upper])}`;
    case "cidr": {
      const { family, base, prefixBits } = matcher.network;
      return `cidr:${family}:${base.toString(16)}/${prefixBits}`;
    }
    case "exists":
      return `exists:${matcher.value}`;
  }
}

/**
 * How many events an operator is likely to let through: 0 for one value or a literal end
 * (exact, prefix, suffix, equals-ignore-case, cidr, a wildcard with a literal end), 1 for
 * numeric ranges and `exists: true`, 2 for complements (the anything-but forms,
 * `exists: false`) and wildcards with no literal end. A condition is as broad as its broadest
 * operator.
 */
function breadth(matcher: LeafMatcher): number {
  switch (matcher.kind) {
    case "numeric":
      return 1;
    case "exists":
      return matcher.value ? 1 : 2;
    case "wildcard": {
      const { head, tail, stars } = wildcardShape(matcher.value);
      return stars > 0 && head === "" && tail === "" ? 2 : 0;
    }
    case "anything-but":
    case "anything-but-ignore-case":
    case "anything-but-prefix":
    case "anything-but-suffix":
    case "anything-but-wildcard":
      return 2;
    default:
      return 0;
  }
}

/** A condition of an alternative with its key and its breadth (see `breadth`). */
export interface KeyedCondition {
  readonly condition: FieldCondition;
  readonly key: string;
  readonly breadth: number;
}

/** The conditions of one alternative, repeats dropped. */
export function distinctConditions(alternative: Disjunct): KeyedCondition[] {
  const byKey = new Map<string, KeyedCondition>();
  for (const condition of alternative) {
    const key = conditionKey(condition);
    if (!byKey.has(key))
      byKey.set(key, { condition, key, breadth: Math.max(0, ...condition.matchers.map(breadth)) });
  }
  return [...byKey.values()];
}

/**
 * Sorts the conditions of one alternative into the order the automaton steps through them:
 * narrow conditions first (an alternative whose first condition fails costs one lookup, and
 * broad ones are looked at only for events that passed the narrow ones); among equally narrow
 * ones, those more alternatives share (`sharedBy`, by key) first, so that alternatives share
 * the states of their common beginning; then by key, so that equal sets of conditions give
 * equal sequences.
 */
export function sortForSharing(
  conditions: KeyedCondition[],
  sharedBy: ReadonlyMap<string, number>,
): KeyedCondition[] {
  return conditions.sort(
    (a, b) =>
      a.breadth - b.breadth ||
      (sharedBy.get(b.key) ?? 0) - (sharedBy.get(a.key) ?? 0) ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
}
