export type {
  CidrNetwork,
  Disjunct,
  FieldCondition,
  LeafMatcher,
  NumericBound,
  Pattern,
  Scalar,
} from "./pattern.js";
export { disjunctsOf } from "./pattern.js";
export { PatternError } from "./pattern-error.js";
export type { PatternLanguage } from "./pattern-error.js";
export { parsePattern } from "./pattern-parser.js";
export type { PatternDialect } from "./pattern-parser.js";
export { PatternIndex } from "./pattern-index.js";
export { JsonWalk } from "./json-walk.js";
export { matchesPatternReference, valuesAt } from "./reference-matcher.js";
export { matchesLeaf } from "./leaf-matcher.js";
export {
  EVENT_PATTERN_DIALECT,
  MAX_EVENT_PATTERN_CHARS,
  parseEventPattern,
  testEventPattern,
} from "./event-pattern.js";
