import { describe, expect, it } from 'vitest';

import { assignNames, closestNames, editDistance, MAX_NAME_LENGTH, sanitizeName } from './naming.js';

describe('assignNames', () => {
  it('prefixes with the server prefix, or not at all when it is empty', () => {
    const names = assignNames([
      { server: 'everything', prefix: 'everything', original: 'echo' },
      { server: 'bare', prefix: '', original: 'add' },
    ]);
    expect(names.map((n) => n.publicName)).toEqual(['everything__echo', 'add']);
    expect(names.every((n) => n.renamed === undefined)).toBe(true);
  });

  it('keeps the first claimant and renames later ones, saying so', () => {
    const names = assignNames([
      { server: 'a', prefix: '', original: 'echo' },
      { server: 'b', prefix: '', original: 'echo' },
      { server: 'c', prefix: '', original: 'echo' },
    ]);
    expect(names.map((n) => n.publicName)).toEqual(['echo', 'echo_2', 'echo_3']);
    expect(names[1]?.renamed).toContain('taken');
  });

  it('is deterministic: the same claims give the same names', () => {
    const claims = [
      { server: 'x', prefix: 'p', original: 'a b' },
      { server: 'y', prefix: 'p', original: 'a_b' },
    ];
    expect(assignNames(claims)).toEqual(assignNames(claims));
    expect(assignNames(claims).map((n) => n.publicName)).toEqual(['p__a_b', 'p__a_b_2']);
  });
});

describe('sanitizeName', () => {
  it('replaces characters outside the protocol alphabet', () => {
    expect(sanitizeName('srv__read/file:v2')).toBe('srv__read_file_v2');
  });

  it('keeps names within 128 characters, distinct for distinct long names', () => {
    const a = sanitizeName('x'.repeat(200) + 'a');
    const b = sanitizeName('x'.repeat(200) + 'b');
    expect(a).toHaveLength(MAX_NAME_LENGTH);
    expect(b).toHaveLength(MAX_NAME_LENGTH);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_.-]+$/);
  });
});

describe('closestNames', () => {
  it('suggests near names, best first', () => {
    expect(closestNames('everything__ecko', ['everything__echo', 'memory__read_graph', 'everything__add'])[0]).toBe(
      'everything__echo',
    );
  });

  it('suggests nothing when nothing is close', () => {
    expect(closestNames('zzzzzz', ['everything__echo'])).toEqual([]);
  });
});

describe('closestNames, bounded in cost', () => {
  it('agrees with the full edit distance within its band', () => {
    const words = ['everything__echo', 'everything__add', 'memory__read_graph', 'echo', 'ech', 'xecho_', 'abcdefgh'];
    for (const name of ['everything__ecko', 'ecoh', 'memroy__read_grahp', 'abcdefgh', 'qqqq']) {
      const expected = words
        .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
        .map((entry) =>
          entry.candidate.includes(name) || name.includes(entry.candidate) ? { ...entry, distance: 1 } : entry,
        )
        .filter((entry) => entry.distance <= Math.min(8, Math.max(3, Math.floor(name.length / 2))))
        .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
        .slice(0, 3)
        .map((entry) => entry.candidate);
      expect(closestNames(name, words)).toEqual(expected);
    }
  });

  it('suggests nothing for a name longer than any valid name (issue 11: a 3.5 MB name froze the gateway)', () => {
    expect(closestNames('x'.repeat(3_500_000), ['x'.repeat(128), 'everything__echo'])).toEqual([]);
    expect(closestNames('e'.repeat(MAX_NAME_LENGTH + 1), ['e'.repeat(MAX_NAME_LENGTH)])).toEqual([]);
  });

  it('does a bounded amount of work over a huge catalog of near-length names', () => {
    // 200,000 candidates of the same length as the name: without a budget this is 200,000 full tables.
    const candidates = Array.from({ length: 200_000 }, (_, i) => `tool_${String(i).padStart(123, '0')}`);
    let visited = 0;
    const counting = (function* () {
      for (const candidate of candidates) {
        visited++;
        yield candidate;
      }
    })();
    closestNames(`zzzz_${'9'.repeat(123)}`, counting);
    expect(visited).toBeLessThan(candidates.length);
  });
});
