// Lazy start and idle stop with real processes. Each server counts its own spawns in a file.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';

import type { HealthReport } from '../../src/gateway.js';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath, OK_FIXTURE_TOOL_COUNT } from '../helpers/paths.js';
import { listChildPids, waitForExit } from '../helpers/processes.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** ok.mjs behind a line appended to `spawnLog` at every start. */
function counted(dir: TempDir, name: string, extra: Record<string, unknown> = {}) {
  const spawnLog = dir.resolve(`${name}.spawns`);
  const script =
    `require('fs').appendFileSync(${JSON.stringify(spawnLog)}, process.pid + '\\n');` +
    `import(${JSON.stringify(pathToFileURL(fixturePath('ok')).href)});`;
  return { command: process.execPath, args: ['-e', script], ...extra };
}

async function spawnPids(dir: TempDir, name: string): Promise<number[]> {
  const text = await readFile(dir.resolve(`${name}.spawns`), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

async function spawns(dir: TempDir, name: string): Promise<number> {
  return (await spawnPids(dir, name)).length;
}

async function startGateway(dir: TempDir, servers: Record<string, object>): Promise<GatewayProcess> {
  const configPath = await dir.write('mcp.json', { mcpServers: servers });
  const gateway = await startGatewayProcess({ configPath });
  cleanups.push(() => gateway.stop());
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready')), { message: 'start-up' });
  return gateway;
}

async function connect(gateway: GatewayProcess): Promise<Client> {
  const client = new Client({ name: 'lazy-idle-test', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
  cleanups.push(() => client.close());
  return client;
}

async function health(gateway: GatewayProcess): Promise<HealthReport> {
  return (await (await fetch(`${gateway.url}/health`)).json()) as HealthReport;
}

async function echo(client: Client, tool: string): Promise<unknown> {
  return (await client.callTool({ name: tool, arguments: { message: 'hi' } })).content;
}

describe('lazy start', () => {
  it('does not spawn a lazy server until its first use, the first listing by a client', async () => {
    const dir = await createTempDir();
    cleanups.push(() => dir[Symbol.asyncDispose]());
    const gateway = await startGateway(dir, { a: counted(dir, 'a'), lz: counted(dir, 'lz', { lazy: true }) });

    const idle = await health(gateway);
    expect(idle.servers.lz).toMatchObject({ state: 'idle', restarts: 0, toolCount: 0 });
    expect(idle.servers.lz?.pid).toBeUndefined();
    expect(idle.status).toBe('ok');
    expect(listChildPids(gateway.pid)).toEqual([idle.servers.a?.pid]);
    const client = await connect(gateway); // initialising a session is not a use
    expect(await spawns(dir, 'lz')).toBe(0);

    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    expect(tools).toContain('lz__echo');
    expect(await spawns(dir, 'lz')).toBe(1);
    expect((await health(gateway)).servers.lz).toMatchObject({ state: 'ready', toolCount: OK_FIXTURE_TOOL_COUNT });
    expect(await echo(client, 'lz__echo')).toEqual([{ type: 'text', text: 'hi' }]);
    expect(await spawns(dir, 'lz')).toBe(1);
    expect(await spawns(dir, 'a')).toBe(1);
  });
});

describe('idle stop', () => {
  it('stops a server after its idle time, keeps its tools listed, and starts it again on the next call', async () => {
    const dir = await createTempDir();
    cleanups.push(() => dir[Symbol.asyncDispose]());
    const gateway = await startGateway(dir, {
      a: counted(dir, 'a'),
      sleepy: counted(dir, 'sleepy', { idle_timeout: 1 }),
      lz: counted(dir, 'lz', { lazy: true, idle_timeout: 1 }),
    });
    const client = await connect(gateway);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['a__echo', 'sleepy__echo', 'lz__echo']),
    );
    const stopped = await waitFor(
      async () => {
        const report = await health(gateway);
        return report.servers.sleepy?.state === 'idle' && report.servers.lz?.state === 'idle' ? report : undefined;
      },
      { message: 'sleepy and lz to go idle' },
    );
    const [firstSleepy] = await spawnPids(dir, 'sleepy');
    const [firstLazy] = await spawnPids(dir, 'lz');
    await waitForExit(firstSleepy!, { timeoutMs: 5_000 });
    await waitForExit(firstLazy!, { timeoutMs: 5_000 });
    expect(stopped.servers.sleepy).toMatchObject({ toolCount: OK_FIXTURE_TOOL_COUNT, restarts: 0 });
    expect(stopped.servers.sleepy?.pid).toBeUndefined();
    expect(stopped.status).toBe('ok');
    expect(stopped.servers.a?.state).toBe('ready');
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['sleepy__echo', 'lz__echo']),
    );
    expect(await spawns(dir, 'sleepy')).toBe(1); // listing does not wake an idle server whose tools are known

    expect(await echo(client, 'sleepy__echo')).toEqual([{ type: 'text', text: 'hi' }]);
    expect(await echo(client, 'lz__echo')).toEqual([{ type: 'text', text: 'hi' }]);
    // Waking from idle is not a restart after a failure.
    expect((await health(gateway)).servers.sleepy?.restarts).toBe(0);
    const sleepyPids = await spawnPids(dir, 'sleepy');
    expect(sleepyPids[1]).not.toBe(firstSleepy);
    expect(await spawns(dir, 'sleepy')).toBe(2);
    expect(await spawns(dir, 'lz')).toBe(2);
    expect(await spawns(dir, 'a')).toBe(1);
    expect(gateway.stdout.some((line) => /Server 'sleepy' stopped after 1 s idle/.test(line))).toBe(true);
  });
});
