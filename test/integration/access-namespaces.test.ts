import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess, startGatewayStdio } from '../helpers/gateway-process.js';
import { fixturePath, GATEWAY_MAIN } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  bearer,
  connectHttp,
  connectSse,
  expectNoSecrets,
  INITIALIZE,
  rawRequest,
  textOf,
  toolNames,
} from './access-helpers.js';

const run = promisify(execFile);
const ROOT_TOKEN = 'root-namespaces-8e2c4a6f0b1d';
const ALL_TOKEN = 'all-namespaces-3f7b9d1e5c2a';
const ENV = { ROOT_TOKEN, ALL_TOKEN };

const ok = (name: string) => ({ command: process.execPath, args: [fixturePath('ok')], env: { FIXTURE_NAME: name } });

let dir: TempDir;
let configPath: string;
let gateway: GatewayProcess;
const logs: string[] = [];

beforeAll(async () => {
  dir = await createTempDir();
  configPath = await dir.write('namespaces.json', {
    servers: { a: ok('a'), b: ok('b'), c: ok('c'), d: ok('d'), e: ok('e') },
    auth: {
      // Open by default, as a gateway without credentials would be; only `system` closes itself (isolated).
      require_auth: false,
      tokens: [
        { id: 'root', token: '${ROOT_TOKEN}', namespaces: ['system'] },
        { id: 'all', token: '${ALL_TOKEN}' },
      ],
    },
    namespaces: {
      public: ['a'],
      crypto: { extends: 'public', servers: ['b'] },
      tools: ['c'],
      multi: { extends: ['crypto', 'tools'] },
      alone: { extends: null, servers: ['d'] },
      codey: { extends: 'public', mode: 'code' },
      system: { servers: ['e'], isolated: true, mode: 'meta' },
    },
  });
  gateway = await startGatewayProcess({ configPath, env: ENV });
});

afterAll(async () => {
  await gateway?.stop();
  expectNoSecrets([...gateway.stdout, ...gateway.stderr, ...logs], Object.values(ENV));
  await dir?.[Symbol.asyncDispose]();
});

async function serversAt(path: string, headers: Record<string, string> = {}): Promise<string[]> {
  const client = await connectHttp(`${gateway.url}${path}`, headers);
  try {
    return [...new Set((await toolNames(client)).map((name) => name.split('__')[0]!))].sort();
  } finally {
    await client.close();
  }
}

describe('extends', () => {
  it('a name: the parent’s servers are included, over Streamable HTTP and HTTP+SSE alike', async () => {
    expect(await serversAt('/ns/crypto/mcp')).toEqual(['a', 'b']);
    const sse = await connectSse(`${gateway.url}/ns/crypto/sse`);
    expect((await toolNames(sse)).some((name) => name.startsWith('b__'))).toBe(true);
    expect((await toolNames(sse)).some((name) => name.startsWith('c__'))).toBe(false);
    await sse.close();
    // The stream announces the namespace's own message path.
    const controller = new AbortController();
    const stream = await fetch(`${gateway.url}/ns/crypto/sse`, { signal: controller.signal });
    const { value } = await stream.body!.getReader().read();
    controller.abort();
    expect(new TextDecoder().decode(value)).toMatch(/event: endpoint\ndata: \/ns\/crypto\/message\?sessionId=/);
  });

  it('a list: every parent’s servers, and theirs', async () => {
    expect(await serversAt('/ns/multi/mcp')).toEqual(['a', 'b', 'c']);
  });

  it('null: its own servers only', async () => {
    expect(await serversAt('/ns/alone/mcp')).toEqual(['d']);
  });

  it('a namespace’s mode applies on its endpoint', async () => {
    const client = await connectHttp(`${gateway.url}/ns/codey/mcp`);
    expect(await toolNames(client)).toEqual(['execute', 'search']);
    const found = textOf(await client.callTool({ name: 'search', arguments: { query: '', max_depth: 0 } }));
    expect(found).toContain('"a"');
    expect(found).not.toContain('"b"');
    await client.close();
  });
});

describe('isolated', () => {
  it('is reachable only with a credential naming it, not anonymously nor with an all-namespaces credential', async () => {
    expect(await serversAt('/mcp')).toEqual(['a', 'b', 'c', 'd']);
    expect(await serversAt('/mcp', bearer(ALL_TOKEN))).toEqual(['a', 'b', 'c', 'd']);
    expect((await rawRequest(`${gateway.url}/ns/system/mcp`, { body: INITIALIZE })).status).toBe(401);
    expect(
      (await rawRequest(`${gateway.url}/ns/system/mcp`, { body: INITIALIZE, headers: bearer(ALL_TOKEN) })).status,
    ).toBe(403);
    expect((await rawRequest(`${gateway.url}/mcp/e`, { body: INITIALIZE, headers: bearer(ALL_TOKEN) })).status).toBe(
      403,
    );
    const root = await connectHttp(`${gateway.url}/ns/system/mcp`, bearer(ROOT_TOKEN));
    expect((await toolNames(root)).every((name) => name.startsWith('gateway_'))).toBe(true);
    const servers = textOf(await root.callTool({ name: 'gateway_list_servers', arguments: {} }));
    expect(servers).toContain('"e"');
    expect(servers).not.toContain('"a"');
    await root.close();
  });

  it('cannot be extended, nor share its servers: both are config errors', async () => {
    const path = await dir.write('bad-isolated.json', {
      servers: { e: ok('e') },
      namespaces: { system: { servers: ['e'], isolated: true }, sneaky: { extends: 'system', servers: ['e'] } },
    });
    const { stderr } = await check(path);
    expect(stderr).toContain(`${path}:21:7: namespaces.sneaky.extends: cannot extend "system": it is isolated`);
    expect(stderr).toContain(
      `${path}:14:5: namespaces.system: server "e" of isolated namespace "system" is also in "sneaky"`,
    );
  });
});

describe('config errors name the file and the field', () => {
  it('cycles, unknown servers and unknown parents', async () => {
    const path = await dir.write(
      'bad.yaml',
      [
        'servers:',
        '  a: { command: x }',
        'namespaces:',
        '  one: { extends: two, servers: [a] }',
        '  two: { extends: [one] }',
        '  three: { extends: nope, servers: [b] }',
        '',
      ].join('\n'),
    );
    const { code, stderr } = await check(path);
    expect(code).toBe(1);
    expect(stderr).toContain(`${path}:4:10: namespaces.one.extends: inheritance cycle: one → two → one`);
    expect(stderr).toContain(`${path}:6:12: namespaces.three.extends: unknown namespace "nope"`);
    expect(stderr).toContain(`${path}:6:37: namespaces.three.servers[0]: unknown server "b"`);
  });

  it('odd namespace names', async () => {
    const path = await dir.write('odd.json', { servers: {}, namespaces: { '../system': [], pübl: [] } });
    const { stderr } = await check(path);
    expect(stderr).toMatch(/namespaces\["\.\.\/system"\]: invalid name: a namespace name may contain only/);
  });
});

describe('stdio', () => {
  it('is local: everything, isolated namespaces included, or one namespace with --namespace', async () => {
    const everything = await startGatewayStdio({ configPath, env: ENV });
    const names = (await everything.client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['a__echo', 'e__echo']));
    logs.push(...everything.stderr);
    await everything.close();

    const alone = await startGatewayStdio({ configPath, env: ENV, args: ['--namespace', 'alone'] });
    const aloneNames = (await alone.client.listTools()).tools.map((tool) => tool.name);
    expect(aloneNames.length).toBeGreaterThan(0);
    expect(aloneNames.every((name) => name.startsWith('d__'))).toBe(true);
    logs.push(...alone.stderr);
    await alone.close();

    const unknown = await run(
      process.execPath,
      [GATEWAY_MAIN, '--stdio', '--config', configPath, '--namespace', 'nope'],
      {
        env: { ...process.env, ...ENV },
      },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('--namespace: no namespace "nope"');
  });
});

async function check(path: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [GATEWAY_MAIN, 'check', path]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('reload', () => {
  it('a credential removed from the config stops working at once, on open sessions too', async () => {
    const reloadPath = await dir.write('reload.json', {
      servers: { a: ok('a') },
      auth: {
        tokens: [
          { id: 'root', token: '${ROOT_TOKEN}' },
          { id: 'all', token: '${ALL_TOKEN}' },
        ],
      },
    });
    const reloading = await startGatewayProcess({
      configPath: reloadPath,
      env: ENV,
      args: ['--reload-interval', '0.1'],
    });
    try {
      const client = await connectHttp(`${reloading.url}/mcp`, bearer(ROOT_TOKEN));
      expect(await toolNames(client)).toContain('a__echo');
      await dir.write('reload.json', {
        servers: { a: ok('a') },
        auth: { tokens: [{ id: 'all', token: '${ALL_TOKEN}' }] },
      });
      await waitFor(
        async () =>
          (await rawRequest(`${reloading.url}/mcp`, { body: INITIALIZE, headers: bearer(ROOT_TOKEN) })).status === 401,
        { message: 'the removed credential is refused' },
      );
      await expect(client.listTools()).rejects.toThrow();
      await client.close().catch(() => {});
      expect((await rawRequest(`${reloading.url}/mcp`, { body: INITIALIZE, headers: bearer(ALL_TOKEN) })).status).toBe(
        200,
      );
    } finally {
      await reloading.stop();
      logs.push(...reloading.stdout, ...reloading.stderr);
    }
  });
});
