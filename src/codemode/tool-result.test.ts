import { describe, expect, it } from 'vitest';

import { toolErrorMessage, toolResultValue } from './tool-result.js';

describe('toolResultValue', () => {
  it('prefers structured content, then JSON text, then text, then the content', () => {
    expect(toolResultValue({ content: [{ type: 'text', text: '1' }], structuredContent: { a: 1 } })).toEqual({ a: 1 });
    expect(toolResultValue({ content: [{ type: 'text', text: '[1,2]' }] })).toEqual([1, 2]);
    expect(toolResultValue({ content: [{ type: 'text', text: 'plain' }] })).toBe('plain');
    expect(
      toolResultValue({
        content: [
          { type: 'text', text: '{"a":1}' },
          { type: 'text', text: 'b' },
        ],
      }),
    ).toBe('{"a":1}\nb');
    const image = { type: 'image' as const, data: 'AA==', mimeType: 'image/png' };
    expect(toolResultValue({ content: [image] })).toEqual([image]);
    expect(toolResultValue({ content: [] })).toEqual([]);
  });

  it('takes an error message from the text blocks', () => {
    expect(toolErrorMessage({ content: [{ type: 'text', text: 'bad' }], isError: true })).toBe('bad');
    expect(toolErrorMessage({ content: [], isError: true })).toBe('the tool reported an error');
  });
});
