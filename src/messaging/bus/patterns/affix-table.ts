/**
 * Prefixes (or suffixes) of many patterns, grouped by length: a lookup costs one hash probe per
 * distinct length no longer than the value, however many affixes share a length.
 */
export class AffixTable<T> {
  private readonly byLength = new Map<number, Map<string, T[]>>();
  private lengths: number[] = [];
  private tables: Map<string, T[]>[] = [];
  private readonly found: (readonly T[])[] = [];

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

  /**
   * The item lists of every affix `value` starts (or ends) with. The array returned is reused
   * by the next lookup: read it before looking up again.
   */
  lookup(value: string): readonly (readonly T[])[] {
    const found = this.found;
    found.length = 0;
    const lengths = this.lengths;
    const size = value.length;
    for (let i = 0; i < lengths.length; i++) {
      const length = lengths[i]!;
      if (length > size) break;
      const part = this.fromEnd ? value.slice(size - length) : value.slice(0, length);
      const items = this.tables[i]!.get(part);
      if (items !== undefined) found.push(items);
    }
    return found;
  }
}
