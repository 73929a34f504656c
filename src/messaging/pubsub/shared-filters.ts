import { type Pattern, PatternIndex } from "../bus/patterns/index.js";
import type { FilterPolicyScope } from "./filter-policy.js";

/** What one message matched, for one generation of a topic's filter policies. */
export interface FilterVerdicts {
  readonly generation: number;
  /** Subscriptions whose attribute-scoped policy the message matched. */
  readonly byAttributes: ReadonlySet<string>;
  /**
   * Subscriptions whose body-scoped policy matched, by the body looked at: "" for the message's
   * body, else the entry of a structured message (made and filled in as subscriptions ask, so
   * a topic without body-scoped policies allocates nothing per message).
   */
  byBody: Map<string, ReadonlySet<string>> | undefined;
}

/** A message as filters see it: its views, and a place to keep the verdicts. */
export interface Filterable {
  readonly attributesForFiltering: unknown;
  readonly bodyForFiltering: unknown;
  /** The body of one entry of a structured message, as JSON (MessageStructure json only). */
  entryForFiltering?(entry: string): unknown;
  verdicts: FilterVerdicts | undefined;
}

const NONE: ReadonlySet<string> = new Set();

/**
 * The filter policies of every subscription of one topic, compiled into one shared machine
 * per scope. A message is matched once against all of them (the first subscription to look
 * pays, the others read the cached verdicts), however many subscriptions filter it.
 */
export class SharedFilters {
  private readonly attributes = new PatternIndex<string>();
  private readonly body = new PatternIndex<string>();
  private generation = 0;
  /** The set of verdicts made last, and for which index (see matchAll). */
  private lastMatched: { index: PatternIndex<string>; set: ReadonlySet<string> } | undefined;

  set(subscription: string, pattern: Pattern, scope: FilterPolicyScope): void {
    this.delete(subscription);
    (scope === "MessageBody" ? this.body : this.attributes).set(subscription, pattern);
    this.generation++;
  }

  delete(subscription: string): void {
    if (this.attributes.delete(subscription) || this.body.delete(subscription)) this.generation++;
  }

  /**
   * Whether `message` passes the policy of `subscription` (which must have one in `scope`); a
   * body-scoped policy looks at the body the subscription gets: `entry` of a structured message,
   * or the message's body when "".
   */
  passes(subscription: string, scope: FilterPolicyScope, message: Filterable, entry = ""): boolean {
    let verdicts = message.verdicts;
    if (verdicts === undefined || verdicts.generation !== this.generation) {
      verdicts = {
        generation: this.generation,
        // A view is built (the body parsed) only when some policy looks at it.
        byAttributes:
          this.attributes.size === 0
            ? NONE
            : this.matchAll(this.attributes, message.attributesForFiltering),
        byBody: undefined,
      };
      message.verdicts = verdicts;
    }
    if (scope !== "MessageBody") return verdicts.byAttributes.has(subscription);
    const bodies = (verdicts.byBody ??= new Map<string, ReadonlySet<string>>());
    let byBody = bodies.get(entry);
    if (byBody === undefined) {
      const view = entry === "" ? message.bodyForFiltering : message.entryForFiltering?.(entry);
      byBody = this.body.size === 0 ? NONE : this.matchAll(this.body, view);
      bodies.set(entry, byBody);
    }
    return byBody.has(subscription);
  }

  private matchAll(index: PatternIndex<string>, view: unknown): ReadonlySet<string> {
    if (view === undefined) return NONE;
    const matched = index.match(view);
    if (matched.length === 0) return NONE;
    // Messages of a topic mostly match the same subscriptions: the set made for the last one is
    // shared (sets of verdicts are never changed), so a run of alike messages makes none.
    const last = this.lastMatched;
    if (last !== undefined && last.index === index && sameMembers(last.set, matched))
      return last.set;
    const set = new Set(matched);
    this.lastMatched = { index, set };
    return set;
  }
}

/** Whether `set` holds exactly the distinct members of `members`. */
function sameMembers(set: ReadonlySet<string>, members: readonly string[]): boolean {
  if (members.length < set.size) return false;
  for (const member of members) if (!set.has(member)) return false;
  // Every member is in the set: they are the set if as many distinct ones as it holds.
  return members.length === set.size || new Set(members).size === set.size;
}
