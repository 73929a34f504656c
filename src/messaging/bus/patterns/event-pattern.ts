import type { Pattern } from "./pattern.js";
import { type PatternDialect, parsePattern } from "./pattern-parser.js";
import { matchesPatternReference } from "./reference-matcher.js";

/** EventBridge's limit on the characters of one event pattern. */
export const MAX_EVENT_PATTERN_CHARS = 2048;

/** EventBridge's event pattern language. */
export const EVENT_PATTERN_DIALECT: PatternDialect = {
  language: "EventPattern",
  operators: new Set([
    "prefix",
    "suffix",
    "equals-ignore-case",
    "wildcard",
    "anything-but",
    "numeric",
    "cidr",
    "exists",
  ]),
  anythingButOperators: new Set(["prefix", "suffix", "wildcard", "equals-ignore-case"]),
  caseInsensitiveAffixes: true,
  numericMin: -5e9,
  numericMax: 5e9,
  nested: true,
  maxChars: MAX_EVENT_PATTERN_CHARS,
  maxAlternatives: 1000,
  allowEmpty: false,
};

/** Parses an EventBridge event pattern (JSON text or object); throws PatternError naming the path. */
export function parseEventPattern(pattern: unknown): Pattern {
  return parsePattern(pattern, EVENT_PATTERN_DIALECT);
}

/** EventBridge's TestEventPattern: whether `event` (JSON text or object) matches `pattern`. */
export function testEventPattern(pattern: unknown, event: unknown): boolean {
  const parsed = parseEventPattern(pattern);
  return matchesPatternReference(parsed, typeof event === "string" ? JSON.parse(event) : event);
}
