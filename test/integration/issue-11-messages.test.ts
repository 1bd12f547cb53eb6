// Issue 11: every message is bounded before any work and answered on every route, with a JSON-RPC body.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { openRawSse } from '../helpers/raw-sse.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { INITIALIZE, rawRequest } from './access-helpers.js';

let dir: TempDir;
let gateway: GatewayProcess;

beforeAll(async () => {
  dir = await createTempDir();
  const configPath = await dir.write('mcp.json', {
    mcpServers: { ok: { command: process.execPath, args: [fixturePath('ok')] } },
  });
  gateway = await startGatewayProcess({ configPath });
  await waitFor(async () => (await fetch(`${gateway.url}/health`)).status === 200);
});

afterAll(async () => {
  await gateway?.stop();
  await dir?.[Symbol.asyncDispose]();
});

const HUGE = 'x'.repeat(3_500_000);
const call = (id: unknown, name: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name } });

async function openSessions(): Promise<number> {
  return ((await (await fetch(`${gateway.url}/health`)).json()) as { sessions: number }).sessions;
}

type Answer = { jsonrpc?: string; id?: unknown; result?: unknown; error?: { code: number; message: string } };

async function barePost(body: unknown): Promise<{ status: number; answer: Answer | Answer[] }> {
  const response = await rawRequest(`${gateway.url}/message`, { body });
  expect(response.headers['content-type']).toBe('application/json');
  return { status: response.status, answer: response.json<Answer | Answer[]>() };
}

describe('a 3.5 MB name (issue 11: it blocked /health for 15.6 s)', () => {
  it('is refused before any lookup on the bare POST, on /mcp and on /message', async () => {
    const expected = { code: -32602, message: expect.stringMatching(/"name" is longer than 128 characters/) };
    expect(await barePost(call(1, HUGE))).toEqual({ status: 200, answer: { jsonrpc: '2.0', id: 1, error: expected } });

    const client = new Client({ name: 'issue-11', version: '0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`));
    await client.connect(transport);
    const refused = await client.callTool({ name: HUGE }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(McpError);
    expect((refused as McpError).code).toBe(-32602);
    expect((await client.listTools()).tools.length).toBeGreaterThan(0); // the session lives on
    await transport.terminateSession();
    await client.close();

    const sse = await openRawSse(`${gateway.url}/sse`);
    const posted = await rawRequest(`${gateway.url}${sse.endpoint}`, { body: call(2, HUGE) });
    expect(posted.status).toBe(202);
    await waitFor(() => sse.messages.length === 1);
    expect(sse.messages[0]).toEqual({ jsonrpc: '2.0', id: 2, error: expected });
    sse.close();
    await waitFor(async () => (await openSessions()) === 0, { message: 'the sessions to end' });
  });

  it('bounds prompt names, URIs and cursors the same way', async () => {
    for (const body of [
      { jsonrpc: '2.0', id: 3, method: 'prompts/get', params: { name: HUGE } },
      { jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: `test://${HUGE}` } },
      { jsonrpc: '2.0', id: 3, method: 'tools/list', params: { cursor: HUGE } },
    ]) {
      const { status, answer } = await barePost(body);
      expect(status).toBe(200);
      expect(answer).toMatchObject({
        id: 3,
        error: { code: -32602, message: expect.stringMatching(/is longer than/) },
      });
    }
  });
});

describe('the bare POST answers every message (issue 11: some were never answered and leaked a session)', () => {
  it('answers a fractional or huge id, non-object params and an extra member, and keeps no session', async () => {
    const before = await openSessions();
    const cases: [unknown, number, Partial<Answer>][] = [
      [
        { jsonrpc: '2.0', id: 1.5, method: 'tools/list' },
        400,
        { id: null, error: expect.objectContaining({ code: -32600 }) },
      ],
      [{ jsonrpc: '2.0', id: 2 ** 60, method: 'tools/list' }, 400, { id: null }],
      [
        { jsonrpc: '2.0', id: 4, method: 'tools/list', params: [1, 2] },
        200,
        { id: 4, error: expect.objectContaining({ code: -32602 }) },
      ],
      [{ jsonrpc: '2.0', id: 5, method: 'tools/list', params: 'text' }, 200, { id: 5 }],
      [{ jsonrpc: '2.0', id: 6, method: 'tools/list', extra: true }, 400, { id: 6 }],
      [{ jsonrpc: '2.0', id: 7 }, 400, { id: 7 }],
    ];
    for (const [body, status, answer] of cases) {
      const result = await barePost(body);
      expect(result.status, JSON.stringify(body)).toBe(status);
      expect(result.answer).toMatchObject({ jsonrpc: '2.0', ...answer });
    }
    expect(await openSessions()).toBe(before);
  });

  it('answers each request of a batch once, duplicates and cancellations included', async () => {
    const before = await openSessions();
    const echo = (id: number) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'ok__echo', arguments: { message: `m${id}` } },
    });
    const slow = {
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'ok__slow', arguments: { ms: 60_000 } },
    };
    const cancel = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3 } };
    const { status, answer } = await barePost([
      echo(1),
      echo(1),
      echo(2),
      { jsonrpc: '2.0', id: 9, x: 1 },
      slow,
      cancel,
    ]);
    expect(status).toBe(200);
    expect(answer).toEqual([
      { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'm1' }] } },
      { jsonrpc: '2.0', id: 1, error: { code: -32600, message: 'Invalid Request: id 1 is used twice in this batch' } },
      { jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'm2' }] } },
      { jsonrpc: '2.0', id: 9, error: expect.objectContaining({ code: -32600 }) },
      { jsonrpc: '2.0', id: 3, error: { code: -32800, message: 'Request cancelled' } },
    ]);
    expect(await openSessions()).toBe(before);
  });

  it('answers a call whose server asks the client something, which a bare POST cannot answer', async () => {
    const before = await openSessions();
    const { status, answer } = await barePost({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'ok__sample', arguments: { prompt: 'hi' } },
    });
    expect(status).toBe(200);
    // A bare POST declares no capabilities, so the gateway refuses the server's request before relaying it.
    expect(JSON.stringify(answer)).toMatch(
      /the client does not support sampling, so sampling\/createMessage was not relayed/,
    );
    expect(await openSessions()).toBe(before);
  });
});

describe('JSON-RPC error bodies everywhere (issue 11: /message answered plain text)', () => {
  it('refuses what is no JSON-RPC on /message?sessionId= with a JSON-RPC error, and runs a batch', async () => {
    const sse = await openRawSse(`${gateway.url}/sse`);
    const url = `${gateway.url}${sse.endpoint}`;
    for (const body of [
      { jsonrpc: '2.0', id: 1.5, method: 'ping' },
      { nope: true },
      [],
      [{ jsonrpc: '2.0', id: 1, method: 'ping', x: 1 }],
    ]) {
      const response = await rawRequest(url, { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.headers['content-type']).toBe('application/json');
      expect(JSON.stringify(response.json())).toMatch(/"code":-32600/);
    }
    const wrongType = await rawRequest(url, {
      body: { jsonrpc: '2.0', id: 1, method: 'ping' },
      headers: { 'content-type': 'text/plain' },
    });
    expect(wrongType.status).toBe(415);
    expect(wrongType.json().error?.message).toMatch(/Content-Type must be application\/json/);
    const notJson = await rawRequest(url, {
      body: undefined,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.status).toBe(400);
    expect(notJson.json().error?.code).toBe(-32700);

    const batch = await rawRequest(url, {
      body: [
        { jsonrpc: '2.0', id: 10, method: 'ping' },
        { jsonrpc: '2.0', id: 11, method: 'ping' },
      ],
    });
    expect(batch.status).toBe(202);
    await waitFor(() => sse.messages.length === 2);
    expect(sse.messages).toEqual([
      { jsonrpc: '2.0', id: 10, result: {} },
      { jsonrpc: '2.0', id: 11, result: {} },
    ]);
    sse.close();
  });

  it('refuses a /mcp POST holding an invalid message as a whole, answering each request', async () => {
    const opened = await rawRequest(`${gateway.url}/mcp`, { body: INITIALIZE });
    const session = opened.headers['mcp-session-id'] as string;
    const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' };
    const response = await rawRequest(`${gateway.url}/mcp`, {
      headers,
      body: [
        { jsonrpc: '2.0', id: 1, method: 'ping' },
        { jsonrpc: '2.0', id: 2.5, method: 'ping' },
      ],
    });
    expect(response.status).toBe(400);
    expect(response.json()).toEqual([
      { jsonrpc: '2.0', id: 1, error: { code: -32600, message: expect.stringMatching(/not run/) } },
      { jsonrpc: '2.0', id: null, error: expect.objectContaining({ code: -32600 }) },
    ]);
    expect((await rawRequest(`${gateway.url}/mcp`, { method: 'DELETE', headers })).status).toBe(200);
  });

  it('answers a request cancelled on /mcp, so its stream ends instead of waiting for the client to hang up', async () => {
    const opened = await rawRequest(`${gateway.url}/mcp`, { body: INITIALIZE });
    const headers = {
      'mcp-session-id': opened.headers['mcp-session-id'] as string,
      'mcp-protocol-version': '2025-06-18',
    };
    await rawRequest(`${gateway.url}/mcp`, { headers, body: { jsonrpc: '2.0', method: 'notifications/initialized' } });
    // In one POST, so that the call is running when its cancellation is read: the SDK answers nothing for it,
    // and without the gateway's answer this stream would stay open for the call's whole minute.
    const response = await rawRequest(`${gateway.url}/mcp`, {
      headers,
      body: [
        { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'ok__slow', arguments: { ms: 60_000 } } },
        { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7, reason: 'changed my mind' } },
      ],
    });
    expect(response.status).toBe(200);
    const answers = [...response.body.matchAll(/^data: (.+)$/gm)].map((match) => JSON.parse(match[1]!) as Answer);
    expect(answers).toEqual([{ jsonrpc: '2.0', id: 7, error: { code: -32800, message: 'Request cancelled' } }]);
    expect((await rawRequest(`${gateway.url}/mcp`, { method: 'DELETE', headers })).status).toBe(200);
  }, 30_000);
});
