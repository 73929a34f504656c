/**
 * A filter in front of a hash map with string keys: from a string's length and three of its
 * characters (first, middle, last), read in constant time, it tells that the map may hold the
 * string or that it surely does not. Most values an event brings to a field machine are in none
 * of its maps (an order id against the few ids rules name), and a map lookup of a string cut out
 * of event text first hashes all of its characters; the filter answers most such misses with a
 * few multiplications. A false "may hold" only costs the lookup it would have cost anyway.
 */
export class SampledStringFilter {
  /** One bit per slot; a key sets the bit of its sample. */
  private readonly bits: Int32Array;
  private readonly mask: number;

  /** A filter for the strings among `keys` (other keys are left to the map). */
  constructor(keys: Iterable<unknown>) {
    const strings = [...keys].filter((key): key is string => typeof key === "string");
    // About 16 bits per key: a string not held passes about one time in 16.
    let size = 64;
    while (size < strings.length * 16 && size < 1 << 20) size *= 2;
    this.bits = new Int32Array(size >>> 5);
    this.mask = size - 1;
    for (const key of strings) {
      const slot = sampleOf(key) & this.mask;
      this.bits[slot >>> 5] = this.bits[slot >>> 5]! | (1 << (slot & 31));
    }
  }

  /** False when no key of the map is `value`; true when one may be. */
  mayHold(value: string): boolean {
    const slot = sampleOf(value) & this.mask;
    return (this.bits[slot >>> 5]! & (1 << (slot & 31))) !== 0;
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
