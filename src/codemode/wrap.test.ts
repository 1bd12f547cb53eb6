import { describe, expect, it } from 'vitest';

import { userPosition, wrapUserCode } from './wrap.js';

describe('wrapUserCode', () => {
  it('wraps a body in an async function taking api', () => {
    const [body] = wrapUserCode('return 1 // done');
    expect(body).toEqual({ source: '(async function (api) {return 1 // done\n})', prefixLength: 23, shape: 'body' });
  });

  it('tries an async arrow or anonymous async function as an expression first, then as a body', () => {
    for (const code of [
      'async () => 1',
      'async (api) => { return 1 };',
      'async api => 1',
      '\n  async function (api) { }',
    ]) {
      const shapes = wrapUserCode(code).map((c) => c.shape);
      expect(shapes).toEqual(['function', 'body']);
    }
    expect(wrapUserCode('async function main() {}\nreturn main()').map((c) => c.shape)).toEqual(['body']);
    expect(wrapUserCode('async () => 1;  \n').map((c) => c.source)[0]).toBe('(async () => 1\n)');
  });
});

describe('userPosition', () => {
  it('maps the first code.js frame and corrects columns on line 1', () => {
    const stack = '    at f (prelude.js:9:3)\n    at <anonymous> (code.js:1:30)\n    at x (code.js:4:2)';
    expect(userPosition(stack, { prefixLength: 23 }, 5)).toEqual({ line: 1, column: 7 });
    expect(userPosition('    at code.js:3:5', { prefixLength: 23 }, 5)).toEqual({ line: 3, column: 5 });
    expect(userPosition('    at code.js:9:1', { prefixLength: 1 }, 2)).toEqual({ line: 2, column: 1 });
    expect(userPosition(undefined, { prefixLength: 1 }, 2)).toEqual({});
  });
});
