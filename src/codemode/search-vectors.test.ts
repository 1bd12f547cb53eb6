import { describe, expect, it } from 'vitest';

import type { CatalogServer, CatalogTool } from '../catalog/types.js';
import { CatalogSearch } from './search.js';
import { sharedWordVectorsRead } from './word-vectors.js';

const TOOLS: Array<[string, string, string]> = [
  ['everything', 'get-sum', 'Returns the sum of two numbers'],
  ['everything', 'echo', 'Echoes back the input string'],
  ['filesystem', 'create_directory', 'Create a new directory or ensure a directory exists.'],
  ['filesystem', 'read_text_file', 'Read the complete contents of a file as text.'],
];

function host() {
  const tools: CatalogTool[] = TOOLS.map(([server, name, description]) => ({
    publicName: `${server}__${name}`,
    server,
    originalName: name,
    definition: { name: `${server}__${name}`, description, inputSchema: { type: 'object' } },
  }));
  return {
    listServers: (): CatalogServer[] =>
      [...new Set(tools.map((t) => t.server))].map((name) => ({ name, state: 'ready', toolCount: 0 })),
    listTools: () => tools,
    callTool: () => Promise.reject(new Error('not used')),
    onCatalogChanged: () => () => {},
  };
}

// Its own file: the vectors are read once per process, and this checks when.
describe('search with word vectors', () => {
  it('reads the vectors at the first ranking search, not before', () => {
    const search = new CatalogSearch(host());
    search.search({ query: '', max_depth: 2 });
    expect(sharedWordVectorsRead()).toBe(false);
    search.search({ query: 'echo', max_depth: 2 });
    expect(sharedWordVectorsRead()).toBe(true);
  });

  it('finds a tool that shares no word with the query by meaning; without vectors (or WordNet) it does not', () => {
    const names = (search: CatalogSearch, query: string) => search.rank(query).map((t) => t.originalName);
    const vectorsOnly = new CatalogSearch(host(), { synonyms: false });
    // `addition` is near `new` and `create` too, so create_directory may follow; `echo` is near neither word.
    expect(names(vectorsOnly, 'addition of integers')[0]).toBe('get-sum');
    expect(names(vectorsOnly, 'addition of integers')).not.toContain('echo');
    expect(names(vectorsOnly, 'the total of a few values')[0]).toBe('get-sum');
    expect(names(vectorsOnly, 'add a folder')[0]).toBe('create_directory');
    const neither = new CatalogSearch(host(), { synonyms: false, vectors: false });
    expect(names(neither, 'addition of integers')).toEqual([]);
    expect(names(neither, 'add a folder')).toEqual([]);
  });

  it("reads a tool's meaning from the title in its annotations too", () => {
    const tool = (name: string, description: string, title: string): CatalogTool => ({
      publicName: `web__${name}`,
      server: 'web',
      originalName: name,
      definition: { name: `web__${name}`, description, annotations: { title }, inputSchema: { type: 'object' } },
    });
    const tools = [
      tool('tool_one', 'Runs the first job.', 'Send an email'),
      tool('tool_two', 'Runs the second job.', ''),
    ];
    const titled = {
      listServers: (): CatalogServer[] => [{ name: 'web', state: 'ready', toolCount: tools.length }],
      listTools: () => tools,
      callTool: () => Promise.reject(new Error('not used')),
      onCatalogChanged: () => () => {},
    };
    const search = new CatalogSearch(titled, { synonyms: false });
    expect(search.rank('mail a message').map((t) => t.originalName)).toEqual(['tool_one']);
    search.close();
  });

  it('still finds nothing for a query about what no tool does', () => {
    expect(new CatalogSearch(host()).rank('weather forecast')).toEqual([]);
  });
});
