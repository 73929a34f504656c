import { matchesLeaf } from "./leaf-matcher.js";
import { type LeafMatcher, type Pattern, type Scalar, disjunctsOf } from "./pattern.js";

/** Conditions of one field, sorted by how they can be looked up. */
class FieldIndex {
  /** Exact values (Map keys compare by type and value: "5" and 5 differ, as in JSON). */
  readonly exact = new Map<Scalar, number[]>();
  readonly ignoreCase = new Map<string, number[]>();
  readonly prefixes = new AffixTable(false);
  readonly suffixes = new AffixTable(true);
  readonly prefixesIgnoreCase = new AffixTable(false);
  readonly suffixesIgnoreCase = new AffixTable(true);
  /** Operators checked one by one (numeric, wildcard, cidr, anything-but). */
  readonly scanned: { matcher: LeafMatcher; condition: number }[] = [];
  readonly existsTrue: number[] = [];
  readonly existsFalse: number[] = [];
  needsLowerCase = false;
}

/** Prefixes (or suffixes) grouped by length, so a lookup costs one probe per distinct length. */
class AffixTable {
  private readonly byLength = new Map<number, Map<string, number[]>>();
  private lengths: number[] = [];

  constructor(private readonly fromEnd: boolean) {}

  add(affix: string, condition: number): void {
    let table = this.byLength.get(affix.length);
    if (table === undefined) {
      table = new Map();
      this.byLength.set(affix.length, table);
      this.lengths = [...this.byLength.keys()].sort((a, b) => a - b);
    }
    push(table, affix, condition);
  }

  get isEmpty(): boolean {
    return this.lengths.length === 0;
  }

  lookup(value: string, hit: (conditions: number[]) => void): void {
    for (const length of this.lengths) {
      if (length > value.length) return;
      const part = this.fromEnd ? value.slice(value.length - length) : value.slice(0, length);
      const found = this.byLength.get(length)!.get(part);
      if (found !== undefined) hit(found);
    }
  }
}

/** A node of the tree of field paths the patterns mention. */
class PathNode {
  readonly children = new Map<string, PathNode>();
  field: FieldIndex | undefined;
  seen = 0;
}

function push<K>(map: Map<K, number[]>, key: K, value: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/**
 * Matches an event against many patterns at once. All patterns share one tree of field paths;
 * each field holds hash tables of exact values, prefix and suffix tables and a short list of
 * range-like operators. Matching walks only the parts of the event some pattern mentions, looks
 * each leaf value up once, and counts satisfied conditions per pattern alternative, so its cost
 * follows the event's size and the matches found, not the number of patterns.
 */
export class PatternIndex<Id> {
  private readonly patterns = new Map<Id, Pattern>();
  private dirty = true;
  private root = new PathNode();
  /** Per condition: its alternative. Per alternative: conditions needed and owner. */
  private conditionAlternative = new Int32Array(0);
  private alternativeNeeds = new Int32Array(0);
  private alternativeOwner: Id[] = [];
  private alwaysMatching: Id[] = [];
  private absentFields: PathNode[] = [];
  private conditionEpoch = new Uint32Array(0);
  private alternativeEpoch = new Uint32Array(0);
  private alternativeCount = new Int32Array(0);
  private epoch = 0;

  /** Most alternatives one pattern may multiply out to (parsers enforce a lower limit). */
  constructor(private readonly maxAlternativesPerPattern = 10_000) {}

  get size(): number {
    return this.patterns.size;
  }

  /** Adds or replaces the pattern of `id`. */
  set(id: Id, pattern: Pattern): void {
    this.patterns.set(id, pattern);
    this.dirty = true;
  }

  delete(id: Id): boolean {
    const had = this.patterns.delete(id);
    if (had) this.dirty = true;
    return had;
  }

  /** The ids whose pattern matches `event` (each once, in no particular order). */
  match(event: unknown): Id[] {
    if (this.dirty) this.rebuild();
    const epoch = ++this.epoch;
    if (epoch === 0xffffffff) this.resetEpochs();
    const matched: Id[] = [...this.alwaysMatching];
    const owners = new Set<Id>();
    const satisfy = (conditions: readonly number[]): void => {
      for (const condition of conditions) {
        if (this.conditionEpoch[condition] === this.epoch) continue;
        this.conditionEpoch[condition] = this.epoch;
        const alternative = this.conditionAlternative[condition]!;
        if (this.alternativeEpoch[alternative] !== this.epoch) {
          this.alternativeEpoch[alternative] = this.epoch;
          this.alternativeCount[alternative] = 0;
        }
        if (++this.alternativeCount[alternative]! === this.alternativeNeeds[alternative]) {
          const owner = this.alternativeOwner[alternative]!;
          if (!owners.has(owner)) {
            owners.add(owner);
            matched.push(owner);
          }
        }
      }
    };
    this.visit(event, this.root, satisfy);
    for (const node of this.absentFields)
      if (node.seen !== this.epoch) satisfy(node.field!.existsFalse);
    return matched;
  }

  private visit(node: unknown, at: PathNode, satisfy: (c: readonly number[]) => void): void {
    if (Array.isArray(node)) {
      for (const element of node) this.visit(element, at, satisfy);
      return;
    }
    if (node !== null && typeof node === "object") {
      const object = node as Record<string, unknown>;
      for (const [key, child] of at.children) {
        if (Object.hasOwn(object, key)) this.visit(object[key], child, satisfy);
      }
      return;
    }
    const field = at.field;
    if (field === undefined) return;
    at.seen = this.epoch;
    this.matchLeaf(field, node as Scalar, satisfy);
  }

  private matchLeaf(
    field: FieldIndex,
    value: Scalar,
    satisfy: (c: readonly number[]) => void,
  ): void {
    if (field.existsTrue.length > 0) satisfy(field.existsTrue);
    const exact = field.exact.get(value);
    if (exact !== undefined) satisfy(exact);
    if (typeof value === "string") {
      field.prefixes.lookup(value, satisfy);
      field.suffixes.lookup(value, satisfy);
      if (field.needsLowerCase) {
        const lower = value.toLowerCase();
        const same = field.ignoreCase.get(lower);
        if (same !== undefined) satisfy(same);
        field.prefixesIgnoreCase.lookup(lower, satisfy);
        field.suffixesIgnoreCase.lookup(lower, satisfy);
      }
    }
    for (const { matcher, condition } of field.scanned)
      if (matchesLeaf(matcher, value)) satisfy([condition]);
  }

  private resetEpochs(): void {
    this.epoch = 1;
    this.conditionEpoch.fill(0);
    this.alternativeEpoch.fill(0);
    const reset = (node: PathNode): void => {
      node.seen = 0;
      for (const child of node.children.values()) reset(child);
    };
    reset(this.root);
  }

  private rebuild(): void {
    this.root = new PathNode();
    this.alwaysMatching = [];
    const absent = new Set<PathNode>();
    const conditionAlternative: number[] = [];
    const alternativeNeeds: number[] = [];
    const owners: Id[] = [];
    for (const [id, pattern] of this.patterns) {
      const alternatives = disjunctsOf(pattern, this.maxAlternativesPerPattern) ?? [];
      for (const conditions of alternatives) {
        if (conditions.length === 0) {
          this.alwaysMatching.push(id);
          break;
        }
        const alternative = alternativeNeeds.length;
        alternativeNeeds.push(conditions.length);
        owners.push(id);
        for (const condition of conditions) {
          const index = conditionAlternative.length;
          conditionAlternative.push(alternative);
          const node = this.nodeFor(condition.path);
          const field = (node.field ??= new FieldIndex());
          for (const matcher of condition.matchers) {
            this.addMatcher(field, matcher, index);
            if (matcher.kind === "exists" && !matcher.value) absent.add(node);
          }
        }
      }
    }
    this.alwaysMatching = [...new Set(this.alwaysMatching)];
    this.absentFields = [...absent];
    this.conditionAlternative = Int32Array.from(conditionAlternative);
    this.alternativeNeeds = Int32Array.from(alternativeNeeds);
    this.alternativeOwner = owners;
    this.conditionEpoch = new Uint32Array(conditionAlternative.length);
    this.alternativeEpoch = new Uint32Array(alternativeNeeds.length);
    this.alternativeCount = new Int32Array(alternativeNeeds.length);
    this.epoch = 0;
    this.dirty = false;
  }

  private nodeFor(path: readonly string[]): PathNode {
    let node = this.root;
    for (const key of path) {
      let child = node.children.get(key);
      if (child === undefined) {
        child = new PathNode();
        node.children.set(key, child);
      }
      node = child;
    }
    return node;
  }

  private addMatcher(field: FieldIndex, matcher: LeafMatcher, condition: number): void {
    switch (matcher.kind) {
      case "exact":
        push(field.exact, matcher.value, condition);
        return;
      case "equals-ignore-case":
        field.needsLowerCase = true;
        push(field.ignoreCase, matcher.value, condition);
        return;
      case "prefix":
      case "suffix": {
        if (matcher.ignoreCase) field.needsLowerCase = true;
        const table =
          matcher.kind === "prefix"
            ? matcher.ignoreCase
              ? field.prefixesIgnoreCase
              : field.prefixes
            : matcher.ignoreCase
              ? field.suffixesIgnoreCase
              : field.suffixes;
        table.add(matcher.value, condition);
        return;
      }
      case "exists":
        if (matcher.value) field.existsTrue.push(condition);
        else field.existsFalse.push(condition);
        return;
      default:
        field.scanned.push({ matcher, condition });
    }
  }
}
