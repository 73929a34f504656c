/**
 * Prefixes (or suffixes) of many patterns, grouped by length: a lookup costs one hash probe per
 * distinct length no longer than the value, however many affixes share a length.
 */
export class AffixTable<T> {
  private readonly byLength = new Map<number, Map<string, T[]>>();
  private lengths: number[] = [];
  private tables: Map<string, T[]>[] = [];
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
    const list = table.get(affix);
    if (list === undefined) table.set(affix, [item]);
    else list.push(item);
  }

  get isEmpty(): boolean {
    return this.lengths.length === 0;
  }

  /** Finds the item lists of every affix `value` starts (or ends) with; returns how many. */
  lookup(value: string): number {
    const found = this.found;
    const lengths = this.lengths;
    const size = value.length;
    let count = 0;
    for (let i = 0; i < lengths.length; i++) {
      const length = lengths[i]!;
      if (length > size) break;
      const part =
        length === size
          ? value
          : this.fromEnd
            ? value.slice(size - length)
            : value.slice(0, length);
      const items = this.tables[i]!.get(part);
      if (items !== undefined) found[count++] = items;
    }
    return count;
  }
}
