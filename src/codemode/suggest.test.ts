import { describe, expect, it } from 'vitest';

import { levenshtein, suggestNames } from './suggest.js';

describe('suggestNames', () => {
  it('suggests close and containing names, closest first', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(suggestNames('ecoh', ['echo', 'add', 'echo_twice'])).toEqual(['echo']);
    expect(suggestNames('sum', ['get-sum', 'add', 'summary'])).toEqual(['get-sum', 'summary']);
    expect(suggestNames('zzzzzz', ['echo'])).toEqual([]);
  });
});
