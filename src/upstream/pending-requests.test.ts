import { describe, expect, it } from 'vitest';

import { PendingRequests } from './pending-requests.js';

const entry = (id: number) => ({ id });

describe('PendingRequests', () => {
  it('finds, lists oldest first and forgets entries, alone or with others in flight', () => {
    const pending = new PendingRequests<{ id: number }>();
    const [a, b, c, d] = [entry(1), entry(2), entry(3), entry(4)];
    pending.add(a);
    pending.add(b);
    expect(pending.get(1)).toBe(a);
    expect(pending.get(2)).toBe(b);
    expect(pending.remove(a)).toBe(true);
    pending.add(c);
    expect(pending.list()).toEqual([b, c]);
    expect(pending.size).toBe(2);
    expect(pending.remove(b)).toBe(true);
    expect(pending.remove(c)).toBe(true);
    expect(pending.size).toBe(0);
    pending.add(d);
    expect(pending.list()).toEqual([d]);
    expect(pending.get(3)).toBeUndefined();
  });

  it('removes only the entry pending under its id', () => {
    const pending = new PendingRequests<{ id: number }>();
    const first = entry(1);
    pending.add(first);
    expect(pending.remove(entry(1))).toBe(false);
    expect(pending.remove(entry(9))).toBe(false);
    expect(pending.get(1)).toBe(first);
    expect(pending.remove(first)).toBe(true);
    expect(pending.remove(first)).toBe(false);
  });
});
