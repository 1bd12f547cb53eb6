import { describe, expect, it } from 'vitest';

import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('allows a burst of a minute’s worth, then refills at the limit’s pace', () => {
    let now = 0;
    const limiter = new RateLimiter({ now: () => now });
    for (let i = 0; i < 3; i++) expect(limiter.take('alice', 3)).toEqual({ ok: true });
    expect(limiter.take('alice', 3)).toEqual({ ok: false, retryAfterSeconds: 20, exceedsLimit: false });
    now += 15_000;
    expect(limiter.take('alice', 3)).toEqual({ ok: false, retryAfterSeconds: 5, exceedsLimit: false });
    now += 5_000;
    expect(limiter.take('alice', 3)).toEqual({ ok: true });
  });

  it('keeps buckets apart, so one client’s burst leaves the others alone', () => {
    const limiter = new RateLimiter({ now: () => 0 });
    expect(limiter.take('alice|*', 1)).toEqual({ ok: true });
    expect(limiter.take('alice|*', 1).ok).toBe(false);
    expect(limiter.take('bob|*', 1)).toEqual({ ok: true });
    expect(limiter.take('alice|namespace:public', 1)).toEqual({ ok: true });
  });

  it('takes several requests at once (a batch) or none, and drops idle buckets when there are too many', () => {
    let now = 0;
    const limiter = new RateLimiter({ now: () => now, maxKeys: 2 });
    expect(limiter.take('a', 5, 4)).toEqual({ ok: true });
    expect(limiter.take('a', 5, 2).ok).toBe(false);
    expect(limiter.take('a', 5, 1)).toEqual({ ok: true });
    limiter.take('b', 5);
    now += 60_000;
    limiter.take('c', 5);
    expect(limiter.size).toBe(1);
  });

  it('refuses a batch larger than the limit as a whole, saying it can never fit (issue 11)', () => {
    const limiter = new RateLimiter({ now: () => 0 });
    expect(limiter.take('a', 10, 500)).toEqual({ ok: false, retryAfterSeconds: 1, exceedsLimit: true });
    expect(limiter.take('a', 10, 10)).toEqual({ ok: true });
    expect(limiter.take('a', 10, 11)).toEqual({ ok: false, retryAfterSeconds: 60, exceedsLimit: true });
  });

  it('is one budget per key across limits: mixing endpoints never gives more (issue 11)', () => {
    const limiter = new RateLimiter({ now: () => 0 });
    // Five requests where the limit is 10 use half the budget; where it is 60, 30 more fit, not 60.
    for (let i = 0; i < 5; i++) expect(limiter.take('alice', 10).ok).toBe(true);
    let taken = 0;
    while (limiter.take('alice', 60).ok && taken < 100) taken++;
    expect(taken).toBe(30);
    expect(limiter.take('alice', 10).ok).toBe(false);
  });

  it('checks without taking', () => {
    const limiter = new RateLimiter({ now: () => 0 });
    expect(limiter.check('a', 2, 2)).toEqual({ ok: true });
    expect(limiter.check('a', 2, 2)).toEqual({ ok: true });
    expect(limiter.take('a', 2, 2)).toEqual({ ok: true });
    expect(limiter.check('a', 2, 1).ok).toBe(false);
  });
});
