import { describe, expect, it } from 'vitest';

import { formatIssue, formatPath, levenshtein, sortByDocumentOrder, suggest } from './issues.js';

describe('levenshtein and suggest', () => {
  it('counts edits', () => {
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('same', 'same')).toBe(0);
  });

  it('suggests the nearest key when it is close enough', () => {
    const keys = ['command', 'args', 'env', 'timeout', 'tool_timeout'];
    expect(suggest('comand', keys)).toBe('command');
    expect(suggest('ToolTimeout', keys)).toBe('tool_timeout');
    expect(suggest('tiemout', keys)).toBe('timeout');
    expect(suggest('banana', keys)).toBeUndefined();
    expect(suggest('x', [])).toBeUndefined();
  });
});

describe('formatPath', () => {
  it('joins keys, indexes v1 entries with their names, and quotes odd keys', () => {
    const root = { servers: [{ name: 'github', env: {} }, { command: 'x' }] };
    expect(formatPath(['servers', 0, 'env', 'API_KEY'], root)).toBe('servers[0] (github).env.API_KEY');
    expect(formatPath(['servers', 1, 'command'], root)).toBe('servers[1].command');
    expect(formatPath(['mcpServers', 'my server', 'url'])).toBe('mcpServers["my server"].url');
    expect(formatPath(['headers', 'X-Api-Key'])).toBe('headers.X-Api-Key');
    expect(formatPath([])).toBe('');
  });
});

describe('formatIssue', () => {
  it('puts file, position and path first', () => {
    expect(formatIssue('a.json', { path: 'servers.x', message: 'bad' })).toBe('a.json: servers.x: bad');
    expect(formatIssue('a.json', { path: '', message: 'bad', line: 2, column: 5 })).toBe('a.json:2:5: bad');
  });
});

describe('sortByDocumentOrder', () => {
  it('orders issues as their fields appear, absent fields with their parent', () => {
    const root = { mode: 'x', servers: { a: { command: 1 }, b: {} }, sandbox: {} };
    const issues = [
      { path: 'sandbox', message: '4' },
      { path: 'servers.b.url', message: '3' },
      { path: 'servers.a.command', message: '2' },
      { path: 'mode', message: '1' },
    ];
    expect(sortByDocumentOrder(issues, root).map((issue) => issue.message)).toEqual(['1', '2', '3', '4']);
  });
});
