/**
 * A read-only map from strings to items that finds a key without hashing the string looked up:
 * keys are filed by a sample of their length and three of their characters (first, middle,
 * last), read in constant time, and a lookup compares the value with the few keys of its sample
 * (`===`, which compares lengths, then characters). The values an event brings are mostly
 * strings cut out of its text, fresh each time, so a `Map` would first hash all of their
 * characters; and most are in no table (an order id against the few ids rules name), which the
 * sample usually tells at once.
 */
export class SampledStringTable<T> {
  /** The keys of slot `s` are `keys[starts[s] .. starts[s + 1])`, with their items alike. */
  private readonly starts: Int32Array;
  private readonly keys: string[] = [];
  private readonly items: T[] = [];
  private readonly mask: number;

  constructor(entries: Iterable<readonly [string, T]>) {
    const list = [...entries];
    // About 4 slots per key: a string not held mostly finds its slot empty.
    let size = 16;
    while (size < list.length * 4 && size < 1 << 20) size *= 2;
    this.mask = size - 1;
    const slotOf = list.map(([key]) => sampleOf(key) & this.mask);
    this.starts = new Int32Array(size + 1);
    for (const slot of slotOf) this.starts[slot + 1]!++;
    for (let s = 0; s < size; s++) this.starts[s + 1]! += this.starts[s]!;
    const next = this.starts.slice(0, size);
    list.forEach(([key, item], i) => {
      const at = next[slotOf[i]!]!++;
      this.keys[at] = key;
      this.items[at] = item;
    });
  }

  get size(): number {
    return this.keys.length;
  }

  /** The item of key `value`, or undefined when there is none. */
  get(value: string): T | undefined {
    const slot = sampleOf(value) & this.mask;
    const end = this.starts[slot + 1]!;
    for (let i = this.starts[slot]!; i < end; i++) if (this.keys[i] === value) return this.items[i];
    return undefined;
  }
}

/** A hash of the length and the first, middle and last characters of `text`. */
function sampleOf(text: string): number {
  const length = text.length;
  if (length === 0) return 0;
  let hash = Math.imul(length, 0x9e3779b1) ^ text.charCodeAt(0);
  hash = Math.imul(hash, 0x85ebca6b) ^ text.charCodeAt(length >>> 1);
  hash = Math.imul(hash, 0xc2b2ae35) ^ text.charCodeAt(length - 1);
  hash ^= hash >>> 15;
  hash = Math.imul(hash, 0x2c1b3c6d);
  return hash ^ (hash >>> 12);
}
