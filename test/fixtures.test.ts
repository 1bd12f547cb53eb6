// The fixture servers themselves, driven by an SDK client directly (no gateway).
import { spawn } from 'node:child_process';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CreateMessageRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';

import { collectLines } from './helpers/lines.js';
import { type FixtureName, fixturePath, OK_FIXTURE_TOOL_COUNT, REPO_ROOT } from './helpers/paths.js';
import { forceKill, isAlive, readFixtureEvents, waitForExit } from './helpers/processes.js';
import { createTempDir } from './helpers/temp-dir.js';
import { CI_TIMEOUT_FACTOR, waitFor } from './helpers/wait-for.js';
import { recordWire } from './helpers/wire-transport.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function connect(
  fixture: FixtureName,
  { env = {}, client }: { env?: Record<string, string>; client?: Client } = {},
) {
  const transport = recordWire(
    new StdioClientTransport({ command: process.execPath, args: [fixturePath(fixture)], env, stderr: 'pipe' }),
  );
  const stderr: string[] = [];
  collectLines(transport.stderr as NodeJS.ReadableStream | null, stderr);
  const sdkClient = client ?? new Client({ name: 'fixtures-test', version: '0.0.0' });
  try {
    await sdkClient.connect(transport, { timeout: 20_000 * CI_TIMEOUT_FACTOR });
  } catch (error) {
    await transport.close();
    throw new Error(`${fixture} did not initialize; stderr:\n${stderr.join('\n')}`, { cause: error });
  }
  const pid = transport.pid ?? -1;
  cleanups.push(async () => {
    await sdkClient.close();
    await waitForExit(pid);
  });
  return { client: sdkClient, transport, pid, stderr };
}

function runToExit(fixture: FixtureName) {
  const child = spawn(process.execPath, [fixturePath(fixture)], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  cleanups.push(() => forceKill([child.pid ?? -1]));
  const stderr: string[] = [];
  collectLines(child.stderr, stderr);
  const exited = new Promise<{ code: number | null }>((resolve) => child.once('close', (code) => resolve({ code })));
  return { child, stderr, exited };
}

describe('ok.mjs', () => {
  it(`lists ${OK_FIXTURE_TOOL_COUNT} tools`, async () => {
    const { client } = await connect('ok');
    expect((await client.listTools()).tools).toHaveLength(OK_FIXTURE_TOOL_COUNT);
  });

  it('echoes', async () => {
    const { client } = await connect('ok');
    const result = await client.callTool({ name: 'echo', arguments: { message: 'hello' } });
    expect(result.content).toEqual([{ type: 'text', text: 'hello' }]);
  });

  it('paginates tools/list with a real nextCursor when FIXTURE_PAGE_SIZE is set', async () => {
    const { client, transport } = await connect('ok', { env: { FIXTURE_PAGE_SIZE: '4' } });
    const tools: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const result = await client.listTools(cursor === undefined ? {} : { cursor });
      expect(result.tools.length).toBeLessThanOrEqual(4);
      tools.push(...result.tools);
      cursor = result.nextCursor;
      if (cursor === undefined) break;
    }
    expect(cursor).toBeUndefined();
    const names = tools.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['echo', 'add', 'slow', 'progress', 'sample', 'update']));
    expect(transport.sent.filter((m) => 'method' in m && m.method === 'tools/list').length).toBeGreaterThan(2);
  });

  it('sends every progress notification on the wire, even those sharing a chunk with the result', async () => {
    const { client, transport } = await connect('ok');
    const count = 20;
    const result = await client.callTool({ name: 'progress', arguments: { count } }, undefined, {
      onprogress: () => {},
    });
    expect(result.content).toEqual([{ type: 'text', text: `sent ${count} progress notifications` }]);
    expect(transport.count('notifications/progress')).toBe(count);
  });

  it('round-trips sampling/createMessage to the client', async () => {
    const client = new Client({ name: 'fixtures-test', version: '0.0.0' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, (request) => {
      const first = request.params.messages[0]?.content;
      const prompt = first && !Array.isArray(first) && first.type === 'text' ? first.text : '?';
      return { role: 'assistant', model: 'test', content: { type: 'text', text: `sampled: ${prompt}` } };
    });
    await connect('ok', { client });
    const result = await client.callTool({ name: 'sample', arguments: { prompt: 'hi' } });
    expect(result.content).toEqual([{ type: 'text', text: 'sampled: hi' }]);
  });

  it('records CANCELLED <requestId> when a slow call is cancelled', async () => {
    await using dir = await createTempDir();
    const eventsFile = dir.resolve('events.log');
    const { client, transport } = await connect('ok', { env: { FIXTURE_EVENTS_FILE: eventsFile } });
    const controller = new AbortController();
    const call = client.callTool({ name: 'slow', arguments: { ms: 30_000 } }, undefined, { signal: controller.signal });
    const sent = await waitFor(() => transport.sent.find((m) => 'method' in m && m.method === 'tools/call'));
    controller.abort();
    await expect(call).rejects.toThrow();
    const events = await waitFor(async () => {
      const all = await readFixtureEvents(eventsFile);
      return all.length > 0 ? all : undefined;
    });
    expect(events).toEqual([{ event: 'CANCELLED', value: String('id' in sent ? sent.id : '') }]);
  });
});

describe('misbehaving fixtures', () => {
  it('garbage-stdout.mjs still answers echo', async () => {
    const { client } = await connect('garbage-stdout');
    const result = await client.callTool({ name: 'echo', arguments: { message: 'through the noise' } });
    expect(result.content).toEqual([{ type: 'text', text: 'through the noise' }]);
  });

  it('fails-to-start.mjs exits 1 with a reason on stderr', async () => {
    const { stderr, exited } = runToExit('fails-to-start');
    expect(await exited).toEqual({ code: 1 });
    expect(stderr.join('\n')).toMatch(/fails-to-start: /);
  });

  it('crash-mid-call.mjs answers echo, then exits with code 3 during a crash call without answering', async () => {
    const { child, stderr, exited } = runToExit('crash-mid-call');
    const stdout: string[] = [];
    collectLines(child.stdout, stdout);
    const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
    const params = { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } };
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'x' } } });
    await waitFor(() => stdout.some((line) => line.includes('"id":2')));
    send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'crash', arguments: {} } });
    expect(await exited).toEqual({ code: 3 });
    expect(stdout.some((line) => line.includes('"id":3'))).toBe(false);
    expect(stderr.join('\n')).toContain('crashing on purpose');
  });

  it('ignores-sigterm.mjs survives SIGTERM and stdin close', async () => {
    await using dir = await createTempDir();
    const eventsFile = dir.resolve('events.log');
    const { pid } = await connect('ignores-sigterm', { env: { FIXTURE_EVENTS_FILE: eventsFile } });
    cleanups.push(() => forceKill([pid])); // runs before the client close registered above
    process.kill(pid, 'SIGTERM');
    await waitFor(async () => (await readFixtureEvents(eventsFile)).some((e) => e.event === 'SIGTERM'));
    expect(isAlive(pid)).toBe(true);
  });

  it('spawns-child.mjs leaves its grandchild behind when it exits', async () => {
    const dir = await createTempDir();
    const eventsFile = dir.resolve('events.log');
    const grandchildPids = async () =>
      (await readFixtureEvents(eventsFile)).filter((e) => e.event === 'GRANDCHILD').map((e) => Number(e.value));
    cleanups.push(() => dir[Symbol.asyncDispose]());
    cleanups.push(async () => forceKill(await grandchildPids())); // runs first, even if the test times out
    const { client, pid } = await connect('spawns-child', { env: { FIXTURE_EVENTS_FILE: eventsFile } });
    const [grandchild] = await waitFor(async () => {
      const pids = await grandchildPids();
      return pids.length > 0 ? pids : undefined;
    });
    expect(isAlive(grandchild!)).toBe(true);
    await client.close();
    await waitForExit(pid);
    expect(isAlive(grandchild!)).toBe(true); // the orphan a gateway must not leave
  });
});
