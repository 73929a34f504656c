import { invalid } from "../../errors/index.js";
import { checkInteger } from "../validate.js";

/**
 * Two 32-bit hashes of a string in one pass (FNV-1a and a multiply-xorshift, each finished
 * with murmur3's avalanche), for double hashing. Written to module scratch to avoid allocating.
 */
let hashA = 0;
let hashB = 0;

/** @internal */
export function hashKey(key: string): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  hashA = fmix(a);
  hashB = fmix(b) | 1;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A Bloom filter over strings: no false negatives, false positives at about the rate it was sized for. */
export class BloomFilter {
  private readonly words: Uint32Array;
  private count = 0;

  constructor(
    /** Bits in the filter. */
    readonly bits: number,
    /** Hash functions per key. */
    readonly hashes: number,
  ) {
    checkInteger("bits", bits, 8);
    checkInteger("hashes", hashes, 1, 64);
    this.words = new Uint32Array(Math.ceil(bits / 32));
  }

  /** A filter sized for `expectedKeys` at `falsePositiveRate` (optimal bits and hash count). */
  static forCapacity(expectedKeys: number, falsePositiveRate: number): BloomFilter {
    checkInteger("expectedKeys", expectedKeys, 1);
    if (
      typeof falsePositiveRate !== "number" ||
      !(falsePositiveRate > 0 && falsePositiveRate < 1)
    ) {
      throw invalid("falsePositiveRate", "a number in (0, 1)", falsePositiveRate);
    }
    const bits = Math.max(
      8,
      Math.ceil((-expectedKeys * Math.log(falsePositiveRate)) / (Math.LN2 * Math.LN2)),
    );
    const hashes = Math.max(1, Math.min(64, Math.round((bits / expectedKeys) * Math.LN2)));
    return new BloomFilter(bits, hashes);
  }

  /** Keys added since the last clear. */
  get size(): number {
    return this.count;
  }

  get byteLength(): number {
    return this.words.byteLength;
  }

  add(key: string): void {
    hashKey(key);
    this.addHashed();
  }

  has(key: string): boolean {
    hashKey(key);
    return this.hasHashed();
  }

  /** @internal Adds the key last passed to `hashKey`. */
  addHashed(): void {
    const bits = this.bits;
    for (let i = 0; i < this.hashes; i++) {
      const bit = ((hashA + Math.imul(i, hashB)) >>> 0) % bits;
      this.words[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.count++;
  }

  /** @internal Tests the key last passed to `hashKey`. */
  hasHashed(): boolean {
    const bits = this.bits;
    for (let i = 0; i < this.hashes; i++) {
      const bit = ((hashA + Math.imul(i, hashB)) >>> 0) % bits;
      if ((this.words[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  clear(): void {
    this.words.fill(0);
    this.count = 0;
  }
}

/**
 * A Bloom filter that grows: when the current filter holds its capacity, a new one twice as
 * large, with half the false-positive rate, is added (Almeida et al.'s scalable Bloom filter),
 * so a burst beyond the expected count costs memory instead of accuracy. The rates form a
 * halving series, so the whole chain stays under the rate it was created with.
 */
export class ScalableBloomFilter {
  private readonly filters: BloomFilter[] = [];
  private capacity = 0;

  constructor(
    private readonly initialCapacity: number,
    private readonly falsePositiveRate: number,
  ) {
    this.clear();
  }

  get size(): number {
    let total = 0;
    for (const f of this.filters) total += f.size;
    return total;
  }

  get byteLength(): number {
    let total = 0;
    for (const f of this.filters) total += f.byteLength;
    return total;
  }

  /** @internal Adds the key last passed to `hashKey`. */
  addHashed(): void {
    let last = this.filters[this.filters.length - 1]!;
    if (last.size >= this.capacity) {
      this.capacity *= 2;
      last = BloomFilter.forCapacity(
        this.capacity,
        this.falsePositiveRate / 2 ** (this.filters.length + 1),
      );
      this.filters.push(last);
    }
    last.addHashed();
  }

  /** @internal Tests the key last passed to `hashKey`. */
  hasHashed(): boolean {
    const filters = this.filters;
    for (let i = 0; i < filters.length; i++) if (filters[i]!.hasHashed()) return true;
    return false;
  }

  clear(): void {
    if (this.filters.length === 1) {
      this.filters[0]!.clear();
      return;
    }
    this.filters.length = 0;
    this.capacity = this.initialCapacity;
    this.filters.push(BloomFilter.forCapacity(this.capacity, this.falsePositiveRate / 2));
  }
}
