import { describe, expect, it } from 'vitest';

import type { CatalogServer, CatalogTool } from '../catalog/types.js';
import type { CodeModeHost } from './host.js';
import { CatalogSearch, splitWords, summary, toolGroup } from './search.js';

/** A static catalog behind the host interface (search never calls tools). */
function catalogHost(entries: Array<[server: string, tool: string, description: string, params?: string[]]>) {
  let listener: (() => void) | undefined;
  let tools: CatalogTool[] = [];
  const host: CodeModeHost & { set(list: typeof entries): void } = {
    set(list) {
      tools = list.map(([server, name, description, params = []]) => ({
        publicName: `${server}__${name}`,
        server,
        originalName: name,
        definition: {
          name: `${server}__${name}`,
          description,
          inputSchema: { type: 'object', properties: Object.fromEntries(params.map((p) => [p, { type: 'string' }])) },
        },
      }));
      listener?.();
    },
    listServers: (): CatalogServer[] =>
      [...new Set(tools.map((t) => t.server))].map((name) => ({ name, state: 'ready', toolCount: 0 })),
    listTools: () => tools,
    callTool: () => Promise.reject(new Error('not used')),
    onCatalogChanged(l) {
      listener = l;
      return () => (listener = undefined);
    },
  };
  host.set(entries);
  return host;
}

const CATALOG: Array<[string, string, string, string[]?]> = [
  ['everything', 'echo', 'Echoes back the input string', ['message']],
  ['everything', 'echo_twice', 'Echo the message two times', ['message']],
  ['chat', 'send_message', 'Send a message; the recipient sees an echo of it', ['channel', 'text']],
  ['github', 'listIssues', 'List issues of a repository', ['owner', 'repo']],
  ['github', 'repos.list', 'List repositories of a user', ['owner']],
  ['github', 'get_issue', 'Get one issue', ['owner', 'repo', 'number']],
  ['alpha', 'same', 'Identical text'],
  ['beta', 'same', 'Identical text'],
];

describe('ranking', () => {
  const search = new CatalogSearch(catalogHost(CATALOG));

  it('puts the exact tool name first', () => {
    expect(search.rank('echo').map((t) => `${t.server}/${t.originalName}`)).toEqual([
      'everything/echo',
      'everything/echo_twice',
      'chat/send_message',
    ]);
  });

  it('splits names on _ . - and camelCase, and matches parameter names', () => {
    expect(
      search
        .rank('issues')
        .map((t) => t.originalName)
        .sort(),
    ).toEqual(['get_issue', 'listIssues']);
    expect(search.rank('repos')[0]?.originalName).toBe('repos.list');
    expect(search.rank('recipient')[0]?.originalName).toBe('send_message');
    expect(search.rank('channel')[0]?.originalName).toBe('send_message');
  });

  it('breaks ties by server then tool name', () => {
    expect(search.rank('identical').map((t) => t.server)).toEqual(['alpha', 'beta']);
  });

  it('lists everything for an empty query, by server and name', () => {
    expect(search.rank('  ').map((t) => `${t.server}/${t.originalName}`)).toEqual([
      'alpha/same',
      'beta/same',
      'chat/send_message',
      'everything/echo',
      'everything/echo_twice',
      'github/get_issue',
      'github/listIssues',
      'github/repos.list',
    ]);
  });

  it('clamps depth and limit', () => {
    expect(search.search({ query: '', max_depth: 9, limit: 1 })).toMatchObject({ depth: 3, total: 8 });
    expect(search.search({ query: '', max_depth: -1, limit: 0 }).servers).toHaveLength(1);
  });

  it('prefers the tools of the server a query names over a closer match elsewhere', () => {
    const named = new CatalogSearch(
      catalogHost([
        ['wiki', 'search_pages', 'Search the pages of a wiki by their words', ['query']],
        ['notion', 'API-post-search', 'Notion | Search by title', ['query']],
      ]),
    );
    expect(named.rank('search pages')[0]?.server).toBe('wiki');
    expect(named.rank('search pages in notion')[0]?.server).toBe('notion');
    named.close();
  });

  it("matches the values an argument is limited to (an issue is closed through update_issue's state)", () => {
    const tool = (name: string, description: string, properties: Record<string, object>): CatalogTool => ({
      publicName: `github__${name}`,
      server: 'github',
      originalName: name,
      definition: { name: `github__${name}`, description, inputSchema: { type: 'object', properties } },
    });
    const tools = [
      tool('get_issue', 'Get details of a specific issue', { issue_number: { type: 'number' } }),
      tool('update_issue', 'Update an existing issue', {
        state: { type: 'string', enum: ['open', 'closed'] },
        labels: { type: 'array', items: { type: 'string', enum: ['bug', 'wontfix'] } },
      }),
    ];
    const host: CodeModeHost = {
      listServers: () => [{ name: 'github', state: 'ready', toolCount: tools.length }],
      listTools: () => tools,
      callTool: () => Promise.reject(new Error('not used')),
      onCatalogChanged: () => () => {},
    };
    const search = new CatalogSearch(host, { synonyms: false, vectors: false });
    expect(search.rank('close an issue')[0]?.originalName).toBe('update_issue');
    expect(search.rank('mark the issue wontfix')[0]?.originalName).toBe('update_issue');
    search.close();
  });
});

describe('depth 1 groups', () => {
  it('groups by the part before a dot, else the first word', () => {
    expect(toolGroup('repos.list')).toBe('repos');
    expect(toolGroup('get_issue')).toBe('get');
    expect(toolGroup('listIssues')).toBe('list');
    expect(toolGroup('echo')).toBe('echo');
    const github = new CatalogSearch(catalogHost(CATALOG))
      .search({ query: '', max_depth: 1 })
      .servers?.find((s) => s.name === 'github');
    expect(github).toEqual({
      name: 'github',
      tools: 3,
      groups: [
        { name: 'get', count: 1 },
        { name: 'list', count: 1 },
        { name: 'repos', count: 1 },
      ],
    });
  });
});

describe('catalog changes', () => {
  it('rebuilds the index on the next search after a change', () => {
    const host = catalogHost(CATALOG);
    const search = new CatalogSearch(host);
    expect(search.rank('weather')).toEqual([]);
    host.set([...CATALOG, ['weather', 'get_forecast', 'Weather forecast']]);
    expect(search.rank('weather')[0]?.originalName).toBe('get_forecast');
    search.close();
  });
});

describe('text helpers', () => {
  it('splits words', () => {
    expect(splitWords('getHTTPResponse_v2-final.json')).toEqual(['get', 'http', 'response', 'v2', 'final', 'json']);
  });

  it('summarises to the first sentence of the first line', () => {
    expect(summary('Does a thing. Then more.\nSecond line')).toBe('Does a thing.');
    expect(summary('x'.repeat(200))).toHaveLength(120);
  });
});
