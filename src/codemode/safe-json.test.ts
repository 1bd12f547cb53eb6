import { describe, expect, it } from 'vitest';

import { safeJsonParse } from './safe-json.js';

describe('safeJsonParse', () => {
  it('drops __proto__ keys at every depth and keeps the rest', () => {
    const value = safeJsonParse(
      '{"__proto__":{"p":1},"a":{"__proto__":{"p":1},"b":[{"__proto__":1}]},"constructor":2}',
    );
    expect(value).toEqual({ a: { b: [{}] }, constructor: 2 });
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });
});
