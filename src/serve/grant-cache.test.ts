import type { IncomingMessage } from 'node:http';

import { describe, expect, it } from 'vitest';

import type { GatewayConfig } from '../config/model.js';
import { type CachedAccess, GrantCache, grantKey } from './grant-cache.js';

const access = (owner: string) => ({ grant: { owner } }) as unknown as CachedAccess;
const config = () => ({}) as GatewayConfig;
const request = (headers: Record<string, string | string[]>) => ({ headers }) as unknown as IncomingMessage;

describe('GrantCache', () => {
  it('keeps at most its bound, dropping the oldest first', () => {
    const cache = new GrantCache(2);
    const current = config();
    cache.set(current, 'a', access('a'));
    cache.set(current, 'b', access('b'));
    cache.set(current, 'c', access('c'));
    expect(cache.size).toBe(2);
    expect(cache.get(current, 'a')).toBeUndefined();
    expect(cache.get(current, 'c')?.grant.owner).toBe('c');
  });

  it('answers nothing of an older config, and drops all of it once a newer one is kept', () => {
    const cache = new GrantCache();
    const old = config();
    const next = config();
    cache.set(old, 'a', access('a'));
    expect(cache.get(next, 'a')).toBeUndefined();
    cache.set(next, 'b', access('b'));
    expect(cache.size).toBe(1);
    expect(cache.get(old, 'a')).toBeUndefined();
  });
});

describe('grantKey', () => {
  it('tells apart path, address and each credential header; an Origin or a repeated header has no key', () => {
    const keys = [
      grantKey(request({}), '127.0.0.1', '/mcp', 'x-api-key'),
      grantKey(request({}), '127.0.0.2', '/mcp', 'x-api-key'),
      grantKey(request({}), '127.0.0.1', '/sse', 'x-api-key'),
      grantKey(request({ authorization: 'Bearer a' }), '127.0.0.1', '/mcp', 'x-api-key'),
      grantKey(request({ 'x-api-key': 'a' }), '127.0.0.1', '/mcp', 'x-api-key'),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    expect(grantKey(request({ origin: 'http://localhost' }), '127.0.0.1', '/mcp', 'x-api-key')).toBeUndefined();
    expect(grantKey(request({ 'x-key': ['a', 'b'] }), '127.0.0.1', '/mcp', 'x-key')).toBeUndefined();
  });
});
