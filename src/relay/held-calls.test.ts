import type { JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { HELD_CALL_TTL_MS, HeldCalls } from './held-calls.js';

const SAMPLE: JSONRPCRequest = { jsonrpc: '2.0', id: 1, method: 'sampling/createMessage', params: {} };

/** A held call whose server asked the client something, answered with input_required once. */
async function afterFirstRound() {
  const calls = new HeldCalls();
  const call = calls.create('anonymous', 'tools/call');
  let finish!: (result: Record<string, unknown>) => void;
  call.start(async (signal) => {
    void call.ask(SAMPLE, signal).catch(() => {});
    return new Promise((resolve) => (finish = resolve));
  });
  const first = call.next(() => {});
  await vi.advanceTimersByTimeAsync(10);
  expect((await first).kind).toBe('input');
  return { calls, call, finish: (result: Record<string, unknown>) => finish(result) };
}

describe('HeldCalls', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([
    ['fails', (call: ReturnType<HeldCalls['create']>) => call.fail(new Error('refused'))],
    ['finishes', () => {}],
  ])('forgets a call that %s between rounds once the client stays away for the TTL', async (_name, end) => {
    const { calls, call, finish } = await afterFirstRound();
    // Between rounds: the call ends (an error, or the server's result) while no request of the client waits.
    end(call);
    finish({ content: [] });
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.size).toBe(1);
    await vi.advanceTimersByTimeAsync(HELD_CALL_TTL_MS);
    expect(calls.size).toBe(0);
  });

  it('keeps an outcome for a retry that comes within the TTL', async () => {
    const { calls, call, finish } = await afterFirstRound();
    finish({ content: [{ type: 'text', text: 'done' }] });
    await vi.advanceTimersByTimeAsync(HELD_CALL_TTL_MS / 2);
    expect(await call.next(() => {})).toEqual({
      kind: 'result',
      result: { content: [{ type: 'text', text: 'done' }] },
    });
    expect(calls.size).toBe(0);
  });
});
