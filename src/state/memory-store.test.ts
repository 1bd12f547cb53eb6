import { describe, expect, it } from 'vitest';

import { MemoryStateStore } from './memory-store.js';

describe('MemoryStateStore', () => {
  it('keeps values until they expire, takes them once, and counts', async () => {
    let now = 0;
    const store = new MemoryStateStore({ now: () => now });
    await store.set('code', 'abc', 1_000);
    await store.set('client', 'forever');
    expect(await store.get('code')).toBe('abc');
    now += 1_000;
    expect(await store.get('code')).toBeUndefined();
    expect(await store.take('client')).toBe('forever');
    expect(await store.take('client')).toBeUndefined();
    expect(await store.increment('n')).toBe(1);
    expect(await store.increment('n', 2)).toBe(3);
    expect(await store.increment('n', -1)).toBe(2);
    expect(await store.healthy()).toBe(true);
  });

  it('rate budgets are the in-process RateLimiter on the same clock', () => {
    let now = 0;
    const store = new MemoryStateStore({ now: () => now });
    expect(store.rates.take('alice', 2)).toEqual({ ok: true });
    expect(store.rates.take('alice', 2)).toEqual({ ok: true });
    expect(store.rates.take('alice', 2)).toMatchObject({ ok: false, retryAfterSeconds: 30 });
    now += 30_000;
    expect(store.rates.take('alice', 2)).toEqual({ ok: true });
  });
});
