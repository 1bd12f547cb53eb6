import { describe, expect, it } from 'vitest';

import { LazyAbort, toAbortSignal } from './lazy-abort.js';

describe('LazyAbort', () => {
  it('calls a listener added before any signal exists, once, with an AbortController’s reason', () => {
    const lazy = new LazyAbort();
    const reasons: unknown[] = [];
    lazy.addEventListener('abort', () => reasons.push(lazy.reason), { once: true });
    expect(lazy.aborted).toBe(false);
    lazy.abort('client left');
    lazy.abort('again');
    expect(lazy.aborted).toBe(true);
    expect(reasons).toEqual(['client left']);
    expect(lazy.signal.reason).toBe('client left');
  });

  it('drops a listener removed before the signal is made', () => {
    const lazy = new LazyAbort();
    let called = 0;
    const listener = () => called++;
    lazy.addEventListener('abort', listener);
    lazy.removeEventListener('abort', listener);
    lazy.abort();
    expect(called).toBe(0);
    expect((lazy.reason as DOMException).name).toBe('AbortError');
  });

  it('moves waiting listeners onto the real signal when someone asks for it', () => {
    const lazy = new LazyAbort();
    let called = 0;
    lazy.addEventListener('abort', () => called++);
    const signal = toAbortSignal(lazy);
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal).toBe(lazy.signal);
    lazy.abort();
    expect(called).toBe(1);
    expect(signal.aborted).toBe(true);
  });

  it('gives a real AbortSignal back as it is', () => {
    const signal = new AbortController().signal;
    expect(toAbortSignal(signal)).toBe(signal);
    expect(toAbortSignal(undefined)).toBeUndefined();
  });
});
