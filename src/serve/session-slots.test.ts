import { EventEmitter } from 'node:events';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { type SessionLimits, SessionSlot, SessionSlots } from './session-slots.js';

const LIMITS: SessionLimits = { max: 3, maxPerClient: 2, idleTimeoutMs: 1_000 };

/** What a slot watches of a response: its `close` event. */
const exchange = () => new EventEmitter();

// Only the idle timers are faked: the queue of expiries is worked off in real turns of the event loop.
beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }));
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
afterEach(() => vi.useRealTimers());

describe('SessionSlots', () => {
  it('refuses a client over its share (429) and everyone when full (503), and frees places on release', () => {
    const slots = new SessionSlots(() => LIMITS);
    const a1 = slots.claim('a');
    const a2 = slots.claim('a');
    expect(slots.claim('a')).toMatchObject({ status: 429, retryAfterSeconds: 1 });
    const b1 = slots.claim('b');
    expect(slots.claim('c')).toMatchObject({ status: 503 });
    expect(slots.size).toBe(3);
    (a1 as SessionSlot).release();
    (a1 as SessionSlot).release();
    expect(slots.size).toBe(2);
    expect(slots.claim('a')).toBeInstanceOf(SessionSlot);
    for (const slot of [a2, b1]) (slot as SessionSlot).release();
  });

  it('reads the limits at every claim, so a reload applies at once', () => {
    let limits = LIMITS;
    const slots = new SessionSlots(() => limits);
    slots.claim('a');
    limits = { ...LIMITS, maxPerClient: 1 };
    expect(slots.claim('a')).toMatchObject({ status: 429 });
  });

  it('ends a session idle for the timeout, never one with an exchange open', async () => {
    const slots = new SessionSlots(() => LIMITS);
    const idle = vi.fn();
    const slot = slots.claim('a') as SessionSlot;
    slot.onIdle = idle;
    const stream = exchange();
    slot.during(stream);
    vi.advanceTimersByTime(5_000);
    expect(idle).not.toHaveBeenCalled();
    stream.emit('close');
    vi.advanceTimersByTime(999);
    const post = exchange();
    slot.during(post); // a request just in time starts the wait over
    post.emit('close');
    vi.advanceTimersByTime(999);
    await nextTurn();
    expect(idle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    await nextTurn();
    expect(idle).toHaveBeenCalledOnce();
    slot.release();
    vi.advanceTimersByTime(10_000);
    await nextTurn();
    expect(idle).toHaveBeenCalledOnce();
  });

  it('ends thousands of sessions idle at once a few per turn of the event loop', async () => {
    const slots = new SessionSlots(() => ({ ...LIMITS, max: 10_000, maxPerClient: 10_000 }));
    let ended = 0;
    for (let i = 0; i < 1_000; i++) (slots.claim('a') as SessionSlot).onIdle = () => ended++;
    vi.advanceTimersByTime(1_000);
    await nextTurn();
    expect(ended).toBeGreaterThan(0);
    expect(ended).toBeLessThan(1_000);
    for (let turn = 0; turn < 1_000 && ended < 1_000; turn++) await nextTurn();
    expect(ended).toBe(1_000);
  });
});
