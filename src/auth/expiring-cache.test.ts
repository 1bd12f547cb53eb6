import { describe, expect, it } from 'vitest';

import { ExpiringCache } from './expiring-cache.js';

describe('ExpiringCache', () => {
  it('forgets an entry at its own end', () => {
    let time = 0;
    const cache = new ExpiringCache<string>(10, () => time);
    cache.set('a', 'A', 100);
    cache.set('never', 'N', 0);
    time = 99;
    expect(cache.get('a')).toBe('A');
    expect(cache.get('never')).toBeUndefined();
    time = 100;
    expect(cache.get('a')).toBeUndefined();
  });

  it('when full, drops the least recently used entry', () => {
    const cache = new ExpiringCache<number>(2, () => 0);
    cache.set('a', 1, 10);
    cache.set('b', 2, 10);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3, 10);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
  });
});
