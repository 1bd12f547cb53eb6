// Issue 15: a POSTed request of an initialised /mcp session is answered by the gateway's lean path, straight onto
// the Node response, not through the SDK transport. What the client receives must be what the SDK transport sends:
// the same headers, the priming event and event ids where the protocol version makes the stream resumable, none
// before it, and in JSON mode one JSON body. Raw fetch, so that every byte of the answer is seen.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const BASE = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

let dir: TempDir;
let sse: GatewayProcess;
let json: GatewayProcess;

beforeAll(async () => {
  dir = await createTempDir();
  const configPath = await dir.write('mcp.json', {
    servers: { ok: { command: process.execPath, args: [fixturePath('ok')] } },
  });
  [sse, json] = await Promise.all([
    startGatewayProcess({ configPath }),
    startGatewayProcess({ configPath, args: ['--json-response'] }),
  ]);
  for (const gateway of [sse, json])
    await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready')), { message: 'start-up' });
});

afterAll(async () => {
  await Promise.all([sse?.stop(), json?.stop()]);
  await dir?.[Symbol.asyncDispose]();
});

/** An initialised session; returns the headers its requests carry. */
async function openSession(gateway: GatewayProcess, version: string): Promise<Record<string, string>> {
  const init = await fetch(`${gateway.url}/mcp`, {
    method: 'POST',
    headers: BASE,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'lean', version: '0' } },
    }),
  });
  const session = init.headers.get('mcp-session-id')!;
  await init.text();
  const headers = { ...BASE, 'mcp-session-id': session, 'mcp-protocol-version': version };
  const initialized = await fetch(`${gateway.url}/mcp`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  expect(initialized.status).toBe(202);
  return headers;
}

const echoCall = (id: number | string) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'ok__echo', arguments: { message: 'hi' } },
  });

describe('the lean path of /mcp', () => {
  it('answers a call with the SDK transport’s SSE stream: headers, priming event, event ids, then the end', async () => {
    const headers = await openSession(sse, '2025-11-25');
    const response = await fetch(`${sse.url}/mcp`, { method: 'POST', headers, body: echoCall(7) });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(response.headers.get('mcp-session-id')).toBe(headers['mcp-session-id']);
    const text = await response.text();
    const events = text.split('\n\n').filter(Boolean);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatch(/^id: [^\n]+\nretry: 1000\ndata: $/);
    const [event, id, data] = events[1]!.split('\n');
    expect(event).toBe('event: message');
    expect(id).toMatch(/^id: [^\n]+$/);
    const message = JSON.parse(data!.slice('data: '.length));
    expect(message).toMatchObject({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'hi' }] } });
  });

  it('sends no priming event before 2025-11-25, and event ids still, as the SDK transport', async () => {
    const headers = await openSession(sse, '2025-03-26');
    const response = await fetch(`${sse.url}/mcp`, { method: 'POST', headers, body: echoCall('s-1') });
    const text = await response.text();
    expect(text).toMatch(/^event: message\nid: [^\n]+\ndata: [^\n]+\n\n$/);
    expect(JSON.parse(text.split('data: ')[1]!)).toMatchObject({ id: 's-1', result: {} });
  });

  it('answers with one JSON body under --json-response', async () => {
    const headers = await openSession(json, '2025-11-25');
    const response = await fetch(`${json.url}/mcp`, { method: 'POST', headers, body: echoCall(3) });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('mcp-session-id')).toBe(headers['mcp-session-id']);
    const body = await response.text();
    expect(Number(response.headers.get('content-length'))).toBe(Buffer.byteLength(body));
    expect(JSON.parse(body)).toMatchObject({
      jsonrpc: '2.0',
      id: 3,
      result: { content: [{ type: 'text', text: 'hi' }] },
    });
  });

  it('leaves what it does not take to the SDK transport: a batch, and a refusal of bad headers', async () => {
    const headers = await openSession(json, '2025-03-26');
    const batch = await fetch(`${json.url}/mcp`, {
      method: 'POST',
      headers,
      body: `[${echoCall(1)},${echoCall(2)}]`,
    });
    expect(((await batch.json()) as { id: number }[]).map((answer) => answer.id).sort()).toEqual([1, 2]);
    const refused = await fetch(`${json.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, accept: 'application/json' },
      body: echoCall(4),
    });
    expect(refused.status).toBe(406);
    const unsupported = await fetch(`${json.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, 'mcp-protocol-version': '1999-01-01' },
      body: echoCall(5),
    });
    expect(unsupported.status).toBe(400);
  });
});
