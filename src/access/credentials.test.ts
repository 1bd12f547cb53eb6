import { describe, expect, it } from 'vitest';

import { parseConfigText } from '../config/load.js';
import { credentialsOf, presentedCredential } from './credentials.js';

const config = parseConfigText(
  JSON.stringify({
    auth: {
      tokens: [
        { id: 'alice', token: '${ALICE}' },
        { id: 'bob', token: '${BOB}' },
      ],
    },
  }),
  { env: { ALICE: 'alice-secret-0123456789', BOB: 'bob-secret-0123456789xx' } },
);

describe('credentialsOf', () => {
  it('matches a token to its credential and nothing else', () => {
    const store = credentialsOf(config);
    expect(store.match('alice-secret-0123456789')?.id).toBe('alice');
    expect(store.match('bob-secret-0123456789xx')?.id).toBe('bob');
    for (const wrong of ['', 'alice', 'alice-secret-012345678', 'alice-secret-01234567890', 'x'.repeat(10_000)]) {
      expect(store.match(wrong)).toBeUndefined();
    }
  });

  it('keeps digests only, and knows whether a credential survived a reload', () => {
    const store = credentialsOf(config);
    const alice = store.match('alice-secret-0123456789')!;
    expect(JSON.stringify(alice.digest)).not.toContain('alice-secret');
    expect(store.has(alice)).toBe(true);
    const reloaded = parseConfigText(
      JSON.stringify({ auth: { tokens: [{ id: 'alice', token: 'a-new-secret-0123456789' }] } }),
    );
    expect(credentialsOf(reloaded).has(alice)).toBe(false);
  });
});

describe('presentedCredential', () => {
  it('reads a bearer token or an API key, and refuses what cannot be used', () => {
    expect(presentedCredential({}, 'x-api-key')).toEqual({ kind: 'none' });
    expect(presentedCredential({ authorization: 'Bearer abc' }, 'x-api-key')).toEqual({ kind: 'token', token: 'abc' });
    expect(presentedCredential({ authorization: 'bearer  abc ' }, 'x-api-key')).toEqual({
      kind: 'token',
      token: 'abc',
    });
    expect(presentedCredential({ 'x-api-key': 'abc' }, 'x-api-key')).toEqual({ kind: 'token', token: 'abc' });
    expect(presentedCredential({ authorization: 'Bearer abc', 'x-api-key': 'abc' }, 'x-api-key')).toMatchObject({
      kind: 'token',
    });
    expect(presentedCredential({ authorization: 'Bearer abc', 'x-api-key': 'def' }, 'x-api-key')).toMatchObject({
      kind: 'malformed',
    });
    expect(presentedCredential({ authorization: 'Basic YWxpY2U6eA==' }, 'x-api-key')).toMatchObject({
      kind: 'malformed',
    });
  });
});
