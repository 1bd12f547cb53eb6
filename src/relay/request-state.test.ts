import { describe, expect, it } from 'vitest';

import { isGatewayError } from '../errors.js';
import { MAX_SEALED_STATE_CHARS, RequestStateSealer } from './request-state.js';

const sealer = new RequestStateSealer(Buffer.alloc(32, 7));
const expected = { principal: 'credential:alice|/mcp', request: 'digest-1' };
const state = (body: Record<string, unknown>) => ({ body, ...expected, expiresAt: Date.now() + 60_000 });

describe('RequestStateSealer', () => {
  it('opens what it sealed for the same caller and request only', () => {
    const token = sealer.seal(state({ server: 'both', upstream: 'abc' }));
    expect(sealer.open(token, expected)).toMatchObject({ ok: true, state: { body: { upstream: 'abc' } } });
    expect(sealer.open(token, { ...expected, principal: 'anonymous|/mcp' })).toEqual({
      ok: false,
      reason: 'requestState belongs to another caller',
    });
    expect(sealer.open(token, { ...expected, request: 'digest-2' })).toMatchObject({ ok: false });
    expect(new RequestStateSealer(Buffer.alloc(32, 8)).open(token, expected)).toMatchObject({ ok: false });
  });

  it('seals a state as large as its limit can open, and refuses a larger one with a clear error when sealing', () => {
    // A server's state that grew with a client's long answers: 600 KB of it still relays, round trip.
    const large = sealer.seal(state({ upstream: 'x'.repeat(600_000) }));
    expect(large.length).toBeLessThanOrEqual(MAX_SEALED_STATE_CHARS);
    expect(sealer.open(large, expected).ok).toBe(true);
    let thrown: unknown;
    try {
      sealer.seal(state({ upstream: 'x'.repeat(MAX_SEALED_STATE_CHARS) }));
    } catch (error) {
      thrown = error;
    }
    expect(isGatewayError(thrown, 'INVALID_PARAMS')).toBe(true);
    expect((thrown as Error).message).toMatch(/larger than the gateway relays/);
    expect(sealer.open('x'.repeat(MAX_SEALED_STATE_CHARS + 1), expected)).toEqual({
      ok: false,
      reason: 'requestState is malformed',
    });
  });
});
