import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { StartGuard } from './timing.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const never = () => new Promise<never>(() => {});

describe('StartGuard', () => {
  it('bounds the steps as a whole: a step that never settles fails once the time since the guard was made is up', async () => {
    const guard = new StartGuard(1_000, () => new Error('too late'));
    await guard.race(Promise.resolve('spawned'));
    vi.advanceTimersByTime(600);
    const step = guard.race(never());
    vi.advanceTimersByTime(400);
    await expect(step).rejects.toThrow('too late');
  });

  it('fails the step under way at once when told to, with the given error', async () => {
    const guard = new StartGuard(1_000, () => new Error('too late'));
    const step = guard.race(never());
    guard.fail(new Error('exited'));
    await expect(step).rejects.toThrow('exited');
  });

  it('passes results and errors of the steps through, and leaves no timer once ended', async () => {
    const guard = new StartGuard(1_000, () => new Error('too late'));
    await expect(guard.race(Promise.resolve(42))).resolves.toBe(42);
    await expect(guard.race(Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    guard.end();
    expect(vi.getTimerCount()).toBe(0);
  });
});
