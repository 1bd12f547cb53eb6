import { describe, expect, it } from 'vitest';

import { DEFAULT_TOOL_NAMING } from '../config/model.js';
import {
  assignNames,
  closestNames,
  editDistance,
  MAX_NAME_LENGTH,
  type NameClaim,
  ORIGINAL_NAME_META_KEY,
  publicToolDefinition,
  sanitizeName,
  SERVER_META_KEY,
} from './naming.js';

const LLM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

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

describe('the tool name budget', () => {
  const tool = (server: string, original: string): NameClaim => ({
    server,
    prefix: server,
    original,
    naming: DEFAULT_TOOL_NAMING,
  });

  it('fits LLM APIs with room for a client prefix: at most 48 characters, no dots', () => {
    const long = 'create_pull_request_review_comment_reply_with_suggestion_and_more';
    const [named] = assignNames([tool('github', long)]);
    expect(named!.publicName).toHaveLength(48);
    expect(named!.publicName).toMatch(/^github__create_pull_request_review_comm\w*_[0-9a-f]{6}$/);
    expect(`mcp__mcproxy__${named!.publicName}`).toMatch(LLM_NAME);
    expect(named!.renamed).toContain('longer than 48 characters');
    expect(assignNames([tool('fs', 'read.file')])[0]!.publicName).toBe('fs__read_file');
  });

  it('shortens deterministically, keeping part of a long prefix and of the tool name', () => {
    const a = sanitizeName('a-very-long-server-name-that-goes-on-and-on', 'read_the_whole_file', DEFAULT_TOOL_NAMING);
    expect(a).toBe(
      sanitizeName('a-very-long-server-name-that-goes-on-and-on', 'read_the_whole_file', DEFAULT_TOOL_NAMING),
    );
    expect(a).toHaveLength(48);
    expect(a).toMatch(/^a-very-long-server-n\w*__read_the_whole_file_[0-9a-f]{6}$/);
  });

  it('keeps 500 long names with one shared beginning unique, in budget, in order', () => {
    const claims = Array.from({ length: 500 }, (_, i) => tool('server', `${'x'.repeat(80)}_${i}`));
    const names = assignNames(claims).map((n) => n.publicName);
    expect(new Set(names).size).toBe(500);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_-]{1,48}$/);
    expect(assignNames(claims).map((n) => n.publicName)).toEqual(names);
  });

  it('loses no tool when shortened or cleaned names collide, and reports each rename', () => {
    const claims = [
      tool('fs', 'read_file'),
      tool('fs', 'read.file'), // cleaned to fs__read_file: taken
      tool('fs', 'read file'), // the same again
      tool('a', 'fs__x'), // prefix "a" keeps it apart from the server fs
    ];
    // A hash collision of two shortened names behaves like any other: the second gets _2.
    const shortened = sanitizeName('svc', 'y'.repeat(60), DEFAULT_TOOL_NAMING);
    claims.push({ server: 'other', prefix: '', original: shortened, naming: DEFAULT_TOOL_NAMING });
    claims.push(tool('svc', 'y'.repeat(60)));
    const names = assignNames(claims);
    expect(names.map((n) => n.publicName)).toEqual([
      'fs__read_file',
      'fs__read_file_2',
      'fs__read_file_3',
      'a__fs__x',
      shortened,
      `${shortened.slice(0, 46)}_2`,
    ]);
    expect(names.filter((n) => n.renamed).map((n) => n.original)).toEqual(['read.file', 'read file', 'y'.repeat(60)]);
    for (const name of names) expect(name.publicName.length).toBeLessThanOrEqual(48);
  });

  it('keeps the protocol limits (128, dots allowed) when no policy is given', () => {
    expect(sanitizeName('srv', 'read/file:v2.1')).toBe('srv__read_file_v2.1');
    const a = sanitizeName('', 'x'.repeat(200) + 'a');
    const b = sanitizeName('', 'x'.repeat(200) + 'b');
    expect(a).toHaveLength(MAX_NAME_LENGTH);
    expect(a).not.toBe(b);
  });
});

describe('publicToolDefinition', () => {
  const inputSchema = { type: 'object' as const };

  it('leaves a plainly prefixed tool as it is, under its public name', () => {
    const [assignment] = assignNames([{ server: 's', prefix: 's', original: 'echo', naming: DEFAULT_TOOL_NAMING }]);
    expect(publicToolDefinition({ name: 'echo', inputSchema }, assignment!)).toEqual({ name: 's__echo', inputSchema });
  });

  it('keeps the original name of a renamed tool in _meta and as its title, beside its own _meta', () => {
    const original = 'z'.repeat(70);
    const [assignment] = assignNames([{ server: 's', prefix: 's', original, naming: DEFAULT_TOOL_NAMING }]);
    const definition = publicToolDefinition({ name: original, inputSchema, _meta: { own: 1 } }, assignment!);
    expect(definition.name).toBe(assignment!.publicName);
    expect(definition.title).toBe(original);
    expect(definition._meta).toEqual({ own: 1, [ORIGINAL_NAME_META_KEY]: original, [SERVER_META_KEY]: 's' });
    const titled = publicToolDefinition({ name: original, title: 'Zed', inputSchema }, assignment!);
    expect(titled.title).toBe('Zed');
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
