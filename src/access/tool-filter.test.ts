import { describe, expect, it } from 'vitest';

import { createToolFilter } from './tool-filter.js';

describe('createToolFilter', () => {
  it('allows everything without rules', () => {
    expect(createToolFilter(undefined)('anything')).toBe(true);
  });

  it('applies allow globs, then deny globs', () => {
    const allowed = createToolFilter({ allow: ['read_*', 'list_*'], deny: ['read_secret*'] });
    expect(['read_file', 'list_dir', 'write_file', 'read_secrets'].filter(allowed)).toEqual(['read_file', 'list_dir']);
  });
});
