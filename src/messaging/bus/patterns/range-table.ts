/** A bound of a range; undefined on a side means unbounded. */
export interface RangeBound<K> {
  readonly value: K;
  readonly inclusive: boolean;
}

/**
 * Many ranges over one ordered key (numbers, or fixed-width strings compared as text), compiled
 * into the sorted list of their distinct bounds. The bounds cut the line into regions (below the
 * first bound, exactly at a bound, strictly between two bounds, above the last); each region
 * lists the ranges covering it, so a lookup is one binary search whatever the number of ranges.
 */
export class RangeTable<K extends number | string> {
  private readonly ranges: { lower?: RangeBound<K>; upper?: RangeBound<K>; item: number }[] = [];
  private bounds: K[] = [];
  /** Region 2i is the open gap below bounds[i]; region 2i+1 is bounds[i] itself. */
  private regions: number[][] = [[]];
  private compiled = true;

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  add(lower: RangeBound<K> | undefined, upper: RangeBound<K> | undefined, item: number): void {
    this.ranges.push({
      ...(lower === undefined ? {} : { lower }),
      ...(upper === undefined ? {} : { upper }),
      item,
    });
    this.compiled = false;
  }

  /** The items of every range holding `key`. */
  lookup(key: K): readonly number[] {
    if (!this.compiled) this.compile();
    const bounds = this.bounds;
    let low = 0;
    let high = bounds.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (bounds[mid]! < key) low = mid + 1;
      else high = mid;
    }
    const region = low < bounds.length && bounds[low] === key ? 2 * low + 1 : 2 * low;
    return this.regions[region]!;
  }

  private compile(): void {
    const distinct = new Set<K>();
    for (const { lower, upper } of this.ranges) {
      if (lower !== undefined) distinct.add(lower.value);
      if (upper !== undefined) distinct.add(upper.value);
    }
    const bounds = [...distinct].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const at = new Map<K, number>(bounds.map((b, i) => [b, i]));
    const regions: number[][] = Array.from({ length: 2 * bounds.length + 1 }, () => []);
    for (const { lower, upper, item } of this.ranges) {
      const first = lower === undefined ? 0 : 2 * at.get(lower.value)! + (lower.inclusive ? 1 : 2);
      const last =
        upper === undefined
          ? 2 * bounds.length
          : 2 * at.get(upper.value)! + (upper.inclusive ? 1 : 0);
      for (let region = first; region <= last; region++) regions[region]!.push(item);
    }
    this.bounds = bounds;
    this.regions = regions;
    this.compiled = true;
  }
}
