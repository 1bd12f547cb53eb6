// Hot reload with real processes: the config (and its .env) is rewritten while clients stay connected.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { afterEach, describe, expect, it } from 'vitest';

import { ConfigWatcher } from '../../src/config/watch.js';
import type { HealthReport } from '../../src/gateway.js';
import { Gateway } from '../../src/gateway.js';
import { createSilentLogger } from '../../src/observability/log.js';
import { startConfigReloader } from '../../src/reload/reloader.js';
import type { ReloadReport } from '../../src/reload/report.js';
import { type GatewayProcess, startGatewayProcess, startGatewayStdio } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { isAlive, waitForExit } from '../helpers/processes.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { type RecordedTransport, recordWire } from '../helpers/wire-transport.js';

const RESTART = { backoff_base: 0.05, backoff_max: 0.2 };
const LIST_CHANGED = 'notifications/tools/list_changed';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const ok = (name: string, extra: Record<string, unknown> = {}) => ({
  command: process.execPath,
  args: [fixturePath('ok')],
  env: { FIXTURE_NAME: name },
  ...extra,
});
const configOf = (servers: Record<string, object>) => ({ restart: RESTART, mcpServers: servers });

async function tempDir(): Promise<TempDir> {
  const dir = await createTempDir();
  cleanups.push(() => dir[Symbol.asyncDispose]());
  return dir;
}

async function startGateway(dir: TempDir, servers: Record<string, object>, args: string[] = []) {
  const configPath = await dir.write('mcp.json', configOf(servers));
  const gateway = await startGatewayProcess({ configPath, args: ['--reload-interval', '0.5', ...args] });
  cleanups.push(() => gateway.stop());
  // The reloader starts after the servers; from its first line on, edits are picked up (or, with --no-reload, not).
  await waitFor(
    () => gateway.stdout.some((line) => /Watching .* for changes|Config reload on SIGHUP only/.test(line)),
    {
      message: 'the config reloader to start',
    },
  );
  return { gateway, configPath };
}

async function connect<T extends Transport>(transport: T): Promise<{ client: Client; wire: RecordedTransport<T> }> {
  const wire = recordWire(transport);
  const client = new Client({ name: 'reload-test', version: '0.0.0' });
  await client.connect(wire);
  cleanups.push(() => client.close());
  return { client, wire };
}

async function health(gateway: GatewayProcess): Promise<HealthReport> {
  return (await (await fetch(`${gateway.url}/health`)).json()) as HealthReport;
}

async function toolNames(client: Client): Promise<string[]> {
  return (await client.listTools()).tools.map((tool) => tool.name);
}

function logged(gateway: GatewayProcess, pattern: RegExp): Promise<string> {
  return waitFor(() => gateway.stdout.find((line) => pattern.test(line)), { message: `a log line ${pattern}` });
}

describe('hot reload (gateway process)', () => {
  it('applies an added server within 2 s, lists it, and every connected client (/mcp, /sse, stdio) gets tools/list_changed', async () => {
    const dir = await tempDir();
    const { gateway, configPath } = await startGateway(dir, { a: ok('a') });
    const http = await connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
    const sse = await connect(new SSEClientTransport(new URL(`${gateway.url}/sse`)));
    const stdio = await startGatewayStdio({ configPath, args: ['--reload-interval', '0.5'] });
    cleanups.push(() => stdio.close());
    const clients = [
      { name: '/mcp', client: http.client, wire: http.wire },
      { name: '/sse', client: sse.client, wire: sse.wire },
      { name: 'stdio', client: stdio.client, wire: stdio.transport },
    ];
    for (const { client } of clients) expect(await toolNames(client)).toContain('a__echo');
    const before = clients.map(({ wire }) => wire.count(LIST_CHANGED));

    await dir.write('mcp.json', configOf({ a: ok('a'), b: ok('b') }), { atomic: true });
    // The gateway's part (seeing the change, applying it) within 2 s; b's own start-up comes on top (~1 s
    // for a node server on an idle machine, more on a loaded one), hence the longer bound for the listing.
    await waitFor(() => gateway.stdout.some((line) => /Config reloaded: added b$/.test(line)), {
      timeoutMs: 2_000,
      message: 'the reload',
    });
    await Promise.all(
      clients.map(({ name, client, wire }, i) =>
        waitFor(async () => wire.count(LIST_CHANGED) > before[i]! && (await toolNames(client)).includes('b__echo'), {
          timeoutMs: 5_000,
          message: `${name} to list b's tools`,
        }),
      ),
    );
    const result = await http.client.callTool({ name: 'b__whoami', arguments: {} });
    expect(JSON.stringify(result.content)).toContain('\\"name\\":\\"b\\"');
  });

  it('removes a removed server: its call in flight finishes, its tools disappear, its process is gone', async () => {
    const dir = await tempDir();
    const { gateway } = await startGateway(dir, { a: ok('a'), b: ok('b') });
    const { client, wire } = await connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
    expect(await toolNames(client)).toContain('b__echo');
    const pidB = (await health(gateway)).servers.b?.pid;
    const pidA = (await health(gateway)).servers.a?.pid;
    expect(pidB).toBeTypeOf('number');

    const inFlight = client.callTool({ name: 'b__slow', arguments: { ms: 1_500 } });
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the call reach b
    await dir.write('mcp.json', configOf({ a: ok('a') }));
    await waitFor(async () => !(await toolNames(client)).includes('b__echo'), { message: 'b to disappear' });
    expect(wire.count(LIST_CHANGED)).toBeGreaterThan(0);
    expect(JSON.stringify((await inFlight).content)).toContain('slept 1500 ms');
    await waitForExit(pidB!, { timeoutMs: 5_000 });
    const report = await health(gateway);
    expect(report.servers.b).toBeUndefined();
    expect(report.servers.a?.pid).toBe(pidA);
    await expect(client.callTool({ name: 'b__echo', arguments: { message: 'x' } })).rejects.toThrow(/unknown tool/);
    expect(await logged(gateway, /Config reloaded: removed b$/)).toBeTruthy();
  });

  it('restarts only the server whose args changed; the others keep their pids and the session stays', async () => {
    const dir = await tempDir();
    const servers = { a: ok('a'), b: ok('b'), c: ok('c') };
    const { gateway } = await startGateway(dir, servers);
    const { client } = await connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
    const before = await health(gateway);

    await dir.write('mcp.json', configOf({ ...servers, b: ok('b', { args: [fixturePath('ok'), '--changed'] }) }));
    await logged(gateway, /Config reloaded: restarted b$/);
    const after = await waitFor(async () => {
      const report = await health(gateway);
      const b = report.servers.b;
      return b?.state === 'ready' && b.pid !== before.servers.b?.pid ? report : undefined;
    });
    expect(after.servers.a?.pid).toBe(before.servers.a?.pid);
    expect(after.servers.c?.pid).toBe(before.servers.c?.pid);
    await waitForExit(before.servers.b!.pid!, { timeoutMs: 5_000 });
    for (const name of ['a', 'b', 'c']) {
      const result = await client.callTool({ name: `${name}__echo`, arguments: { message: name } });
      expect(result.content).toEqual([{ type: 'text', text: name }]);
    }
  });

  it('keeps the old config through invalid JSON and a schema error, logs what and where, then applies the fix', async () => {
    const dir = await tempDir();
    const { gateway } = await startGateway(dir, { a: ok('a') });
    const { client } = await connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
    const echo = async () => (await client.callTool({ name: 'a__echo', arguments: { message: 'up' } })).content;

    await dir.write('mcp.json', '{\n  "mcpServers": {\n    "a": {,\n');
    await logged(gateway, /Config reload \(file changed\) failed, the config is invalid; the running config stays/);
    const where = await logged(gateway, /mcp\.json:3:\d+: invalid JSON/);
    expect(where).toContain(dir.resolve('mcp.json'));
    expect(await echo()).toEqual([{ type: 'text', text: 'up' }]);

    await dir.write('mcp.json', configOf({ a: ok('a'), b: { command: process.execPath, args: 'not a list' } }));
    expect(await logged(gateway, /mcp\.json:\d+:\d+: mcpServers\.b\.args: /)).toContain(dir.resolve('mcp.json'));
    expect(await echo()).toEqual([{ type: 'text', text: 'up' }]);
    expect((await health(gateway)).servers.b).toBeUndefined();

    await dir.write('mcp.json', configOf({ a: ok('a'), b: ok('b') }));
    await waitFor(async () => (await toolNames(client)).includes('b__echo'), { message: 'the fix to apply' });
    expect(await echo()).toEqual([{ type: 'text', text: 'up' }]);
  });

  it('applies a change of the .env beside the config', async () => {
    const dir = await tempDir();
    await dir.write('.env', 'MCPROXY_RELOAD_TEST_NAME=first\n');
    const named = ok('x', { env: { FIXTURE_NAME: '${MCPROXY_RELOAD_TEST_NAME}' } });
    const { gateway } = await startGateway(dir, { a: ok('a'), x: named });
    const { client } = await connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
    const whoami = async () => JSON.stringify((await client.callTool({ name: 'x__whoami', arguments: {} })).content);
    expect(await whoami()).toContain('first');

    await dir.write('.env', 'MCPROXY_RELOAD_TEST_NAME=second\n', { atomic: true });
    await logged(gateway, /Config reloaded: restarted x$/);
    await waitFor(async () => (await whoami()).includes('second'), { message: 'x to run with the new .env' });
  });

  it('with --no-reload ignores edits until SIGHUP', async () => {
    const dir = await tempDir();
    const { gateway } = await startGateway(dir, { a: ok('a') }, ['--no-reload']);
    await dir.write('mcp.json', configOf({ a: ok('a'), b: ok('b') }));
    // Longer than the debounce and the polling interval together: a watcher would have seen it by now.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await health(gateway)).servers.b).toBeUndefined();

    process.kill(gateway.pid, 'SIGHUP');
    await logged(gateway, /Config reloaded: added b$/);
    await waitFor(async () => (await health(gateway)).servers.b?.state === 'ready', { message: 'b to start' });
    expect(isAlive(gateway.pid)).toBe(true);
  });
});

describe('config watcher and reloader (in process)', () => {
  it('sees a save by rename and a burst of writes as one change each', async () => {
    const dir = await tempDir();
    const file = await dir.write('mcp.json', '{}');
    const changes: string[] = [];
    const watcher = new ConfigWatcher({
      files: [file, dir.resolve('.env')],
      onChange: (changed) => changes.push(changed),
      debounceMs: 100,
      pollIntervalMs: 200,
    });
    cleanups.push(() => watcher.close());
    await watcher.start();

    await dir.write('mcp.json', '{"mode":"direct"}', { atomic: true });
    await waitFor(() => changes.length === 1, { timeoutMs: 2_000, message: 'the rename to be seen' });
    for (let i = 0; i < 5; i++) await writeFile(file, `{"mode":"direct","n":${i}}`);
    await waitFor(() => changes.length === 2, { timeoutMs: 2_000, message: 'the burst to be seen' });
    await dir.write('.env', 'A=1\n');
    await waitFor(() => changes.length === 3, { timeoutMs: 2_000, message: 'the new .env to be seen' });
    expect(changes[2]).toBe(dir.resolve('.env'));
    // Other files in the directory are not watched.
    await dir.write('other.json', '{}');
    await mkdir(join(dir.path, 'sub'));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(changes).toHaveLength(3);
  });

  it('sees changes by polling alone within the interval', async () => {
    const dir = await tempDir();
    const file = await dir.write('mcp.json', '{}');
    const changes: string[] = [];
    const watcher = new ConfigWatcher({
      files: [file],
      onChange: (changed) => changes.push(changed),
      events: false,
      pollIntervalMs: 300,
    });
    cleanups.push(() => watcher.close());
    await watcher.start();
    await dir.write('mcp.json', '{"mode":"code"}', { atomic: true });
    await waitFor(() => changes.length === 1, { timeoutMs: 2_000, message: 'the poll to see the rename' });
    await writeFile(file, '{"mode":"meta"}');
    await waitFor(() => changes.length === 2, { timeoutMs: 2_000, message: 'the poll to see the write' });
  });

  it('runs one reload at a time and queues a change that arrives meanwhile into exactly one more', async () => {
    const dir = await tempDir();
    const configPath = await dir.write('mcp.json', { mcpServers: {} });
    const gateway = new Gateway({
      config: { servers: [], mode: 'direct', namespaces: {}, sandbox: {}, manifests: {}, source: { shape: 'empty' } },
      logger: createSilentLogger(),
    });
    cleanups.push(() => gateway.close());
    await gateway.start();
    const reports: ReloadReport[] = [];
    const reloader = await startConfigReloader(gateway, {
      configPath,
      watch: false,
      intervalMs: 1_000,
      log: createSilentLogger(),
      onReload: (report) => reports.push(report),
    });
    cleanups.push(() => reloader.close());
    const start = reports.length;
    await rename(await dir.write('next.json', { mode: 'code', mcpServers: {} }), configPath);
    await Promise.all([reloader.reloadNow('one'), reloader.reloadNow('two'), reloader.reloadNow('three')]);
    expect(reports.length - start).toBe(2);
    expect(reports[start]?.globalChanged).toEqual(['mode']);
    expect(gateway.config.mode).toBe('code');
    await reloader.close();
    await reloader.reloadNow('after close');
    expect(reports.length - start).toBe(2);
  });
});
