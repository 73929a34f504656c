import { AffixTable } from "./affix-table.js";
import { ipKey, networkRange } from "./ip-address.js";
import type { LeafMatcher, Scalar } from "./pattern.js";
import { RangeTable } from "./range-table.js";
import { SampledStringTable } from "./sampled-string-table.js";
import { WildcardTable } from "./wildcard-table.js";

/** Up to how many exact values a field machine of exact values alone compares one by one. */
const MAX_FEW_VALUES = 4;

/** Where a field machine reports the states a value leads to (the ids of `MatchState`s). */
export interface StateSink {
  reachAll(states: readonly number[]): void;
  /** Reaches `states[0 .. count)`. */
  reachFirst(states: readonly number[], count: number): void;
}

/**
 * The transitions of one automaton state on one field path: every operator leading out of the
 * state on that path, each to the state (`target`) its condition leads to, compiled so that
 * one leaf value is looked up once per kind of operator rather than tested once per operator:
 * exact values and
 * equals-ignore-case by hash, prefixes and suffixes by length-grouped hash tables, wildcards by
 * their literal ends, numeric ranges and cidr blocks by binary search over sorted bounds, and the
 * anything-but forms as complements (every such operator holds except those the value's lookups
 * exclude). Complements are kept per operator ("slot"), not per target: a condition with two
 * anything-but operators holds when either does. For plain anything-but (value lists) the
 * complement of each listed value is worked out once, in `compile`, so that a value costs one
 * lookup and no pass over the slots.
 */
export class FieldMachine {
  private readonly exact = new Map<Scalar, number[]>();
  /** From `compile`: the string keys of `exact`; undefined before (strings are looked up there). */
  private exactStrings: SampledStringTable<number[]> | undefined;
  private readonly lowered = new Map<string, number[]>();
  private readonly prefixes = new AffixTable<number>(false);
  private readonly suffixes = new AffixTable<number>(true);
  private readonly loweredPrefixes = new AffixTable<number>(false);
  private readonly loweredSuffixes = new AffixTable<number>(true);
  private readonly wildcards = new WildcardTable();
  private readonly numeric = new RangeTable<number>();
  private readonly ipv4 = new RangeTable<number>();
  private readonly ipv6 = new RangeTable<string>();
  readonly existsTrue: number[] = [];
  readonly existsFalse: number[] = [];
  /** The target of each anything-but slot, and the value that last excluded it. */
  private readonly slotTarget: number[] = [];
  private readonly slotExcluded: number[] = [];
  private round = 0;
  /** Scratch list for wildcard lookups, reused across values. */
  private readonly hits: number[] = [];
  /** anything-but values: hold for any value not listed, whatever its type. */
  private readonly butValues: number[] = [];
  private readonly butValueExclusions = new Map<Scalar, number[]>();
  /**
   * From `compile`: per value some anything-but lists, the targets of the slots it leaves
   * holding, and `butValueAll` for any other value. Undefined before `compile`, after a later
   * `add`, or when it would hold more than `maxPrecomputedTargets` targets in all (then each
   * value excludes its slots one by one).
   */
  private butValueReach: Map<Scalar, number[]> | undefined;
  /** The string keys of `butValueReach` (with it). */
  private butValueStrings: SampledStringTable<number[]> | undefined;
  private butValueAll: number[] = [];
  /** The other anything-but forms: hold for strings only, unless excluded. */
  private readonly butStrings: number[] = [];
  private readonly butLowered = new Map<string, number[]>();
  private readonly butPrefixes = new AffixTable<number>(false);
  private readonly butSuffixes = new AffixTable<number>(true);
  private readonly butWildcards = new WildcardTable();
  private needsLowerCase = false;
  private hasAffixes = false;
  private hasWildcards = false;
  private hasCidr = false;
  private hasButWildcards = false;
  /** From `compile`: whether every operator here is an exact value (the common case, looked up alone). */
  private onlyExact = false;
  /**
   * From `compile`, when every operator is one of a few exact values: those values and their
   * targets, compared one by one (`===` on a string compares its length first, then its
   * characters, where a `Map` lookup hashes all of them first).
   */
  private fewValues: Scalar[] | undefined;
  private fewTargets: number[][] = [];

  constructor(private readonly maxPrecomputedTargets = 65_536) {}

  /** Adds a transition to state `target` taken when a value satisfies `matcher`. */
  add(matcher: LeafMatcher, target: number): void {
    this.butValueReach = undefined;
    this.exactStrings = undefined;
    this.onlyExact = false;
    switch (matcher.kind) {
      case "exact":
        return push(this.exact, matcher.value, target);
      case "equals-ignore-case":
        this.needsLowerCase = true;
        return push(this.lowered, matcher.value, target);
      case "prefix":
      case "suffix": {
        if (matcher.ignoreCase) this.needsLowerCase = true;
        else this.hasAffixes = true;
        const table =
          matcher.kind === "prefix"
            ? matcher.ignoreCase
              ? this.loweredPrefixes
              : this.prefixes
            : matcher.ignoreCase
              ? this.loweredSuffixes
              : this.suffixes;
        return table.add(matcher.value, target);
      }
      case "wildcard":
        this.hasWildcards = true;
        return this.wildcards.add(matcher.value, matcher.regex, target);
      case "numeric":
        return this.numeric.add(matcher.lower, matcher.upper, target);
      case "cidr": {
        this.hasCidr = true;
        const range = networkRange(matcher.network);
        if (range.family === 4)
          this.ipv4.add(
            { value: range.first, inclusive: true },
            { value: range.last, inclusive: true },
            target,
          );
        else
          this.ipv6.add(
            { value: range.first, inclusive: true },
            { value: range.last, inclusive: true },
            target,
          );
        return;
      }
      case "exists":
        (matcher.value ? this.existsTrue : this.existsFalse).push(target);
        return;
      case "anything-but": {
        const slot = this.slot(target);
        this.butValues.push(slot);
        for (const value of new Set(matcher.values)) push(this.butValueExclusions, value, slot);
        return;
      }
      case "anything-but-ignore-case": {
        this.needsLowerCase = true;
        const slot = this.slot(target);
        this.butStrings.push(slot);
        for (const value of new Set(matcher.values)) push(this.butLowered, value, slot);
        return;
      }
      case "anything-but-prefix":
      case "anything-but-suffix": {
        const slot = this.slot(target);
        this.butStrings.push(slot);
        const table = matcher.kind === "anything-but-prefix" ? this.butPrefixes : this.butSuffixes;
        return table.add(matcher.value, slot);
      }
      case "anything-but-wildcard": {
        this.hasButWildcards = true;
        const slot = this.slot(target);
        this.butStrings.push(slot);
        matcher.values.forEach((text, i) => this.butWildcards.add(text, matcher.regexes[i]!, slot));
        return;
      }
    }
  }

  /** Works out the anything-but complements (see `butValueReach`); call after the last `add`. */
  compile(): void {
    this.exactStrings = new SampledStringTable(stringKeyed(this.exact));
    this.onlyExact =
      this.existsTrue.length === 0 &&
      this.butValues.length === 0 &&
      this.butStrings.length === 0 &&
      this.numeric.isEmpty &&
      !this.hasAffixes &&
      !this.needsLowerCase &&
      !this.hasWildcards &&
      !this.hasCidr;
    this.fewValues = undefined;
    if (this.onlyExact && this.exact.size <= MAX_FEW_VALUES) {
      this.fewValues = [...this.exact.keys()];
      this.fewTargets = [...this.exact.values()];
    }
    this.butValueReach = undefined;
    const slots = this.butValues;
    if (slots.length === 0) return;
    const targetsOf = (holding: readonly number[]): number[] => [
      ...new Set(holding.map((slot) => this.slotTarget[slot]!)),
    ];
    this.butValueAll = targetsOf(slots);
    if (this.butValueExclusions.size * slots.length > this.maxPrecomputedTargets) return;
    const reach = new Map<Scalar, number[]>();
    for (const [value, excluded] of this.butValueExclusions) {
      const out = new Set(excluded);
      reach.set(value, targetsOf(slots.filter((slot) => !out.has(slot))));
    }
    this.butValueReach = reach;
    this.butValueStrings = new SampledStringTable(stringKeyed(reach));
  }

  private slot(target: number): number {
    this.slotTarget.push(target);
    this.slotExcluded.push(0);
    return this.slotTarget.length - 1;
  }

  private startExclusions(): number {
    if (++this.round === Number.MAX_SAFE_INTEGER) {
      this.round = 1;
      this.slotExcluded.fill(0);
    }
    return this.round;
  }

  private excludeAll(slots: readonly number[]): void {
    for (let i = 0; i < slots.length; i++) this.slotExcluded[slots[i]!] = this.round;
  }

  /** Reaches the target of every slot of `slots` the current value did not exclude. */
  private reachUnexcluded(slots: readonly number[], sink: StateSink): void {
    const round = this.round;
    const hits = this.hits;
    let count = 0;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (this.slotExcluded[slot] !== round) hits[count++] = this.slotTarget[slot]!;
    }
    sink.reachFirst(hits, count);
  }

  /** Reports to `sink` every state that `value` leads to (some may come more than once). */
  match(value: Scalar, sink: StateSink): void {
    const few = this.fewValues;
    if (few !== undefined) {
      for (let i = 0; i < few.length; i++)
        if (few[i] === value) return sink.reachAll(this.fewTargets[i]!);
      return;
    }
    const isString = typeof value === "string";
    if (this.onlyExact) {
      const exact = isString ? this.exactStrings!.get(value) : this.exact.get(value);
      if (exact !== undefined) sink.reachAll(exact);
      return;
    }
    if (this.existsTrue.length > 0) sink.reachAll(this.existsTrue);
    if (this.exact.size > 0) {
      const strings = this.exactStrings;
      const exact = isString && strings !== undefined ? strings.get(value) : this.exact.get(value);
      if (exact !== undefined) sink.reachAll(exact);
    }
    if (this.butValues.length > 0) {
      const reach = this.butValueReach;
      if (reach !== undefined)
        sink.reachAll(
          (isString ? this.butValueStrings!.get(value) : reach.get(value)) ?? this.butValueAll,
        );
      else {
        this.startExclusions();
        const excluded = this.butValueExclusions.get(value);
        if (excluded !== undefined) this.excludeAll(excluded);
        this.reachUnexcluded(this.butValues, sink);
      }
    }
    if (typeof value === "number") {
      if (!this.numeric.isEmpty) sink.reachAll(this.numeric.lookup(value));
      return;
    }
    if (typeof value !== "string") return;
    if (this.hasAffixes) {
      reachFound(this.prefixes, value, sink);
      reachFound(this.suffixes, value, sink);
    }
    const lower = this.needsLowerCase ? value.toLowerCase() : value;
    if (this.needsLowerCase) {
      if (this.lowered.size > 0) {
        const same = this.lowered.get(lower);
        if (same !== undefined) sink.reachAll(same);
      }
      reachFound(this.loweredPrefixes, lower, sink);
      reachFound(this.loweredSuffixes, lower, sink);
    }
    if (this.hasWildcards) sink.reachFirst(this.hits, this.wildcards.lookup(value, this.hits, 0));
    if (this.hasCidr) {
      const key = ipKey(value);
      if (typeof key === "number") sink.reachAll(this.ipv4.lookup(key));
      else if (key !== undefined) sink.reachAll(this.ipv6.lookup(key));
    }
    if (this.butStrings.length > 0) {
      this.startExclusions();
      const lowered = this.butLowered.get(lower);
      if (lowered !== undefined) this.excludeAll(lowered);
      this.excludeFound(this.butPrefixes, value);
      this.excludeFound(this.butSuffixes, value);
      if (this.hasButWildcards) {
        const hits = this.hits;
        const count = this.butWildcards.lookup(value, hits, 0);
        for (let i = 0; i < count; i++) this.slotExcluded[hits[i]!] = this.round;
      }
      this.reachUnexcluded(this.butStrings, sink);
    }
  }

  private excludeFound(table: AffixTable<number>, value: string): void {
    const count = table.lookup(value);
    for (let i = 0; i < count; i++) this.excludeAll(table.found[i]!);
  }
}

function reachFound(table: AffixTable<number>, value: string, sink: StateSink): void {
  const count = table.lookup(value);
  for (let i = 0; i < count; i++) sink.reachAll(table.found[i]!);
}

/** The entries of `map` whose key is a string. */
function stringKeyed<T>(map: ReadonlyMap<Scalar, T>): [string, T][] {
  return [...map].filter((entry): entry is [string, T] => typeof entry[0] === "string");
}

function push<K>(map: Map<K, number[]>, key: K, value: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
