import { describe, expect, it } from 'vitest';

import { boundedDistance, suggestNames } from './suggest.js';

/** The textbook dynamic programme, as the reference. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(row[j - 1]! + 1, previous[j]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}

describe('boundedDistance', () => {
  it('agrees with the full edit distance up to the bound, and says "over" past it', () => {
    expect(boundedDistance('kitten', 'sitting', 3)).toBe(3);
    expect(boundedDistance('kitten', 'sitting', 2)).toBe(3);
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const word = () => Array.from({ length: Math.floor(random() * 9) }, () => 'abc'[Math.floor(random() * 3)]).join('');
    for (let n = 0; n < 2_000; n++) {
      const [a, b, max] = [word(), word(), Math.floor(random() * 5)];
      expect(boundedDistance(a, b, max)).toBe(Math.min(distance(a, b), max + 1));
    }
  });
});

describe('suggestNames', () => {
  it('suggests close, containing and abbreviated names, closest first', () => {
    expect(suggestNames('ecoh', ['echo', 'add', 'echo_twice'])).toEqual(['echo']);
    expect(suggestNames('sum', ['get-sum', 'add', 'summary'])).toEqual(['get-sum', 'summary']);
    expect(suggestNames('fs', ['filesystem', 'memory'])).toEqual(['filesystem']);
    expect(suggestNames('zzzzzz', ['echo'])).toEqual([]);
  });
});
