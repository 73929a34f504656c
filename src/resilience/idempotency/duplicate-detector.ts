import { invalid } from "../../errors/index.js";
import { type Clock, systemClock } from "../../time/index.js";
import { checkInteger, checkPositiveMs } from "../validate.js";
import { ScalableBloomFilter, hashKey } from "./bloom-filter.js";

export interface DuplicateDetectorOptions {
  /** How long a key is remembered: at least this, at most this plus one bucket. */
  readonly windowMs: number;
  /** Time buckets the window is cut into; a whole bucket expires at once. Default 4. */
  readonly buckets?: number;
  /**
   * Keep the keys themselves (default true): answers are exact. With `false` only the Bloom
   * filters are kept: a few bytes per key, and a new key is taken for a duplicate at about
   * `bloom.falsePositiveRate`. A true duplicate is never missed either way.
   */
  readonly exact?: boolean;
  /**
   * Bloom filters in front of (or, with `exact: false`, instead of) the key sets, sized for
   * `expectedKeys` per window at `falsePositiveRate` for the whole detector. A bucket that
   * receives more than its share grows another filter rather than losing accuracy. As a front
   * to exact sets it rarely pays in V8 (cached string hashes make Set lookups cheap; see
   * docs/resilience.md): its main use is `exact: false`.
   */
  readonly bloom?: { readonly expectedKeys: number; readonly falsePositiveRate?: number };
  readonly clock?: Clock;
}

export interface DuplicateDetectorStats {
  readonly checks: number;
  readonly duplicates: number;
  /** Lookups the Bloom filters answered alone: the key was certainly new, no set was consulted. */
  readonly bloomNegatives: number;
  /** Checks where the Bloom front said "maybe" but the key was new (exact mode with a front). */
  readonly bloomFalsePositives: number;
}

interface Generation {
  epoch: number;
  readonly keys: Set<string> | undefined;
  readonly bloom: ScalableBloomFilter | undefined;
}

/**
 * Remembers keys seen in a sliding time window, for deduplicating high volumes of deliveries:
 * a ring of time-bucketed key sets (one more bucket than the window needs, so a key lives at
 * least `windowMs`), expired a whole bucket at a time, each optionally fronted by a Bloom filter.
 */
export class DuplicateDetector {
  private readonly generations: Generation[];
  private readonly bucketMs: number;
  private readonly clock: Clock;
  private readonly exact: boolean;
  private readonly useBloom: boolean;
  private headEpoch = Number.NEGATIVE_INFINITY;
  private headIndex = 0;
  private checks = 0;
  private duplicates = 0;
  private bloomNegatives = 0;
  private bloomFalsePositives = 0;

  constructor(options: DuplicateDetectorOptions) {
    checkPositiveMs("windowMs", options.windowMs);
    const buckets = options.buckets ?? 4;
    checkInteger("buckets", buckets, 1, 1000);
    this.exact = options.exact ?? true;
    this.useBloom = options.bloom !== undefined;
    if (!this.exact && options.bloom === undefined) {
      throw invalid("bloom", "Bloom filter options when exact is false");
    }
    if (options.bloom !== undefined) {
      checkInteger("bloom.expectedKeys", options.bloom.expectedKeys, 1);
      const rate = options.bloom.falsePositiveRate;
      if (rate !== undefined && (typeof rate !== "number" || !(rate > 0 && rate < 1))) {
        throw invalid("bloom.falsePositiveRate", "a number in (0, 1)", rate);
      }
    }
    this.bucketMs = options.windowMs / buckets;
    this.clock = options.clock ?? systemClock;
    const count = buckets + 1;
    const rate = options.bloom?.falsePositiveRate ?? 0.01;
    // Each check consults every live bucket, so each filter gets a share of the target rate.
    const perBucketKeys = Math.max(1, Math.ceil((options.bloom?.expectedKeys ?? 1) / buckets));
    this.generations = Array.from({ length: count }, () => ({
      epoch: Number.NEGATIVE_INFINITY,
      keys: this.exact ? new Set<string>() : undefined,
      bloom:
        options.bloom === undefined
          ? undefined
          : new ScalableBloomFilter(perBucketKeys, rate / count),
    }));
  }

  /** Records `key`; true when it was already seen within the window. */
  seen(key: string): boolean {
    this.rotate();
    this.checks++;
    const duplicate = this.lookup(key);
    if (duplicate) this.duplicates++;
    else {
      const head = this.generations[this.headIndex]!;
      head.keys?.add(key);
      if (head.bloom !== undefined) head.bloom.addHashed(); // lookup hashed this key last
    }
    return duplicate;
  }

  /** True when `key` was seen within the window; records nothing. */
  has(key: string): boolean {
    this.rotate();
    return this.lookup(key);
  }

  /** Keys remembered (in exact mode, exactly; with Bloom filters only, keys added). */
  get size(): number {
    let total = 0;
    for (const g of this.generations) total += g.keys?.size ?? g.bloom?.size ?? 0;
    return total;
  }

  get stats(): DuplicateDetectorStats {
    return {
      checks: this.checks,
      duplicates: this.duplicates,
      bloomNegatives: this.bloomNegatives,
      bloomFalsePositives: this.bloomFalsePositives,
    };
  }

  private lookup(key: string): boolean {
    const generations = this.generations;
    if (this.useBloom) {
      hashKey(key);
      let maybe = false;
      for (let i = 0; i < generations.length; i++) {
        if (generations[i]!.bloom!.hasHashed()) {
          maybe = true;
          break;
        }
      }
      if (!maybe) {
        this.bloomNegatives++;
        return false;
      }
      if (!this.exact) return true;
    }
    for (let i = 0; i < generations.length; i++) {
      if (generations[i]!.keys!.has(key)) return true;
    }
    if (this.useBloom) this.bloomFalsePositives++;
    return false;
  }

  private rotate(): void {
    const epoch = Math.floor(this.clock.now() / this.bucketMs);
    if (epoch <= this.headEpoch) return;
    const count = this.generations.length;
    const first = Math.max(this.headEpoch + 1, epoch - count + 1);
    for (let e = first; e <= epoch; e++) {
      const g = this.generations[((e % count) + count) % count]!;
      g.epoch = e;
      g.keys?.clear();
      g.bloom?.clear();
    }
    this.headEpoch = epoch;
    this.headIndex = ((epoch % count) + count) % count;
  }
}
