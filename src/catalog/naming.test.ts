import { describe, expect, it } from 'vitest';

import { assignNames, closestNames, MAX_NAME_LENGTH, sanitizeName } from './naming.js';

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
