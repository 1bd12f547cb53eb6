import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import { renderConfigReference } from './reference.js';

describe('docs/config-reference.md', () => {
  it('is what `npm run docs:config` generates from the schema (regenerate it when this fails)', async () => {
    const checkedIn = await readFile(new URL('../../docs/config-reference.md', import.meta.url), 'utf8');
    expect(checkedIn).toBe(renderConfigReference());
  });

  it('documents every server field', () => {
    const reference = renderConfigReference();
    for (const field of ['command', 'args', 'env', 'url', 'headers', 'timeout', 'tool_timeout', 'prefix', 'lazy']) {
      expect(reference).toContain(`| \`${field}\` |`);
    }
  });
});
