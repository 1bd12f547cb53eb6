import { describe, expect, it } from 'vitest';

import { createServerToolFilter, createToolFilter } from './tool-filter.js';

describe('createToolFilter', () => {
  it('allows everything without rules', () => {
    expect(createToolFilter(undefined)('anything')).toBe(true);
  });

  it('applies allow globs, then deny globs', () => {
    const allowed = createToolFilter({ allow: ['read_*', 'list_*'], deny: ['read_secret*'] });
    expect(['read_file', 'list_dir', 'write_file', 'read_secrets'].filter(allowed)).toEqual(['read_file', 'list_dir']);
  });
});

describe('createServerToolFilter', () => {
  it('matches plain patterns on any server and server/tool patterns on one', () => {
    const allowed = createServerToolFilter({ deny: ['delete_*', 'db/drop_*'] });
    expect(allowed('db', 'query')).toBe(true);
    expect(allowed('db', 'drop_table')).toBe(false);
    expect(allowed('other', 'drop_table')).toBe(true);
    expect(allowed('other', 'delete_row')).toBe(false);
  });

  it('needs an allow match when allow is given, of either kind', () => {
    const allowed = createServerToolFilter({ allow: ['echo', 'wiki/*'] });
    expect(allowed('any', 'echo')).toBe(true);
    expect(allowed('wiki', 'search')).toBe(true);
    expect(allowed('any', 'search')).toBe(false);
    expect(createServerToolFilter({})('any', 'thing')).toBe(true);
  });
});
