export type RateDecision =
  | { ok: true }
  /** `exceedsLimit`: more requests at once than the limit allows in a minute; they can never be taken together. */
  | { ok: false; retryAfterSeconds: number; exceedsLimit: boolean };

export interface RateLimiterOptions {
  /** The clock, in milliseconds; injectable for tests. */
  now?: () => number;
  /** Buckets kept before empty (idle) ones are dropped. */
  maxKeys?: number;
}

interface Bucket {
  /** The share of a minute's budget in use, from 0 (idle) to 1 (exhausted); it drains by 1 per minute. */
  used: number;
  updatedAt: number;
}

const MS_PER_MINUTE = 60_000;
const DEFAULT_MAX_KEYS = 10_000;
/** Floating-point slack, so that exactly N requests of a limit of N always fit. */
const EPSILON = 1e-9;

/**
 * One budget per key (a credential, or a client address): a token bucket that holds a minute's worth of requests
 * and refills continuously, so a client may burst up to its limit and then goes at the limit's pace. A request
 * costs 1/N of the budget where N is the limit where it was made, so a key that uses endpoints with different
 * limits still has one budget: it can never exceed the limit of any endpoint it uses, nor take more in total.
 *
 * @example
 * const limiter = new RateLimiter();
 * const decision = limiter.take('credential:alice', 60);
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

  /** Takes `count` requests from the key's budget, or says how long until it could. Nothing is taken on refusal. */
  take(key: string, perMinute: number, count = 1): RateDecision {
    const decision = this.check(key, perMinute, count);
    if (decision.ok) this.buckets.get(key)!.used += count / perMinute;
    return decision;
  }

  /** Whether `count` requests would be taken now, taking nothing. */
  check(key: string, perMinute: number, count = 1): RateDecision {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) this.prune(now);
      bucket = { used: 0, updatedAt: now };
      this.buckets.set(key, bucket);
    } else {
      bucket.used = this.drained(bucket, now);
      bucket.updatedAt = now;
    }
    const cost = count / perMinute;
    if (bucket.used + cost <= 1 + EPSILON) return { ok: true };
    const exceedsLimit = cost > 1 + EPSILON;
    // Too many at once: the soonest it could be tried again is with a full budget.
    const missing = exceedsLimit ? bucket.used : bucket.used + cost - 1;
    return {
      ok: false,
      retryAfterSeconds: Math.max(1, Math.ceil((missing * MS_PER_MINUTE) / 1000)),
      exceedsLimit,
    };
  }

  private drained(bucket: Bucket, now: number): number {
    const elapsed = Math.max(0, now - bucket.updatedAt);
    return Math.max(0, bucket.used - elapsed / MS_PER_MINUTE);
  }

  /** Drops buckets that have drained completely: they hold no state a fresh bucket would not. */
  private prune(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (this.drained(bucket, now) === 0) this.buckets.delete(key);
    }
  }
}
