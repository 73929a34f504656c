import { type ConditionSink, FieldMachine } from "./field-machine.js";
import { JsonWalk } from "./json-walk.js";
import { PathNode } from "./path-node.js";
import { type Pattern, type Scalar, disjunctsOf } from "./pattern.js";

/**
 * The counting half of a match: which conditions, alternatives and patterns one event has
 * satisfied so far. Stamps (the number of the current match) stand in for clearing arrays.
 */
class MatchRun<Id> implements ConditionSink {
  private readonly conditionEpoch: Uint32Array;
  private readonly alternativeEpoch: Uint32Array;
  private readonly alternativeCount: Int32Array;
  private readonly ownerEpoch: Uint32Array;
  epoch = 0;
  matched: Id[] = [];

  constructor(
    /** Per condition: its alternative. Per alternative: conditions needed and owner. */
    private readonly conditionAlternative: Int32Array,
    private readonly alternativeNeeds: Int32Array,
    private readonly alternativeOwner: Int32Array,
    private readonly owners: readonly Id[],
    private readonly alwaysMatching: Int32Array,
  ) {
    this.conditionEpoch = new Uint32Array(conditionAlternative.length);
    this.alternativeEpoch = new Uint32Array(alternativeNeeds.length);
    this.alternativeCount = new Int32Array(alternativeNeeds.length);
    this.ownerEpoch = new Uint32Array(owners.length);
  }

  /** Starts counting for a new event; false when the stamps wrapped and the caller must reset. */
  begin(): boolean {
    let wrapped = false;
    if (this.epoch >= 0xfffffff0) {
      this.epoch = 0;
      this.conditionEpoch.fill(0);
      this.alternativeEpoch.fill(0);
      this.ownerEpoch.fill(0);
      wrapped = true;
    }
    const epoch = ++this.epoch;
    this.matched = [];
    for (let i = 0; i < this.alwaysMatching.length; i++) {
      const owner = this.alwaysMatching[i]!;
      this.ownerEpoch[owner] = epoch;
      this.matched.push(this.owners[owner]!);
    }
    return !wrapped;
  }

  satisfyAll(conditions: readonly number[]): void {
    this.satisfyFirst(conditions, conditions.length);
  }

  /** The hot loop of every match: counts each new condition towards its alternative. */
  satisfyFirst(conditions: readonly number[], count: number): void {
    const epoch = this.epoch;
    const conditionEpoch = this.conditionEpoch;
    const conditionAlternative = this.conditionAlternative;
    const alternativeEpoch = this.alternativeEpoch;
    const alternativeCount = this.alternativeCount;
    const alternativeNeeds = this.alternativeNeeds;
    for (let i = 0; i < count; i++) {
      const condition = conditions[i]!;
      if (conditionEpoch[condition] === epoch) continue;
      conditionEpoch[condition] = epoch;
      const alternative = conditionAlternative[condition]!;
      let satisfied = 1;
      if (alternativeEpoch[alternative] === epoch) satisfied = alternativeCount[alternative]! + 1;
      else alternativeEpoch[alternative] = epoch;
      alternativeCount[alternative] = satisfied;
      if (satisfied === alternativeNeeds[alternative]) {
        const owner = this.alternativeOwner[alternative]!;
        if (this.ownerEpoch[owner] !== epoch) {
          this.ownerEpoch[owner] = epoch;
          this.matched.push(this.owners[owner]!);
        }
      }
    }
  }
}

/**
 * Matches an event against many patterns at once, in the manner of aws/event-ruler and
 * quamina: every pattern compiles into one shared machine, a tree of the field paths the
 * patterns mention whose leaves are `FieldMachine`s holding every operator on that path. A match
 * walks the event along that tree only (fields no pattern mentions are never visited), looks
 * each leaf value up once per kind of operator, and counts the satisfied conditions of each
 * pattern alternative (`$or` is multiplied out); an alternative matches when all its conditions
 * hold. The cost follows the event's size and the matches found, not the number of patterns.
 */
export class PatternIndex<Id> {
  private readonly patterns = new Map<Id, Pattern>();
  private dirty = true;
  private root = new PathNode();
  private absentFields: PathNode[] = [];
  private readonly walk = new JsonWalk();
  private run = new MatchRun<Id>(
    new Int32Array(0),
    new Int32Array(0),
    new Int32Array(0),
    [],
    new Int32Array(0),
  );

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

  /**
   * The ids whose pattern matches `event` (each once, in no particular order). `event` is a JSON
   * value, as `JSON.parse` gives it: a property holding `undefined` counts as absent.
   */
  match(event: unknown): Id[] {
    const run = this.begin();
    this.visit(event, this.root, run);
    return this.finish(run);
  }

  /**
   * The ids whose pattern matches the event written as JSON `text`: the same as
   * `match(JSON.parse(text))` for text without repeated keys in an object (as `JSON.stringify`
   * writes it), but the text is read once and only the values at paths some pattern names are
   * decoded (see `JsonWalk`). Text the walk finds malformed throws JSON.parse's `SyntaxError`;
   * malformations inside values no pattern names may go unnoticed.
   */
  matchJson(text: string): Id[] {
    const run = this.begin();
    try {
      this.walk.walk(text, this.root, run, run.epoch);
    } catch (error) {
      JSON.parse(text); // for text that is not JSON, JSON.parse's own message
      throw error;
    }
    return this.finish(run);
  }

  private begin(): MatchRun<Id> {
    if (this.dirty) this.rebuild();
    const run = this.run;
    if (!run.begin()) this.resetSeen(this.root);
    return run;
  }

  private finish(run: MatchRun<Id>): Id[] {
    const absent = this.absentFields;
    for (let i = 0; i < absent.length; i++) {
      const node = absent[i]!;
      if (node.seen !== run.epoch) run.satisfyAll(node.field!.existsFalse);
    }
    const matched = run.matched;
    run.matched = [];
    return matched;
  }

  private visit(node: unknown, at: PathNode, run: MatchRun<Id>): void {
    if (typeof node === "object" && node !== null) {
      if (Array.isArray(node)) {
        for (let i = 0; i < node.length; i++) this.visit(node[i], at, run);
        return;
      }
      const object = node as Record<string, unknown>;
      const keys = at.childKeys;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const child = object[key];
        if (child !== undefined && (!at.childInherited[i] || Object.hasOwn(object, key)))
          this.visit(child, at.childNodes[i]!, run);
      }
      return;
    }
    const field = at.field;
    if (field === undefined) return;
    at.seen = run.epoch;
    field.match(node as Scalar, run);
  }

  private resetSeen(node: PathNode): void {
    node.seen = 0;
    for (const child of node.childNodes) this.resetSeen(child);
  }

  private rebuild(): void {
    this.root = new PathNode();
    const always = new Set<number>();
    const absent = new Set<PathNode>();
    const conditionAlternative: number[] = [];
    const alternativeNeeds: number[] = [];
    const alternativeOwner: number[] = [];
    const owners: Id[] = [];
    for (const [id, pattern] of this.patterns) {
      const alternatives = disjunctsOf(pattern, this.maxAlternativesPerPattern) ?? [];
      const owner = owners.length;
      owners.push(id);
      for (const conditions of alternatives) {
        if (conditions.length === 0) {
          always.add(owner);
          break;
        }
        const alternative = alternativeNeeds.length;
        alternativeNeeds.push(conditions.length);
        alternativeOwner.push(owner);
        for (const condition of conditions) {
          const index = conditionAlternative.length;
          conditionAlternative.push(alternative);
          const node = this.nodeFor(condition.path);
          const field = (node.field ??= new FieldMachine());
          for (const matcher of condition.matchers) {
            field.add(matcher, index);
            if (matcher.kind === "exists" && !matcher.value) absent.add(node);
          }
        }
      }
    }
    this.root.freeze();
    this.absentFields = [...absent];
    this.run = new MatchRun(
      Int32Array.from(conditionAlternative),
      Int32Array.from(alternativeNeeds),
      Int32Array.from(alternativeOwner),
      owners,
      Int32Array.from(always),
    );
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
}
