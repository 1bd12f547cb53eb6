import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { readTokenKey, seal, TOKEN_KEY_ENV, unseal } from './token-key.js';

describe('readTokenKey', () => {
  it('takes 32 bytes as base64, base64url or hex', () => {
    const key = randomBytes(32);
    expect(readTokenKey(key.toString('base64'))).toEqual(key);
    expect(readTokenKey(key.toString('base64url'))).toEqual(key);
    expect(readTokenKey(` ${key.toString('hex')}\n`)).toEqual(key);
  });

  it('refuses a missing, short or malformed key with an error naming the variable and how to make one', () => {
    for (const value of [undefined, '', 'short', randomBytes(16).toString('base64'), 'x'.repeat(44)]) {
      expect(() => readTokenKey(value)).toThrow(TOKEN_KEY_ENV);
      expect(() => readTokenKey(value)).toThrow('openssl rand -base64 32');
    }
  });

  it('never puts the value into the message', () => {
    const almost = randomBytes(31).toString('base64');
    expect(() => readTokenKey(almost)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(almost) }),
    );
  });
});

describe('seal and unseal', () => {
  const key = randomBytes(32);

  it('round-trips, with a fresh IV every time', () => {
    const first = seal(key, 'tokens/a/b', 'secret');
    expect(unseal(key, 'tokens/a/b', first)).toBe('secret');
    expect(seal(key, 'tokens/a/b', 'secret')).not.toBe(first);
    expect(first).not.toContain('secret');
  });

  it('refuses another key, another label, an altered or a truncated value', () => {
    const sealed = seal(key, 'tokens/notes/credential%3Aalice', 'alice-token');
    expect(() => unseal(randomBytes(32), 'tokens/notes/credential%3Aalice', sealed)).toThrow();
    expect(() => unseal(key, 'tokens/notes/credential%3Abob', sealed)).toThrow();
    const bytes = Buffer.from(sealed, 'base64url');
    bytes[bytes.length - 1]! ^= 1;
    expect(() => unseal(key, 'tokens/notes/credential%3Aalice', bytes.toString('base64url'))).toThrow();
    expect(() => unseal(key, 'tokens/notes/credential%3Aalice', 'AAAA')).toThrow(/too short/);
  });
});
