export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateLimiterOptions {
  /** The clock, in milliseconds; injectable for tests. */
  now?: () => number;
  /** Buckets kept before full (idle) ones are dropped. */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  capacity: number;
  updatedAt: number;
}

const MS_PER_MINUTE = 60_000;
const DEFAULT_MAX_KEYS = 10_000;

/**
 * Token buckets by key (a credential or client address, and a namespace): each holds up to a minute's worth of
 * requests and refills continuously, so a client may burst up to its limit and then goes at the limit's pace.
 *
 * @example
 * const limiter = new RateLimiter();
 * const decision = limiter.take('alice|crypto', 60);
 * if (!decision.ok) reply429(decision.retryAfterSeconds);
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(options: RateLimiterOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Takes `count` requests from the key's bucket, or says how long until it could. Nothing is taken on refusal. */
  take(key: string, perMinute: number, count = 1): RateDecision {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined || bucket.capacity !== perMinute) {
      // A changed limit (config reload) starts over with the new one, but never with more than was left.
      const tokens = bucket === undefined ? perMinute : Math.min(perMinute, this.refilled(bucket, now));
      if (!this.buckets.has(key) && this.buckets.size >= this.maxKeys) this.prune(now);
      bucket = { tokens, capacity: perMinute, updatedAt: now };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = this.refilled(bucket, now);
      bucket.updatedAt = now;
    }
    const needed = Math.min(count, bucket.capacity);
    if (bucket.tokens >= needed) {
      bucket.tokens -= needed;
      return { ok: true };
    }
    const perMs = bucket.capacity / MS_PER_MINUTE;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((needed - bucket.tokens) / perMs / 1000)) };
  }

  private refilled(bucket: Bucket, now: number): number {
    const elapsed = Math.max(0, now - bucket.updatedAt);
    return Math.min(bucket.capacity, bucket.tokens + (elapsed * bucket.capacity) / MS_PER_MINUTE);
  }

  /** Drops buckets that have refilled completely: they hold no state a fresh bucket would not. */
  private prune(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (this.refilled(bucket, now) >= bucket.capacity) this.buckets.delete(key);
    }
  }
}
