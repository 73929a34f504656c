import { matchesLeaf } from "./leaf-matcher.js";
import type { FieldCondition, Pattern, Scalar } from "./pattern.js";

/**
 * The plain, obviously correct matcher: walks the event once per condition. The shared index
 * (`PatternIndex`) must agree with it on every pattern and event; the property tests check that.
 */
export function matchesPatternReference(pattern: Pattern, event: unknown): boolean {
  return (
    pattern.conditions.every((condition) => conditionHolds(condition, event)) &&
    pattern.anyOf.every((group) => group.some((alt) => matchesPatternReference(alt, event)))
  );
}

function conditionHolds(condition: FieldCondition, event: unknown): boolean {
  const values = valuesAt(event, condition.path);
  return condition.matchers.some((matcher) =>
    matcher.kind === "exists"
      ? matcher.value === values.length > 0
      : values.some((value) => matchesLeaf(matcher, value)),
  );
}

/** Every leaf value at `path`, looking through arrays at any depth. */
export function valuesAt(event: unknown, path: readonly string[]): Scalar[] {
  const found: Scalar[] = [];
  const visit = (node: unknown, depth: number): void => {
    if (Array.isArray(node)) {
      for (const element of node) visit(element, depth);
    } else if (depth === path.length) {
      if (node === null || typeof node !== "object") found.push(node as Scalar);
    } else if (node !== null && typeof node === "object") {
      const key = path[depth]!;
      if (Object.hasOwn(node, key)) visit((node as Record<string, unknown>)[key], depth + 1);
    }
  };
  visit(event, 0);
  return found;
}
