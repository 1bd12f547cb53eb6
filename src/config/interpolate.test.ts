import { describe, expect, it } from 'vitest';

import { expandString, interpolate } from './interpolate.js';

describe('interpolate', () => {
  const env = { HOME: '/home/u', EMPTY: '', TOKEN: 'secret' };

  it('expands strings at any depth and leaves keys and other values alone', () => {
    const data = { '${HOME}': { list: ['${HOME}/x', 3, true, null], n: 1 } };
    expect(interpolate(data, env)).toEqual({
      value: { '${HOME}': { list: ['/home/u/x', 3, true, null], n: 1 } },
      missing: [],
    });
  });

  it('uses the default when unset or empty, as a shell does', () => {
    const expand = (text: string) => expandString(text, env, () => undefined);
    expect(expand('${NOPE:-fallback}')).toBe('fallback');
    expect(expand('${EMPTY:-fallback}')).toBe('fallback');
    expect(expand('${NOPE:-}')).toBe('');
    expect(expand('${TOKEN:-fallback}')).toBe('secret');
    expect(expand('${NOPE:-/tmp}/memory.jsonl')).toBe('/tmp/memory.jsonl');
  });

  it('treats a variable set to empty as set when there is no default', () => {
    expect(interpolate('${EMPTY}', env)).toEqual({ value: '', missing: [] });
  });

  it('reports every unset variable with its path and leaves the reference', () => {
    const result = interpolate({ servers: [{ env: { A: '${X} and ${Y}' } }] }, env);
    expect(result.missing).toEqual([
      { variable: 'X', path: ['servers', 0, 'env', 'A'] },
      { variable: 'Y', path: ['servers', 0, 'env', 'A'] },
    ]);
    expect(result.value).toEqual({ servers: [{ env: { A: '${X} and ${Y}' } }] });
  });

  it('keeps $${VAR} as a literal ${VAR} and ignores things that are not references', () => {
    const expand = (text: string) => expandString(text, env, () => undefined);
    expect(expand('$${TOKEN}')).toBe('${TOKEN}');
    expect(expand('${not a name} $HOME ${1X}')).toBe('${not a name} $HOME ${1X}');
  });

  it('keeps a "__proto__" key as data', () => {
    const data = JSON.parse('{"__proto__": {"polluted": "${TOKEN}"}}') as unknown;
    const value = interpolate(data, env).value as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
