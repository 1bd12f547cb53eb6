import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  ACCESS_ENV,
  bearer,
  connectHttp,
  connectSse,
  expectNoSecrets,
  householdConfig,
  INITIALIZE,
  rawRequest,
  SECRETS,
  SERVER_SECRET,
  textOf,
  TOKENS,
  toolNames,
} from './access-helpers.js';

// The same household behind three gateways: tools exposed directly, in code mode and in meta mode.
let dir: TempDir;
let direct: GatewayProcess;
let code: GatewayProcess;
let meta: GatewayProcess;
const ALICE = bearer(TOKENS.ALICE_TOKEN);
const BOB = bearer(TOKENS.BOB_TOKEN);

beforeAll(async () => {
  dir = await createTempDir();
  const start = async (name: string, args: string[] = []) =>
    startGatewayProcess({
      configPath: await dir.write(`${name}.json`, householdConfig({ audit: { path: `${name}-audit.jsonl` } })),
      args: ['--log-level', 'debug', ...args],
      env: ACCESS_ENV,
    });
  [direct, code, meta] = await Promise.all([
    start('direct'),
    start('code', ['--mode', 'code']),
    start('meta', ['--mode', 'meta']),
  ]);
});

afterAll(async () => {
  await Promise.all([direct?.stop(), code?.stop(), meta?.stop()]);
  // Every line each gateway logged (at debug, with request bodies), and every audit line: no secret.
  const audits = await Promise.all(['direct', 'code', 'meta'].map((name) => dir.read(`${name}-audit.jsonl`)));
  const lines = [direct, code, meta].flatMap((gateway) => [...gateway.stdout, ...gateway.stderr]);
  expectNoSecrets([...lines, ...audits.join('').split('\n')]);
  await dir?.[Symbol.asyncDispose]();
});

async function withClient<T>(client: Promise<Client>, use: (client: Client) => Promise<T>): Promise<T> {
  const connected = await client;
  try {
    return await use(connected);
  } finally {
    await connected.close();
  }
}

function jsonOf<T>(result: Awaited<ReturnType<Client['callTool']>>): T {
  return JSON.parse(textOf(result)) as T;
}

describe('a public credential cannot list, find or call a system tool by any route', () => {
  it('Streamable HTTP at /mcp: lists public tools only, calls to db__ fail', async () => {
    await withClient(connectHttp(`${direct.url}/mcp`, ALICE), async (client) => {
      const names = await toolNames(client);
      expect(names).toContain('wiki__echo');
      expect(names.filter((name) => !name.startsWith('wiki__'))).toEqual([]);
      await expect(client.callTool({ name: 'db__echo', arguments: { message: 'x' } })).rejects.toThrow(/unknown tool/);
      // Secrets in a request are logged at debug level masked (afterAll scans every line).
      const message = `${TOKENS.ALICE_TOKEN} ${SERVER_SECRET}`;
      expect(textOf(await client.callTool({ name: 'wiki__echo', arguments: { message } }))).toBe(message);
    });
    await waitFor(() => direct.stdout.some((line) => line.includes('wiki__echo') && line.includes('[redacted]')));
  });

  it('/ns/system/mcp, /ns/system/sse and /mcp/db refuse it with 403, anonymous clients with 401', async () => {
    for (const path of ['/ns/system/mcp', '/mcp/db']) {
      expect((await rawRequest(`${direct.url}${path}`, { body: INITIALIZE, headers: ALICE })).status).toBe(403);
      const anonymous = await rawRequest(`${direct.url}${path}`, { body: INITIALIZE });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="mcproxy"');
    }
    expect((await rawRequest(`${direct.url}/ns/system/sse`, { headers: ALICE })).status).toBe(403);
    expect((await rawRequest(`${direct.url}/ns/crypto/mcp`, { body: INITIALIZE, headers: ALICE })).status).toBe(403);
  });

  it('HTTP+SSE at /sse: lists public tools only', async () => {
    await withClient(connectSse(`${direct.url}/sse`, ALICE), async (client) => {
      expect((await toolNames(client)).every((name) => name.startsWith('wiki__'))).toBe(true);
      await expect(client.callTool({ name: 'db__echo', arguments: { message: 'x' } })).rejects.toThrow(/unknown tool/);
    });
  });

  it('bare POSTs to /sse and /message: lists public tools only, calls to db__ fail', async () => {
    const listed = await rawRequest(`${direct.url}/message`, {
      headers: ALICE,
      body: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
    });
    const tools = (listed.json().result as { tools: { name: string }[] }).tools.map((tool) => tool.name);
    expect(tools.length).toBeGreaterThan(0);
    expect(tools.every((name) => name.startsWith('wiki__'))).toBe(true);
    const called = await rawRequest(`${direct.url}/sse`, {
      headers: ALICE,
      body: { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'db__echo', arguments: { message: 'x' } } },
    });
    expect(called.json().error?.message).toMatch(/unknown tool/);
  });

  it('code mode: search does not find it, not even with namespace "system"; execute cannot call it', async () => {
    await withClient(connectHttp(`${code.url}/mcp`, ALICE), async (client) => {
      const all = textOf(await client.callTool({ name: 'search', arguments: { query: '', max_depth: 0 } }));
      expect(all).toContain('wiki');
      expect(all).not.toContain('db');
      const narrowed = jsonOf<{ tools?: unknown[]; servers?: unknown[] }>(
        await client.callTool({ name: 'search', arguments: { query: 'echo', namespace: 'system' } }),
      );
      expect(narrowed.tools ?? []).toEqual([]);
      for (const args of [
        { code: "return await api.call_tool('db', 'echo', { message: 'x' })" },
        { code: "return await api.call_tool('db', 'echo', { message: 'x' })", namespace: 'system' },
        { code: "return await api.server('db').echo({ message: 'x' })" },
      ]) {
        const answer = jsonOf<{ ok: boolean; error?: { message: string } }>(
          await client.callTool({ name: 'execute', arguments: args }),
        );
        expect(answer.ok).toBe(false);
      }
      const manifest = jsonOf<{ ok: boolean; result: unknown }>(
        await client.callTool({ name: 'execute', arguments: { code: 'return api.manifest()' } }),
      );
      expect(JSON.stringify(manifest.result)).not.toContain('"db"');
    });
  });

  it('meta mode: gateway_list_servers, gateway_list_tools and gateway_invoke do not reach it', async () => {
    await withClient(connectHttp(`${meta.url}/mcp`, ALICE), async (client) => {
      const servers = textOf(await client.callTool({ name: 'gateway_list_servers', arguments: {} }));
      expect(servers).toContain('"wiki"');
      expect(servers).not.toContain('"db"');
      const inSystem = jsonOf<{ servers: unknown[] }>(
        await client.callTool({ name: 'gateway_list_servers', arguments: { namespace: 'system' } }),
      );
      expect(inSystem.servers).toEqual([]);
      const tools = await client.callTool({ name: 'gateway_list_tools', arguments: { server: 'db' } });
      expect(tools.isError).toBe(true);
      for (const namespace of [undefined, 'system']) {
        const invoked = await client.callTool({
          name: 'gateway_invoke',
          arguments: { server: 'db', tool: 'echo', arguments: { message: 'x' }, ...(namespace ? { namespace } : {}) },
        });
        expect(invoked.isError).toBe(true);
        expect(textOf(invoked)).toMatch(/unknown server "db"/);
      }
    });
  });

  it('the credential that names the isolated namespace does reach it', async () => {
    await withClient(connectHttp(`${direct.url}/ns/system/mcp`, bearer(TOKENS.ROOT_TOKEN)), async (client) => {
      expect(await toolNames(client)).toContain('db__echo');
      const result = await client.callTool({ name: 'db__echo', arguments: { message: 'root' } });
      expect(textOf(result)).toBe('root');
    });
  });
});

describe('a denied tool (covalent/add, denied by crypto) is out of reach by every route', () => {
  it('a direct call at /mcp, and its listing', async () => {
    await withClient(connectHttp(`${direct.url}/mcp`, BOB), async (client) => {
      const names = await toolNames(client);
      expect(names).toEqual(expect.arrayContaining(['covalent__echo', 'wiki__add']));
      expect(names).not.toContain('covalent__add');
      await expect(client.callTool({ name: 'covalent__add', arguments: { a: 1, b: 2 } })).rejects.toThrow(
        /unknown tool/,
      );
      expect(textOf(await client.callTool({ name: 'covalent__echo', arguments: { message: 'ok' } }))).toBe('ok');
    });
  });

  it('/mcp/covalent, which also respects the credential', async () => {
    await withClient(connectHttp(`${direct.url}/mcp/covalent`, BOB), async (client) => {
      const names = await toolNames(client);
      expect(names).toContain('echo');
      expect(names).not.toContain('add');
      await expect(client.callTool({ name: 'add', arguments: { a: 1, b: 2 } })).rejects.toThrow(/unknown tool/);
    });
    expect((await rawRequest(`${direct.url}/mcp/covalent`, { body: INITIALIZE, headers: ALICE })).status).toBe(403);
  });

  it('search and execute in code mode', async () => {
    await withClient(connectHttp(`${code.url}/mcp`, BOB), async (client) => {
      const found = jsonOf<{ tools: { server: string; name: string }[] }>(
        await client.callTool({ name: 'search', arguments: { query: 'add', max_depth: 2 } }),
      );
      expect(found.tools.some((tool) => tool.server === 'wiki' && tool.name === 'add')).toBe(true);
      expect(found.tools.some((tool) => tool.server === 'covalent' && tool.name === 'add')).toBe(false);
      const denied = jsonOf<{ ok: boolean }>(
        await client.callTool({
          name: 'execute',
          arguments: { code: "return await api.call_tool('covalent', 'add', { a: 1, b: 2 })" },
        }),
      );
      expect(denied.ok).toBe(false);
      const allowed = jsonOf<{ ok: boolean; result: unknown }>(
        await client.callTool({
          name: 'execute',
          arguments: { code: "return await api.call_tool('covalent', 'echo', { message: 'inner' })" },
        }),
      );
      expect(allowed).toMatchObject({ ok: true, result: 'inner' });
    });
  });

  it('gateway_invoke, gateway_list_tools and gateway_search_tools in meta mode', async () => {
    await withClient(connectHttp(`${meta.url}/mcp`, BOB), async (client) => {
      const invoked = await client.callTool({
        name: 'gateway_invoke',
        arguments: { server: 'covalent', tool: 'add', arguments: { a: 1, b: 2 } },
      });
      expect(invoked.isError).toBe(true);
      const listed = textOf(await client.callTool({ name: 'gateway_list_tools', arguments: { server: 'covalent' } }));
      expect(listed).toContain('"echo"');
      expect(listed).not.toContain('"add"');
      const searched = jsonOf<{ tools: { server: string; name: string }[] }>(
        await client.callTool({ name: 'gateway_search_tools', arguments: { query: 'add' } }),
      );
      expect(searched.tools.some((tool) => tool.server === 'covalent' && tool.name === 'add')).toBe(false);
      const echoed = await client.callTool({
        name: 'gateway_invoke',
        arguments: { server: 'covalent', tool: 'echo', arguments: { message: 'meta' } },
      });
      expect(textOf(echoed)).toBe('meta');
    });
  });
});

describe('audit log', () => {
  interface AuditLine {
    credential: string | null;
    namespace: string | null;
    server: string;
    tool: string;
    outcome: string;
    endpoint: string;
    duration_ms: number;
  }
  const read = async (name: string): Promise<AuditLine[]> =>
    (await dir.read(`${name}-audit.jsonl`))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditLine);

  it('records direct calls, execute’s inner calls and gateway_invoke, with the credential id, never the token', async () => {
    await withClient(connectHttp(`${direct.url}/ns/crypto/mcp`, BOB), async (client) => {
      await client.callTool({ name: 'covalent__echo', arguments: { message: 'audited' } });
      await expect(client.callTool({ name: 'covalent__add', arguments: { a: 1, b: 2 } })).rejects.toThrow();
    });
    const directLines = await waitFor(async () => {
      const lines = await read('direct');
      return lines.some((line) => line.endpoint === '/ns/crypto/mcp' && line.outcome === 'denied') && lines;
    });
    expect(directLines).toContainEqual(
      expect.objectContaining({
        credential: 'bob',
        namespace: 'crypto',
        server: 'covalent',
        tool: 'echo',
        outcome: 'ok',
      }),
    );
    expect(directLines).toContainEqual(
      expect.objectContaining({ credential: 'bob', server: 'covalent', tool: 'add', outcome: 'denied' }),
    );
    await waitFor(async () => (await read('code')).some((line) => line.credential === 'bob' && line.tool === 'echo'));
    await waitFor(async () => (await read('meta')).some((line) => line.credential === 'bob' && line.tool === 'echo'));
    const raw = [await dir.read('direct-audit.jsonl'), await dir.read('code-audit.jsonl')].join('');
    for (const secret of SECRETS) expect(raw).not.toContain(secret);
  });
});
