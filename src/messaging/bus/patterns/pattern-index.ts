import { type KeyedCondition, distinctConditions, sortForSharing } from "./condition-order.js";
import type { StateSink } from "./field-machine.js";
import { JsonWalk } from "./json-walk.js";
import { MatchState } from "./match-state.js";
import { PathNode } from "./path-node.js";
import { type Pattern, type Scalar, disjunctsOf } from "./pattern.js";

/**
 * One run of the automaton over the values a walk recorded: the states reached and the patterns
 * matched so far. Stamps (the number of the current match) stand in for clearing arrays.
 */
class AutomatonRun<Id> implements StateSink {
  private readonly stateEpoch: Uint32Array;
  private readonly ownerEpoch: Uint32Array;
  /** States reached but not yet stepped from; each state enters at most once per match. */
  private readonly pending: Int32Array;
  /** 1 for the states with no transitions (they end alternatives and lead nowhere). */
  private readonly final: Uint8Array;
  /** Per state, the ids of the patterns that end there. */
  private readonly endIds: Id[][];
  /** 1 for the states where a pattern with several alternatives ends (it must be stamped). */
  private readonly endsShared: Uint8Array;
  private top = 0;
  epoch = 0;
  /** The patterns matched so far, in `matched[0 .. count)` (a reused list). */
  private readonly matched: Id[] = [];
  private count = 0;

  constructor(
    private readonly states: readonly MatchState[],
    private readonly owners: readonly Id[],
    /** 1 for the patterns with several alternatives: only they can be reached twice. */
    private readonly shared: Uint8Array = new Uint8Array(owners.length),
  ) {
    this.stateEpoch = new Uint32Array(states.length);
    this.ownerEpoch = new Uint32Array(owners.length);
    this.pending = new Int32Array(states.length);
    this.final = new Uint8Array(states.length);
    for (const state of states) if (state.paths.length === 0) this.final[state.id] = 1;
    this.endIds = states.map((state) => state.owners.map((owner) => owners[owner]!));
    this.endsShared = new Uint8Array(states.length);
    for (const state of states)
      if (state.owners.some((owner) => shared[owner] === 1)) this.endsShared[state.id] = 1;
  }

  /** Starts a new match; false when the stamps wrapped and the caller must reset its own. */
  begin(): boolean {
    let wrapped = false;
    if (this.epoch >= 0xfffffff0) {
      this.epoch = 0;
      this.stateEpoch.fill(0);
      this.ownerEpoch.fill(0);
      wrapped = true;
    }
    this.epoch++;
    this.count = 0;
    return !wrapped;
  }

  reachAll(states: readonly number[]): void {
    this.reachFirst(states, states.length);
  }

  reachFirst(states: readonly number[], count: number): void {
    const epoch = this.epoch;
    const stateEpoch = this.stateEpoch;
    const pending = this.pending;
    const final = this.final;
    for (let i = 0; i < count; i++) {
      const state = states[i]!;
      if (stateEpoch[state] === epoch) continue;
      stateEpoch[state] = epoch;
      // A state with no transitions only reports its patterns: no need to queue it.
      if (final[state] === 1) this.report(state);
      else pending[this.top++] = state;
    }
  }

  /** Adds the patterns that end at `state` to the matches. */
  private report(state: number): void {
    if (this.endsShared[state] === 1) return this.reportStamped(this.states[state]!.owners);
    // Each of these patterns has one alternative, which ends here: reached once a match.
    const ids = this.endIds[state]!;
    const matched = this.matched;
    let count = this.count;
    for (let i = 0; i < ids.length; i++) matched[count++] = ids[i]!;
    this.count = count;
  }

  private reportStamped(owners: readonly number[]): void {
    const epoch = this.epoch;
    const ownerEpoch = this.ownerEpoch;
    const shared = this.shared;
    for (let i = 0; i < owners.length; i++) {
      const owner = owners[i]!;
      if (shared[owner] === 1) {
        if (ownerEpoch[owner] === epoch) continue;
        ownerEpoch[owner] = epoch;
      }
      this.matched[this.count++] = this.owners[owner]!;
    }
  }

  /**
   * Steps from the start state through every state the recorded values lead to. A transition
   * on a path with no recorded value takes only its `exists: false` operators.
   */
  run(): Id[] {
    const epoch = this.epoch;
    const states = this.states;
    const pending = this.pending;
    this.stateEpoch[0] = epoch;
    pending[0] = 0;
    this.top = 1;
    while (this.top > 0) {
      const id = pending[--this.top]!;
      const state = states[id]!;
      if (state.owners.length > 0) this.report(id);
      const paths = state.paths;
      const fields = state.fields;
      for (let i = 0; i < paths.length; i++) {
        const path = paths[i]!;
        const field = fields[i]!;
        if (path.seen === epoch) {
          const values = path.values;
          for (let v = 0; v < path.valueCount; v++) field.match(values[v]!, this);
        } else if (field.existsFalse.length > 0) this.reachAll(field.existsFalse);
      }
    }
    return this.matched.slice(0, this.count);
  }
}

/**
 * Matches an event against many patterns at once with one shared automaton, in the manner of
 * aws/event-ruler and quamina. Each pattern alternative (`$or` multiplied out) is a sequence of
 * conditions, narrow ones first (see `sortForSharing`); alternatives that begin alike share the states of their
 * beginning (`MatchState`), and the transitions out of a state on one path are compiled into one
 * `FieldMachine`. A match first walks the event along the tree of paths the patterns mention,
 * recording the leaf values at those paths (fields no pattern names are never visited), then
 * steps from the start state through the states those values lead to. The cost follows the
 * event's values and the states they reach, not the number of patterns: a condition shared by
 * a hundred patterns is one step, and the later conditions of an alternative whose earlier
 * ones failed are never looked at.
 */
export class PatternIndex<Id> {
  private readonly patterns = new Map<Id, Pattern>();
  private dirty = true;
  private root = new PathNode();
  private states: MatchState[] = [new MatchState(0)];
  private readonly walk = new JsonWalk();
  private run = new AutomatonRun<Id>(this.states, []);

  /** Most alternatives one pattern may multiply out to (parsers enforce a lower limit). */
  constructor(private readonly maxAlternativesPerPattern = 10_000) {}

  get size(): number {
    return this.patterns.size;
  }

  /** How many states the automaton has (the start state included); for tests and diagnostics. */
  get stateCount(): number {
    if (this.dirty) this.rebuild();
    return this.states.length;
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
    this.visit(event, this.root, run.epoch);
    return run.run();
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
      this.walk.walk(text, this.root, run.epoch);
    } catch (error) {
      JSON.parse(text); // for text that is not JSON, JSON.parse's own message
      throw error;
    }
    return run.run();
  }

  private begin(): AutomatonRun<Id> {
    if (this.dirty) this.rebuild();
    const run = this.run;
    if (!run.begin()) this.root.resetSeen();
    return run;
  }

  /** Records the leaf values of `node` at the indexed paths below `at`. */
  private visit(node: unknown, at: PathNode, epoch: number): void {
    if (typeof node === "object" && node !== null) {
      if (Array.isArray(node)) {
        for (let i = 0; i < node.length; i++) this.visit(node[i], at, epoch);
        return;
      }
      const object = node as Record<string, unknown>;
      const keys = at.childKeys;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const child = object[key];
        if (child !== undefined && (!at.childInherited[i] || Object.hasOwn(object, key)))
          this.visit(child, at.childNodes[i]!, epoch);
      }
      return;
    }
    if (at.indexed) at.record(node as Scalar, epoch);
  }

  private rebuild(): void {
    this.root = new PathNode();
    const start = new MatchState(0);
    const states = [start];
    const owners: Id[] = [];
    const alternatives: { owner: number; conditions: KeyedCondition[] }[] = [];
    const sharedBy = new Map<string, number>();
    for (const [id, pattern] of this.patterns) {
      const owner = owners.length;
      owners.push(id);
      // A pattern past the limit has no alternatives: it never matches.
      for (const alternative of disjunctsOf(pattern, this.maxAlternativesPerPattern) ?? []) {
        const conditions = distinctConditions(alternative);
        for (const { key } of conditions) sharedBy.set(key, (sharedBy.get(key) ?? 0) + 1);
        alternatives.push({ owner, conditions });
      }
    }
    for (const { owner, conditions } of alternatives) {
      let state = start;
      for (const { condition, key } of sortForSharing(conditions, sharedBy)) {
        let next = state.next.get(key);
        if (next === undefined) {
          next = new MatchState(states.length);
          states.push(next);
          state.next.set(key, next);
          const path = this.nodeFor(condition.path);
          path.indexed = true;
          const field = state.fieldFor(path);
          for (const matcher of condition.matchers) field.add(matcher, next.id);
        }
        state = next;
      }
      state.addOwner(owner);
    }
    this.root.freeze();
    for (const state of states) for (const field of state.fields) field.compile();
    this.states = states;
    const shared = new Uint8Array(owners.length);
    const seen = new Uint8Array(owners.length);
    for (const { owner } of alternatives) {
      if (seen[owner] === 1) shared[owner] = 1;
      seen[owner] = 1;
    }
    this.run = new AutomatonRun(states, owners, shared);
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
