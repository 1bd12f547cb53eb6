import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CatalogSearch } from '../../src/codemode/search.js';
import { writeStubs } from '../../src/codemode/stubs.js';
import { EVERYTHING_ENTRY, mathServer, TestHost, weatherServer } from './host.js';

const run = promisify(execFile);
let host: TestHost;
let search: CatalogSearch;
let extra: McpServer;

beforeAll(async () => {
  host = new TestHost();
  await host.addStdio('everything', process.execPath, [EVERYTHING_ENTRY, 'stdio'], {
    description: 'The MCP reference test server',
  });
  await host.addInMemory('weather', weatherServer(), { description: 'Forecasts and alerts' });
  await host.addInMemory('math', mathServer(), { description: 'Arithmetic' });
  extra = new McpServer({ name: 'extra', version: '1.0.0' });
  extra.registerTool('first', { description: 'The first tool.' }, () => ({ content: [] }));
  await host.addInMemory('extra', extra);
  search = new CatalogSearch(host);
});

afterAll(async () => {
  search.close();
  await host.close();
});

describe('search ranking', () => {
  it('ranks server-everything\'s echo first for "echo"', () => {
    const result = search.search({ query: 'echo', max_depth: 2 });
    expect(result.tools?.[0]).toEqual({
      server: 'everything',
      name: 'echo',
      description: 'Echoes back the input string',
    });
  });

  it('tolerates typos and prefixes', () => {
    expect(search.search({ query: 'ecko' }).tools?.[0]?.name).toBe('echo');
    expect(search.search({ query: 'forcast' }).tools?.[0]?.name).toBe('get_forecast');
    expect(search.search({ query: 'forec' }).tools?.[0]?.name).toBe('get_forecast');
    expect(search.search({ query: 'weather alerts' }).tools?.[0]?.name).toBe('get_alerts');
    expect(search.search({ query: 'sum numbers' }).tools?.[0]?.name).toBe('get-sum');
  });

  it('gives the same order every time', () => {
    const first = JSON.stringify(search.search({ query: 'get', max_depth: 2, limit: 50 }));
    search.close();
    search = new CatalogSearch(host);
    expect(JSON.stringify(search.search({ query: 'get', max_depth: 2, limit: 50 }))).toBe(first);
  });
});

describe('search depths', () => {
  it('depth 0: server names with descriptions; empty query lists every server by name', () => {
    expect(search.search({ query: '', max_depth: 0 })).toEqual({
      query: '',
      depth: 0,
      total: 4,
      servers: [
        { name: 'everything', description: 'The MCP reference test server' },
        { name: 'extra' },
        { name: 'math', description: 'Arithmetic' },
        { name: 'weather', description: 'Forecasts and alerts' },
      ],
    });
    expect(search.search({ query: 'forecast', max_depth: 0 }).servers?.[0]?.name).toBe('weather');
  });

  it('depth 1: servers with tool groups and counts', () => {
    const everything = search.search({ query: '', max_depth: 1 }).servers?.find((s) => s.name === 'everything');
    // server-everything's tool list depends on the client's capabilities, so count what the host sees.
    const names = host
      .listTools()
      .filter((t) => t.server === 'everything')
      .map((t) => t.originalName);
    expect(everything?.tools).toBe(names.length);
    expect(everything?.groups?.[0]).toEqual({ name: 'get', count: names.filter((n) => n.startsWith('get-')).length });
    expect(everything?.groups).toContainEqual({ name: 'toggle', count: 2 });
  });

  it('depth 2: tool names with one-line descriptions, limited', () => {
    const result = search.search({ query: '', max_depth: 2, limit: 3 });
    expect(result.total).toBe(host.listTools().length);
    expect(result.tools).toEqual([
      { server: 'everything', name: 'echo', description: 'Echoes back the input string' },
      {
        server: 'everything',
        name: 'get-annotated-message',
        description: 'Demonstrates how annotations can be used to provide metadata about content.',
      },
      {
        server: 'everything',
        name: 'get-env',
        description: expect.stringMatching(/^Returns all environment variables/),
      },
    ]);
  });

  it('depth 3: full input and output schemas as TypeScript', () => {
    const [forecast] = search.search({ query: 'get_forecast', max_depth: 3, limit: 1 }).tools ?? [];
    expect(forecast?.signature).toBe(
      [
        'get_forecast(args: {',
        '  /** City name */',
        '  city: string;',
        '  days?: number;',
        '}): Promise<{',
        '  city: string;',
        '  tempC: number;',
        '}>;',
      ].join('\n'),
    );
    const [sum] = search.search({ query: 'get-sum', max_depth: 3, limit: 1 }).tools ?? [];
    expect(sum?.signature).toMatch(/^\/\*\* @tool get-sum \*\/\nget_sum\(args: \{/);
  });

  it('shows a catalog change in the next search', async () => {
    expect(search.search({ query: 'second' }).tools?.some((t) => t.name === 'second')).toBe(false);
    extra.registerTool('second', { description: 'A tool added later.' }, () => ({ content: [] }));
    await host.refresh('extra');
    expect(search.search({ query: 'second' }).tools?.[0]).toEqual({
      server: 'extra',
      name: 'second',
      description: 'A tool added later.',
    });
  });
});

describe('typed stubs', () => {
  it('writes declarations for the real catalog that tsc accepts, and that type real calls', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcproxy-stubs-'));
    try {
      const written = await writeStubs(host.listTools(), dir);
      expect(written).toEqual([join(dir, 'index.d.ts')]);
      const text = await readFile(join(dir, 'index.d.ts'), 'utf8');
      expect(text).toContain('export interface EverythingServer {');
      expect(text).toContain('get_sum(args: {');
      await writeFile(
        join(dir, 'usage.ts'),
        [
          "import type { Servers } from './index.js';",
          'export async function use(): Promise<number> {',
          "  const forecast = await api.server('weather').get_forecast({ city: 'Oslo' });",
          "  await api.server('everything').get_sum({ a: 1, b: 2 });",
          "  const servers: Array<keyof Servers> = ['everything', 'math', 'weather', 'extra'];",
          '  return forecast.tempC + servers.length;',
          '}',
        ].join('\n'),
      );
      await writeFile(
        join(dir, 'misuse.ts'),
        "export const bad = api.server('weather').get_forecast({ town: 'Oslo' });\n",
      );
      const tsc = resolve('node_modules/typescript/bin/tsc');
      const flags = ['--noEmit', '--strict', '--target', 'es2022', '--lib', 'es2022', '--module', 'nodenext'];
      // One tsc run for both files (it is slow): only misuse.ts may have errors, and it must.
      const checked = await run(process.execPath, [tsc, ...flags, 'index.d.ts', 'usage.ts', 'misuse.ts'], {
        cwd: dir,
      }).catch((error: { stdout: string }) => error);
      const errors = checked.stdout.split('\n').filter((line) => /error TS/.test(line));
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every((line) => line.startsWith('misuse.ts'))).toBe(true);
      expect(errors.join('\n')).toMatch(/town/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
