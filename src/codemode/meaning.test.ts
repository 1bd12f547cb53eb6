import { describe, expect, it } from 'vitest';

import { MeaningIndex } from './meaning.js';
import { WordVectors } from './word-vectors.js';

const vectors = WordVectors.load()!;
const DOCUMENTS = [
  { name: 'get-sum', description: 'Returns the sum of two numbers' },
  { name: 'create_directory', description: 'Create a new directory. Can create nested directories.' },
  { name: 'echo', description: 'Echoes back the input string' },
];

describe('meaning', () => {
  const meaning = new MeaningIndex(DOCUMENTS, vectors);

  it('finds the tool whose name or lead sentence is closest to the query words, with no word in common', () => {
    const best = (words: string[]): number => {
      const similarities = [...meaning.similarities(words)];
      return similarities.indexOf(Math.max(...similarities));
    };
    expect(best(['total', 'of', 'values'])).toBe(0);
    expect(best(['make', 'a', 'folder'])).toBe(1);
  });

  it('lets a word that comes close to nothing in the catalog (a name, `zebra` here) barely dilute the others', () => {
    const alone = meaning.similarities(['total'])[0]!;
    expect(meaning.similarities(['total', 'zebra'])[0]).toBeGreaterThan(0.9 * alone);
    expect(meaning.similarities(['folder', 'zebra'])[1]).toBeGreaterThan(0.8 * meaning.similarities(['folder'])[1]!);
  });

  it('gives one 0–1 value per tool, all 0 when no query word has a vector', () => {
    const similarities = meaning.similarities(['total', 'folder']);
    expect(similarities).toHaveLength(3);
    for (const value of similarities) expect(value).toBeGreaterThanOrEqual(0);
    for (const value of similarities) expect(value).toBeLessThanOrEqual(1);
    expect([...meaning.similarities(['the', 'xqzv'])]).toEqual([0, 0, 0]);
  });
});
