import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';

import { MAX_STORED_BYTES, MAX_STORED_EVENTS, SessionEventStore } from './event-store.js';

const note = (n: number) => ({ jsonrpc: '2.0', method: 'notifications/progress', params: { n } }) as JSONRPCMessage;

async function replay(store: SessionEventStore, from: string) {
  const sent: [string, JSONRPCMessage][] = [];
  const stream = await store.replayEventsAfter(from, { send: async (id, message) => void sent.push([id, message]) });
  return { stream, sent };
}

describe('SessionEventStore', () => {
  it('replays the events of the resumed stream after the given one, in order, priming events left out', async () => {
    const store = new SessionEventStore();
    const primed = store.storePriming('a');
    const first = store.storeText('a', JSON.stringify(note(1)));
    store.storeText('b', JSON.stringify(note(2)));
    const third = await store.storeEvent('a', note(3));
    expect(await replay(store, primed)).toEqual({
      stream: 'a',
      sent: [
        [first, note(1)],
        [third, note(3)],
      ],
    });
    expect(await store.getStreamIdForEventId(third)).toBe('a');
  });

  it('keeps the newest events by count, and refuses ids it never gave or no longer has', async () => {
    const store = new SessionEventStore();
    const ids = Array.from({ length: MAX_STORED_EVENTS + 2 }, (_, n) => store.storeText('s', JSON.stringify(note(n))));
    expect(store.has(ids[0]!)).toBe(false);
    expect(store.has(ids[1]!)).toBe(false);
    expect(store.has(ids[2]!)).toBe(true);
    expect(store.has(ids.at(-1)!)).toBe(true);
    for (const unknown of ['s|0', 's|99999', 'other|5', 'nonsense', `${ids[5]}x`])
      expect(store.has(unknown)).toBe(false);
    await expect(replay(store, ids[0]!)).rejects.toThrow(/no longer stored/);
    expect((await replay(store, ids.at(-3)!)).sent.map(([id]) => id)).toEqual(ids.slice(-2));
  });

  it('keeps the newest events by bytes, and none larger than the bound alone', () => {
    const store = new SessionEventStore();
    const big = 'x'.repeat(MAX_STORED_BYTES / 2);
    const first = store.storeText('s', big);
    const second = store.storeText('s', big);
    const third = store.storeText('s', big);
    expect([first, second, third].map((id) => store.has(id))).toEqual([false, true, true]);
    const huge = store.storeText('s', 'x'.repeat(MAX_STORED_BYTES + 1));
    expect([second, third, huge].map((id) => store.has(id))).toEqual([false, false, false]);
    expect(store.has(store.storeText('s', '{"small":true}'))).toBe(true);
  });
});
