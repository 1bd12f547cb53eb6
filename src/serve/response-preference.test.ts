import { describe, expect, it } from 'vitest';

import { prefersJson } from './response-preference.js';

describe('prefersJson', () => {
  it('reads the order of the two types when the header has no parameters', () => {
    expect(prefersJson('application/json, text/event-stream')).toBe(true);
    expect(prefersJson('text/event-stream, application/json')).toBe(false);
    expect(prefersJson('text/event-stream,application/json')).toBe(false);
  });

  it('lets q decide, and the order only between equal ones', () => {
    expect(prefersJson('application/json;q=0.5, text/event-stream')).toBe(false);
    expect(prefersJson('text/event-stream;q=0.9, application/json')).toBe(true);
    expect(prefersJson('text/event-stream; q=1, application/json; q=1')).toBe(false);
    expect(prefersJson('application/json; charset=utf-8, text/event-stream')).toBe(true);
  });

  it('prefers the only one accepted', () => {
    expect(prefersJson('application/json')).toBe(true);
    expect(prefersJson('text/event-stream')).toBe(false);
  });
});
