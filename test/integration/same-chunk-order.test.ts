// Messages a client writes in one chunk are handled in their order, as the SDK's own dispatch handles them: the
// gateway answers most requests without the SDK's request machinery (relay/lean-dispatch.ts), and must not start
// one before an initialize written ahead of it, nor after a cancellation written behind it.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';

import { afterEach, describe, expect, it } from 'vitest';

import { collectLines } from '../helpers/lines.js';
import { fixturePath, GATEWAY_MAIN, REPO_ROOT } from '../helpers/paths.js';
import { readFixtureEvents, waitForExit } from '../helpers/processes.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

type Message = { id?: unknown; method?: string; params?: Record<string, unknown>; result?: unknown; error?: unknown };

let dir: TempDir | undefined;
let child: ChildProcessWithoutNullStreams | undefined;

afterEach(async () => {
  child?.stdin.end();
  if (child?.pid !== undefined) await waitForExit(child.pid, { timeoutMs: 10_000 });
  child = undefined;
  await dir?.[Symbol.asyncDispose]();
  dir = undefined;
});

/** The gateway over stdio, driven by raw lines; resolves once its servers are ready. */
async function stdioGateway(servers: (dir: TempDir) => Record<string, unknown>) {
  dir = await createTempDir();
  const configPath = await dir.write('mcp.json', { servers: servers(dir) });
  const gateway = spawn(process.execPath, [GATEWAY_MAIN, '--stdio', '--config', configPath], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child = gateway;
  const stdout: string[] = [];
  const stderr: string[] = [];
  collectLines(gateway.stdout, stdout);
  collectLines(gateway.stderr, stderr);
  await waitFor(() => stderr.some((line) => line.includes('Gateway ready')), { message: () => stderr.join('\n') });
  const messages = () => stdout.map((line) => JSON.parse(line) as Message);
  return {
    /** Writes every message in one write: one chunk on the gateway's stdin. */
    write: (...lines: unknown[]) => gateway.stdin.write(lines.map((line) => `${JSON.stringify(line)}\n`).join('')),
    messages,
    answer: (id: unknown) =>
      waitFor(() => messages().find((message) => message.id === id && message.method === undefined), {
        message: () => `an answer to ${String(id)}:\n${stdout.join('\n')}\n${stderr.slice(-20).join('\n')}`,
      }),
  };
}

const initialize = (capabilities: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id: 'init',
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities, clientInfo: { name: 'one-chunk', version: '1.0.0' } },
});
const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };

describe('messages written in one chunk', () => {
  it('a call right behind initialize reaches a session server started with the client capabilities', async () => {
    // A `session` instance starts with the first call, initialized with the capabilities the client declared.
    const gateway = await stdioGateway(() => ({
      plain: { command: process.execPath, args: [fixturePath('ok')], scope: 'session' },
    }));
    gateway.write(initialize({ elicitation: {} }), initialized, {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'plain__elicit', arguments: { message: 'one chunk?' } },
    });
    // The server may ask (its SDK refuses to when the client's capabilities it got lack elicitation).
    const ask = await waitFor(
      () => gateway.messages().find((message) => message.method === 'elicitation/create' || message.id === 1),
      { message: 'the elicitation relayed to the client, or the answer' },
    );
    expect(ask).toMatchObject({ method: 'elicitation/create' });
    gateway.write({ jsonrpc: '2.0', id: ask.id, result: { action: 'accept', content: { answer: 'yes' } } });
    const answer = await gateway.answer(1);
    expect(JSON.stringify(answer.result)).toContain('accept');
  });

  it('a call cancelled in the same chunk is never sent to the server', async () => {
    const events = (dir: TempDir) => dir.resolve('events.log');
    const gateway = await stdioGateway((dir) => ({
      plain: { command: process.execPath, args: [fixturePath('ok')], env: { FIXTURE_EVENTS_FILE: events(dir) } },
    }));
    gateway.write(initialize({}), initialized);
    await gateway.answer('init');
    gateway.write(
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'plain__slow', arguments: { ms: 5_000 } } },
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2, reason: 'changed my mind' } },
    );
    // The server handles its stdin in order: by the time it answers a later call, a cancelled `slow` it had
    // started would have written its CANCELLED line.
    gateway.write({
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'plain__echo', arguments: { message: 'after' } },
    });
    expect(JSON.stringify((await gateway.answer(3)).result)).toContain('after');
    expect(await readFixtureEvents(events(dir!))).toEqual([]);
    expect(gateway.messages().some((message) => message.id === 2)).toBe(false);
  });
});

describe('a message alone in its chunk', () => {
  it('a call is answered once, with the result the server gave', async () => {
    const gateway = await stdioGateway(() => ({ plain: { command: process.execPath, args: [fixturePath('ok')] } }));
    gateway.write(initialize({}), initialized);
    await gateway.answer('init');
    gateway.write({
      jsonrpc: '2.0',
      id: 'mine-5',
      method: 'tools/call',
      params: { name: 'plain__echo', arguments: { message: 'alone "quoted" \u00e9' } },
    });
    const answer = await gateway.answer('mine-5');
    expect(JSON.stringify(answer.result)).toContain('alone \\"quoted\\" \u00e9');
    // Anything sent twice would be on stdout before the answer to a later request.
    gateway.write({ jsonrpc: '2.0', id: 6, method: 'ping' });
    await gateway.answer(6);
    expect(gateway.messages().filter((message) => message.id === 'mine-5')).toHaveLength(1);
  });
});

describe('a second initialize', () => {
  it('is refused, whether written behind the first or later, and the session keeps the first one', async () => {
    const gateway = await stdioGateway(() => ({ plain: { command: process.execPath, args: [fixturePath('ok')] } }));
    const again = (id: string) => ({
      ...initialize({ sampling: {} }),
      id,
      params: {
        protocolVersion: '2025-03-26',
        capabilities: { sampling: {} },
        clientInfo: { name: 'b', version: '2' },
      },
    });
    const refused = (id: string) => ({
      id,
      error: { code: -32600, message: 'Invalid Request: Server already initialized' },
    });
    gateway.write(initialize({}), again('same-chunk'), initialized);
    expect(await gateway.answer('init')).toMatchObject({ result: { protocolVersion: '2025-06-18' } });
    expect(await gateway.answer('same-chunk')).toMatchObject(refused('same-chunk'));
    gateway.write(again('later'));
    expect(await gateway.answer('later')).toMatchObject(refused('later'));
    gateway.write({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'plain__echo', arguments: { message: 'still here' } },
    });
    expect(JSON.stringify((await gateway.answer(7)).result)).toContain('still here');
  });
});
