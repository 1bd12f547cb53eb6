// The Redis state store against Debian's redis-server: the rate budget behaves like the in-process
// RateLimiter and is one budget for every connection; values expire and are taken once; a store that went
// away is reported unhealthy and fails commands at once instead of queueing them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RateLimiter } from '../../src/access/rate-limit.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { RedisStateStore } from '../../src/state/redis-store.js';
import { waitFor } from '../helpers/wait-for.js';
import { type RedisServer, startRedisServer } from './redis-server.js';

let redis: RedisServer;
const stores: RedisStateStore[] = [];

async function connect(keyPrefix = 'test:'): Promise<RedisStateStore> {
  const store = await RedisStateStore.connect({ url: redis.url, keyPrefix, onError: () => {} });
  stores.push(store);
  return store;
}

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close().catch(() => {})));
  await redis?.stop();
});

describe('RedisStateStore', () => {
  it('decides like the in-process RateLimiter, and two connections draw on one budget', async () => {
    const [a, b] = [await connect(), await connect()];
    const local = new RateLimiter();
    const decisions: [unknown, unknown][] = [];
    for (let n = 0; n < 5; n++) {
      const store = n % 2 === 0 ? a : b;
      decisions.push([(await store.rates.take('alice', 4)).ok, local.take('alice', 4).ok]);
    }
    expect(decisions).toEqual([
      [true, true],
      [true, true],
      [true, true],
      [true, true],
      [false, false],
    ]);
    const refused = await a.rates.take('alice', 4);
    expect(refused).toMatchObject({ ok: false, exceedsLimit: false });
    // A quarter of a minute's budget is missing: 15 s, less whatever has refilled since.
    expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeLessThanOrEqual(15);
    // More at once than the limit can never fit; a check takes nothing.
    expect(await b.rates.take('bob', 4, 5)).toMatchObject({ ok: false, exceedsLimit: true });
    expect(await b.rates.check('bob', 4, 4)).toEqual({ ok: true });
    expect(await a.rates.take('bob', 4, 4)).toEqual({ ok: true });
    expect((await a.rates.check('bob', 4)).ok).toBe(false);
  });

  it('keeps values under its prefix, takes them once, replaces only what is there, counts, and lets them expire', async () => {
    const [a, b, other] = [await connect(), await connect(), await connect('other:')];
    await a.set('consent', 'yes');
    expect(await other.get('consent')).toBeUndefined();
    expect(await b.take('consent')).toBe('yes');
    expect(await a.take('consent')).toBeUndefined();
    expect(await a.increment('clients')).toBe(1);
    expect(await b.increment('clients')).toBe(2);
    expect(await b.increment('clients', -1)).toBe(1);
    // replace writes only over a value that is still there (a grant revoked meanwhile stays revoked).
    expect(await a.replace('grant', 'rotated', 60_000)).toBe(false);
    expect(await b.get('grant')).toBeUndefined();
    await a.set('grant', 'first');
    expect(await b.replace('grant', 'rotated', 60_000)).toBe(true);
    expect(await a.get('grant')).toBe('rotated');
    await a.set('code', 'short-lived', 50);
    await waitFor(async () => (await b.get('code')) === undefined, { message: 'the value to expire' });
  });

  it('keeps ordered sets like the in-process store: by score, ties by member, one remover wins', async () => {
    const [a, b] = [await connect('ordered:'), await connect('ordered:')];
    const memory = new MemoryStateStore();
    for (const store of [a, memory]) {
      expect(await store.orderedAdd('clients', 'late', 30)).toBe(1);
      expect(await store.orderedAdd('clients', 'b-first', 10)).toBe(2);
      expect(await store.orderedAdd('clients', 'a-first', 10)).toBe(3);
      // Adding again moves a member, it does not add one.
      expect(await store.orderedAdd('clients', 'late', 20)).toBe(3);
    }
    for (const store of [b, memory]) {
      expect(await store.orderedFirst('clients', 2)).toEqual(['a-first', 'b-first']);
      expect(await store.orderedFirst('clients', 10)).toEqual(['a-first', 'b-first', 'late']);
      expect(await store.orderedFirst('clients', 0)).toEqual([]);
    }
    const removed = await Promise.all([a.orderedRemove('clients', 'a-first'), b.orderedRemove('clients', 'a-first')]);
    expect(removed.filter(Boolean)).toHaveLength(1);
    expect(await b.orderedSize('clients')).toBe(2);
    expect(await a.orderedSize('nothing')).toBe(0);
  });

  it('reports a store that went away, and fails commands at once rather than queueing them', async () => {
    const own = await startRedisServer();
    const store = await RedisStateStore.connect({ url: own.url, keyPrefix: 't:', onError: () => {} });
    expect(await store.healthy()).toBe(true);
    await own.stop();
    await waitFor(async () => !(await store.healthy()), { message: 'the store to be unhealthy' });
    await expect(store.rates.take('alice', 10)).rejects.toThrow();
    await store.close().catch(() => {});
  });
});
