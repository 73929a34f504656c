import { extendHash } from "./text-hash.js";

/** An affix and the items filed under it. */
interface Affix<T> {
  readonly text: string;
  readonly items: T[];
}

/**
 * Prefixes (or suffixes) of many patterns, grouped by length: a lookup costs one hash probe per
 * distinct length no longer than the value, however many affixes share a length. The probes are
 * keyed by a hash of the affix's characters that the lookup extends one character at a time
 * from the value's start (or end), so no part of the value is cut out as a new string: a
 * lookup allocates nothing. A probe's candidates are confirmed by comparing their text.
 */
export class AffixTable<T> {
  private readonly byLength = new Map<number, Map<number, Affix<T>[]>>();
  private lengths: number[] = [];
  private tables: Map<number, Affix<T>[]>[] = [];
  /**
   * The item lists the last lookup found, in `found[0 .. count)`. Reused by every lookup (and
   * never truncated, which costs more than it saves): read it before looking up again.
   */
  readonly found: (readonly T[])[] = [];

  constructor(private readonly fromEnd: boolean) {}

  add(affix: string, item: T): void {
    let table = this.byLength.get(affix.length);
    if (table === undefined) {
      table = new Map();
      this.byLength.set(affix.length, table);
      this.lengths = [...this.byLength.keys()].sort((a, b) => a - b);
      this.tables = this.lengths.map((length) => this.byLength.get(length)!);
    }
    let hash = 0;
    for (let read = 0; read < affix.length; read++)
      hash = extendHash(hash, affix.charCodeAt(this.fromEnd ? affix.length - 1 - read : read));
    let bucket = table.get(hash);
    if (bucket === undefined) table.set(hash, (bucket = []));
    const same = bucket.find((entry) => entry.text === affix);
    if (same === undefined) bucket.push({ text: affix, items: [item] });
    else same.items.push(item);
  }

  get isEmpty(): boolean {
    return this.lengths.length === 0;
  }

  /** Finds the item lists of every affix `value` starts (or ends) with; returns how many. */
  lookup(value: string): number {
    const found = this.found;
    const lengths = this.lengths;
    const size = value.length;
    const fromEnd = this.fromEnd;
    let count = 0;
    let hash = 0;
    let read = 0;
    for (let i = 0; i < lengths.length; i++) {
      const length = lengths[i]!;
      if (length > size) break;
      for (; read < length; read++)
        hash = extendHash(hash, value.charCodeAt(fromEnd ? size - 1 - read : read));
      const bucket = this.tables[i]!.get(hash);
      if (bucket === undefined) continue;
      for (let b = 0; b < bucket.length; b++) {
        const entry = bucket[b]!;
        if (fromEnd ? value.endsWith(entry.text) : value.startsWith(entry.text))
          found[count++] = entry.items;
      }
    }
    return count;
  }
}
