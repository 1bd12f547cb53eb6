import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CatalogSearch } from '../../src/codemode/search.js';
import { EVERYTHING_ENTRY, FILESYSTEM_ENTRY, MEMORY_ENTRY, TestHost } from './host.js';

// Depths over three real npm servers: the shallow ones name only the servers that match, the deep one stays
// small and says what it left out.

let host: TestHost;
let search: CatalogSearch;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcproxy-depths-'));
  host = new TestHost();
  await host.addStdio('everything', process.execPath, [EVERYTHING_ENTRY, 'stdio']);
  await host.addStdio('filesystem', process.execPath, [FILESYSTEM_ENTRY, dir]);
  await host.addStdio('memory', process.execPath, [MEMORY_ENTRY], { env: { MEMORY_FILE_PATH: join(dir, 'm.jsonl') } });
  search = new CatalogSearch(host);
});

afterAll(async () => {
  search.close();
  await host.close();
  await rm(dir, { recursive: true, force: true });
});

describe('depths that narrow', () => {
  it('depth 0 names only the servers with a tool close to the best match', () => {
    expect(search.search({ query: 'read a text file', max_depth: 0 }).servers?.map((s) => s.name)).toEqual([
      'filesystem',
    ]);
    expect(search.search({ query: 'delete entities from the knowledge graph', max_depth: 0 })).toMatchObject({
      total: 1,
      servers: [{ name: 'memory' }],
    });
    // No query: every server, by name.
    expect(search.search({ query: '', max_depth: 0 }).servers?.map((s) => s.name)).toEqual([
      'everything',
      'filesystem',
      'memory',
    ]);
  });

  it('depth 1 counts only the matching tools of each matching server', () => {
    const [memory, ...others] = search.search({ query: 'delete entities and relations', max_depth: 1 }).servers ?? [];
    expect(others).toEqual([]);
    expect(memory?.name).toBe('memory');
    expect(memory?.groups?.[0]).toEqual({ name: 'delete', count: memory?.tools });
    expect(memory?.tools).toBeLessThan(host.listTools().filter((t) => t.server === 'memory').length);
  });
});

describe('a compact depth 3', () => {
  it('answers a typical query in under 3 KB at the default limit, and says what it cut', () => {
    for (const query of ['read a file', 'list directory contents', 'create entities', 'echo a message']) {
      const result = search.search({ query, max_depth: 3 });
      expect(result.tools).toHaveLength(Math.min(5, result.total));
      expect(result.tools?.every((tool) => typeof tool.signature === 'string')).toBe(true);
      expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThan(3 * 1024);
      if (result.total > 5) expect(result.cut).toMatch(/^\d+ more tools match \(raise limit\)/);
    }
    const long = search.search({ query: 'read_text_file', max_depth: 3, limit: 1 });
    expect(long.tools?.[0]?.name).toBe('read_text_file');
    expect(long.tools?.[0]?.description?.endsWith('…')).toBe(true);
    expect(long.cut).toContain('1 descriptions shortened to 240 characters (api.manifest() has them whole)');
  });
});
