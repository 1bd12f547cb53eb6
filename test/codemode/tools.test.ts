import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createMetaTools } from '../../src/codemode/meta-tools.js';
import { SandboxPool } from '../../src/codemode/sandbox-pool.js';
import { writeStubs } from '../../src/codemode/stubs.js';
import { createCodeModeTools, type GatewayToolSet } from '../../src/codemode/tools.js';
import { isGatewayError } from '../../src/errors.js';
import { EVERYTHING_ENTRY, FILESYSTEM_ENTRY, MANY_TOOLS_ENTRY, MEMORY_ENTRY, TestHost } from './host.js';

const execFileAsync = promisify(execFile);
let realServers: TestHost;
let manyTools: TestHost;
let dir: string;
let pool: SandboxPool;

const textOf = (result: { content: unknown[] }): string => (result.content[0] as { text: string }).text;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcproxy-codemode-'));
  await writeFile(join(dir, 'hello.txt'), 'hello from the filesystem server\n');
  realServers = new TestHost();
  await Promise.all([
    realServers.addStdio('everything', process.execPath, [EVERYTHING_ENTRY, 'stdio']),
    realServers.addStdio('memory', process.execPath, [MEMORY_ENTRY], {
      env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') },
    }),
    realServers.addStdio('filesystem', process.execPath, [FILESYSTEM_ENTRY, dir]),
  ]);
  manyTools = new TestHost();
  await manyTools.addStdio('fixture', process.execPath, [MANY_TOOLS_ENTRY], { env: { TOOL_COUNT: '200' } });
  pool = new SandboxPool({ maxConcurrent: 2, maxQueue: 4 });
});

afterAll(async () => {
  await pool.close();
  await realServers.close();
  await manyTools.close();
  await rm(dir, { recursive: true, force: true });
});

describe('code mode tools/list', () => {
  it('is at most 1,200 bytes with the three real servers and with 200 fixture tools', async () => {
    const sizes: number[] = [];
    for (const host of [realServers, manyTools]) {
      const tools = createCodeModeTools(host, { pool });
      sizes.push(Buffer.byteLength(JSON.stringify({ tools: tools.definitions })));
      expect(tools.definitions.map((t) => t.name)).toEqual(['search', 'execute']);
      await tools.close();
    }
    expect(manyTools.listTools()).toHaveLength(200);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1_200);
    // The definitions do not depend on the catalog: both sizes are the same.
    expect(sizes[0]).toBe(sizes[1]);
  });

  it('searches and executes against the three real servers', async () => {
    const tools = createCodeModeTools(realServers, { pool, sandbox: { timeout_secs: 10 } });
    const found = JSON.parse(textOf(await tools.call('search', { query: 'read file', max_depth: 2, limit: 3 })));
    expect(found.tools[0]).toMatchObject({ server: 'filesystem' });
    const code = `
      const [echo, sum, file] = await Promise.all([
        api.call_tool('everything', 'echo', { message: 'hi' }),
        api.server('everything').get_sum({ a: 2, b: 3 }),
        api.call_tool('filesystem', 'read_text_file', { path: ${JSON.stringify(join(dir, 'hello.txt'))} }),
      ]);
      await api.call_tool('memory', 'create_entities', { entities: [{ name: 'Ada', entityType: 'person', observations: ['wrote code'] }] });
      const graph = await api.call_tool('memory', 'read_graph', {});
      return { echo, sum, file, people: graph.entities.map((e) => e.name) };`;
    const result = await tools.call('execute', { code });
    expect(result.structuredContent).toMatchObject({
      ok: true,
      result: {
        echo: 'Echo: hi',
        file: { content: 'hello from the filesystem server\n' },
        people: ['Ada'],
      },
    });
    expect(JSON.stringify((result.structuredContent as { result: { sum: unknown } }).result.sum)).toMatch(/5/);
    await tools.close();
  });

  it('validates arguments and rejects unknown tool names', async () => {
    const tools = createCodeModeTools(realServers, { pool });
    const bad = await tools.call('search', { max_depth: 7 });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/max_depth/);
    await expect(tools.call('nope', {})).rejects.toSatisfy((error) => isGatewayError(error, 'TOOL_NOT_FOUND'));
    await tools.close();
  });
});

describe('meta mode', () => {
  let meta: GatewayToolSet;
  beforeAll(() => {
    meta = createMetaTools(realServers);
  });
  afterAll(async () => {
    await meta.close();
  });

  it('defines the four tools', () => {
    expect(meta.definitions.map((t) => t.name)).toEqual([
      'gateway_list_servers',
      'gateway_list_tools',
      'gateway_search_tools',
      'gateway_invoke',
    ]);
  });

  it('lists servers and their tools', async () => {
    const servers = JSON.parse(textOf(await meta.call('gateway_list_servers', {}))).servers;
    expect(servers.map((s: { name: string }) => s.name).sort()).toEqual(['everything', 'filesystem', 'memory']);
    const memory = JSON.parse(textOf(await meta.call('gateway_list_tools', { server: 'memory' })));
    expect(memory.tools.map((t: { name: string }) => t.name)).toContain('create_entities');
    expect(memory.tools[0].inputSchema).toMatchObject({ type: 'object' });
    const unknown = await meta.call('gateway_list_tools', { server: 'memry' });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toBe('unknown server "memry". Did you mean memory?');
  });

  it('searches across servers', async () => {
    const found = JSON.parse(textOf(await meta.call('gateway_search_tools', { query: 'echo' })));
    expect(found.tools[0]).toEqual({ server: 'everything', name: 'echo', description: 'Echoes back the input string' });
  });

  it('invokes a tool and returns its own result', async () => {
    const result = await meta.call('gateway_invoke', {
      server: 'everything',
      tool: 'echo',
      arguments: { message: 'hey' },
    });
    expect(result.content).toEqual([{ type: 'text', text: 'Echo: hey' }]);
    const missing = await meta.call('gateway_invoke', { server: 'everything', tool: 'ecoh' });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toBe('unknown tool "ecoh" on server "everything". Did you mean echo?');
    const invalid = await meta.call('gateway_invoke', { server: 'everything' });
    expect(invalid.isError).toBe(true);
  });
});

describe('stubs for 200 fixture tools and the real servers', () => {
  it('pass tsc --noEmit', async () => {
    const out = join(dir, 'stubs');
    const tools = [...realServers.listTools(), ...manyTools.listTools()];
    expect(tools.length).toBeGreaterThan(200);
    const [stubs] = await writeStubs(tools, out);
    // tsc passes an empty file too: every tool must be declared in what it checks.
    expect((await readFile(stubs!, 'utf8')).match(/^ {2}[\w$]+\(args\??: /gm)).toHaveLength(tools.length);
    const tsc = resolve('node_modules/typescript/bin/tsc');
    // The stubs alone (`--typeRoots` the output): not the repo's own @types, which no user compiles them with.
    await execFileAsync(process.execPath, [
      tsc,
      ...['--noEmit', '--strict', '--lib', 'es2022', '--typeRoots', out],
      join(out, 'index.d.ts'),
    ]);
  });
});
