import { describe, expect, it } from 'vitest';

import { backoffDelayMs, isStableRun } from './backoff.js';

const policy = { maxAttempts: 3, backoffBaseMs: 100, backoffMaxMs: 1_000, stableAfterMs: 5_000 };

describe('backoffDelayMs', () => {
  it('doubles from the base', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelayMs(attempt, policy))).toEqual([100, 200, 400, 800]);
  });

  it('is capped at the maximum, even for huge attempt numbers', () => {
    expect(backoffDelayMs(5, policy)).toBe(1_000);
    expect(backoffDelayMs(10_000, policy)).toBe(1_000);
  });
});

describe('isStableRun', () => {
  it('is true from the stable period on', () => {
    expect(isStableRun(4_999, policy)).toBe(false);
    expect(isStableRun(5_000, policy)).toBe(true);
  });
});
