/** A binary min-heap ordered by a numeric key. */
export class MinHeap<T> {
  private readonly keys: number[] = [];
  private readonly values: T[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** The smallest key, or undefined when empty. */
  peekKey(): number | undefined {
    return this.keys[0];
  }

  /** The value with the smallest key, or undefined when empty. */
  peek(): T | undefined {
    return this.values[0];
  }

  push(key: number, value: T): void {
    const keys = this.keys;
    const values = this.values;
    let i = keys.length;
    keys.push(key);
    values.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent]! <= key) break;
      keys[i] = keys[parent]!;
      values[i] = values[parent]!;
      i = parent;
    }
    keys[i] = key;
    values[i] = value;
  }

  /** Removes and returns the value with the smallest key. */
  pop(): T | undefined {
    const keys = this.keys;
    const values = this.values;
    if (keys.length === 0) return undefined;
    const top = values[0];
    const lastKey = keys.pop()!;
    const lastValue = values.pop()!;
    if (keys.length > 0) this.siftDown(0, lastKey, lastValue);
    return top;
  }

  /**
   * Keeps only the values `keep` accepts, given each with its key (O(n): rebuilds the heap in
   * place, with no copy of either array).
   */
  retain(keep: (value: T, key: number) => boolean): void {
    const keys = this.keys;
    const values = this.values;
    const n = keys.length;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      if (!keep(values[i]!, keys[i]!)) continue;
      keys[kept] = keys[i]!;
      values[kept] = values[i]!;
      kept++;
    }
    keys.length = kept;
    values.length = kept;
    for (let i = (kept >> 1) - 1; i >= 0; i--) this.siftDown(i, keys[i]!, values[i]!);
  }

  /** Places `key` and `value` at `start` or below it, moving smaller children up. */
  private siftDown(start: number, key: number, value: T): void {
    const keys = this.keys;
    const values = this.values;
    const n = keys.length;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && keys[right]! < keys[left]! ? right : left;
      if (keys[child]! >= key) break;
      keys[i] = keys[child]!;
      values[i] = values[child]!;
      i = child;
    }
    keys[i] = key;
    values[i] = value;
  }

  clear(): void {
    this.keys.length = 0;
    this.values.length = 0;
  }
}
