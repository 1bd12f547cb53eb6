import { describe, expect, it } from 'vitest';

import { isJsonDepthError, isNestedTooDeep, MAX_JSON_DEPTH, safeJsonParse } from './safe-json.js';

const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('safeJsonParse', () => {
  it('drops __proto__ keys at every depth and keeps the rest', () => {
    const value = safeJsonParse(
      '{"__proto__":{"p":1},"a":{"__proto__":{"p":1},"b":[{"__proto__":1}]},"constructor":2}',
    );
    expect(value).toEqual({ a: { b: [{}] }, constructor: 2 });
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it('parses JSON nested MAX_JSON_DEPTH levels deep', () => {
    expect(() => safeJsonParse(nested(MAX_JSON_DEPTH))).not.toThrow();
  });

  it.each([MAX_JSON_DEPTH + 1, 100_000])('refuses JSON nested %i levels deep with a depth error', (depth) => {
    let thrown: unknown;
    try {
      safeJsonParse(`{"a":${nested(depth)}}`);
    } catch (error) {
      thrown = error;
    }
    expect(isJsonDepthError(thrown)).toBe(true);
    expect((thrown as Error).message).toBe(`nested deeper than ${MAX_JSON_DEPTH} levels`);
  });
});

describe('isNestedTooDeep', () => {
  it('tells a value nested past MAX_JSON_DEPTH from one at it, objects and arrays alike', () => {
    expect(isNestedTooDeep(JSON.parse(nested(MAX_JSON_DEPTH)))).toBe(false);
    expect(isNestedTooDeep(JSON.parse(nested(MAX_JSON_DEPTH + 1)))).toBe(true);
    const objects = `${'{"a":'.repeat(MAX_JSON_DEPTH + 1)}1${'}'.repeat(MAX_JSON_DEPTH + 1)}`;
    expect(isNestedTooDeep(JSON.parse(objects))).toBe(true);
    expect(isNestedTooDeep('text')).toBe(false);
  });
});
