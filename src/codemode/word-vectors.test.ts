import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { DEFAULT_MAX_WORDS, DIMENSIONS, WordVectors } from './word-vectors.js';

/** A file in the package's format: the word list, then `"vectors":{"word":[x1…x100,norm,rank],…}`. */
function packageFile(entries: Array<[string, number[]]>): string {
  const directory = mkdtempSync(join(os.tmpdir(), 'mcproxy-vectors-'));
  const file = join(directory, 'vectors.json');
  const vectors = entries.map(([word, values]) => `${JSON.stringify(word)}:[${[...values, 1, 0].join(',')}]`);
  const words = JSON.stringify(entries.map(([word]) => word));
  writeFileSync(file, `{"precision":8,"words":${words},"vectors":{${vectors.join(',')}},"unkVector":[0]}`);
  return file;
}

/** A 100-d vector with `x` in the first component and `y` in the second. */
const vector = (x: number, y: number): number[] => [x, y, ...new Array<number>(DIMENSIONS - 2).fill(0)];

describe('word vectors', () => {
  it('reads the package that is installed, most frequent words first, and relates words by meaning', () => {
    const vectors = WordVectors.load();
    expect(vectors?.size).toBe(DEFAULT_MAX_WORDS);
    expect(vectors?.id('the')).toBe(0);
    expect(vectors!.similarity('folder', 'directory')).toBeGreaterThan(0.4);
    expect(vectors!.similarity('folder', 'directory')).toBeGreaterThan(vectors!.similarity('folder', 'sum') + 0.2);
    expect(vectors!.similarity('total', 'sum')).toBeGreaterThan(vectors!.similarity('total', 'echo'));
    expect(vectors!.similarity('folder', 'notaword')).toBe(0);
  });

  it('keeps words of letters only, up to the limit, and parses signs, decimals and exponents', () => {
    const file = packageFile([
      [',', vector(1, 0)],
      ['"', vector(1, 0)],
      ['a\\"b', vector(1, 0)],
      ['north', vector(1, 0)],
      ['south', vector(-1.5e-1, 0)],
      ['east', vector(0, 2.5)],
      ['west', vector(0, -25e-1)],
      ['up', vector(1, 1)],
    ]);
    const vectors = WordVectors.load(4, file)!;
    expect(vectors.size).toBe(4);
    expect(vectors.id('north')).toBe(0);
    expect(vectors.id('up')).toBeUndefined();
    expect(vectors.similarity('north', 'south')).toBeCloseTo(-1, 2);
    expect(vectors.similarity('east', 'west')).toBeCloseTo(-1, 2);
    expect(vectors.similarity('north', 'east')).toBeCloseTo(0, 2);
    // Fewer words than asked for: all of them.
    expect(WordVectors.load(100, file)?.size).toBe(5);
  });

  it('is undefined when the file is missing or not in the package format', () => {
    expect(WordVectors.load(10, join(os.tmpdir(), 'mcproxy-no-such-file.json'))).toBeUndefined();
    const directory = mkdtempSync(join(os.tmpdir(), 'mcproxy-vectors-'));
    writeFileSync(join(directory, 'other.json'), JSON.stringify({ words: ['a'] }));
    expect(WordVectors.load(10, join(directory, 'other.json'))).toBeUndefined();
  });
});
