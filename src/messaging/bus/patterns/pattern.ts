/**
 * A parsed event pattern (EventBridge) or filter policy (SNS): the one form both languages
 * compile to, so one matcher and one index serve the event bus and pub/sub alike.
 */

/** A JSON leaf value of an event. */
export type Scalar = string | number | boolean | null;

/** An inclusive or exclusive numeric bound. */
export interface NumericBound {
  readonly value: number;
  readonly inclusive: boolean;
}

/** One operator applied to one leaf value of the event. */
export type LeafMatcher =
  | { readonly kind: "exact"; readonly value: Scalar }
  | { readonly kind: "prefix"; readonly value: string; readonly ignoreCase: boolean }
  | { readonly kind: "suffix"; readonly value: string; readonly ignoreCase: boolean }
  | { readonly kind: "equals-ignore-case"; readonly value: string }
  | { readonly kind: "wildcard"; readonly value: string; readonly regex: RegExp }
  | { readonly kind: "anything-but"; readonly values: readonly Scalar[] }
  | { readonly kind: "anything-but-ignore-case"; readonly values: readonly string[] }
  | { readonly kind: "anything-but-prefix"; readonly value: string }
  | { readonly kind: "anything-but-suffix"; readonly value: string }
  | {
      readonly kind: "anything-but-wildcard";
      readonly values: readonly string[];
      readonly regexes: readonly RegExp[];
    }
  | {
      readonly kind: "numeric";
      readonly lower: NumericBound | undefined;
      readonly upper: NumericBound | undefined;
    }
  | { readonly kind: "cidr"; readonly value: string; readonly network: CidrNetwork }
  | { readonly kind: "exists"; readonly value: boolean };

/** A parsed CIDR block. */
export interface CidrNetwork {
  readonly family: 4 | 6;
  /** The network address as an unsigned integer. */
  readonly base: bigint;
  readonly prefixBits: number;
}

/** A field of the event (a path of object keys; arrays are transparent) and what it must hold. */
export interface FieldCondition {
  readonly path: readonly string[];
  /** The condition holds when any matcher holds for any value at the path. */
  readonly matchers: readonly LeafMatcher[];
}

/**
 * Every condition must hold, and in each `$or` group at least one alternative must match.
 * Paths in alternatives are absolute too.
 */
export interface Pattern {
  readonly conditions: readonly FieldCondition[];
  readonly anyOf: readonly (readonly Pattern[])[];
}

/** A pattern with its `$or` groups multiplied out: one list of conditions per alternative. */
export type Disjunct = readonly FieldCondition[];

/** Multiplies out `$or` groups; stops and returns undefined past `limit` alternatives. */
export function disjunctsOf(pattern: Pattern, limit: number): Disjunct[] | undefined {
  let result: FieldCondition[][] = [[...pattern.conditions]];
  for (const group of pattern.anyOf) {
    const alternatives: FieldCondition[][] = [];
    for (const alternative of group) {
      const expanded = disjunctsOf(alternative, limit);
      if (expanded === undefined) return undefined;
      for (const d of expanded) alternatives.push([...d]);
    }
    const next: FieldCondition[][] = [];
    for (const left of result)
      for (const right of alternatives) {
        next.push([...left, ...right]);
        if (next.length > limit) return undefined;
      }
    result = next;
  }
  return result;
}

/** The key a path is indexed under (keys may contain dots, so not a dotted string). */
export function pathKey(path: readonly string[]): string {
  return path.join("\u0000");
}

/** A path as people write it: `detail.state`. */
export function showPath(path: readonly string[]): string {
  return path.join(".");
}
