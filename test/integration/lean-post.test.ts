// Issue 15: a POSTed request of an initialised /mcp session is answered by the gateway's lean path, straight onto
// the Node response, not through the SDK transport. A request whose answer is its first message, and comes within
// the grace, gets it as one JSON body (the spec lets a server pick either when the client accepts both); one that
// needs a stream (a notification first, a long call) gets what the SDK transport sends: the same headers, the
// priming event and event ids where the protocol version makes the stream resumable, none before it. In JSON mode
// (--json-response) every answer is one JSON body. Raw fetch, so that every byte of the answer is seen.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { readUntil } from '../helpers/read-until.js';
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

/** The SSE events of a response body read to its end: each one's lines, by field. */
function eventsOf(text: string): { id?: string; retry?: string; data: string }[] {
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const fields = Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line]));
      return {
        ...(fields.id ? { id: fields.id.slice('id: '.length) } : {}),
        ...(fields.retry ? { retry: fields.retry.slice('retry: '.length) } : {}),
        data: fields.data?.slice('data: '.length) ?? '',
      };
    });
}

describe('the lean path of /mcp', () => {
  it('answers a quick call with one JSON body: its answer was the first message, so no stream is opened', async () => {
    const headers = await openSession(sse, '2025-11-25');
    const response = await fetch(`${sse.url}/mcp`, { method: 'POST', headers, body: echoCall(7) });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('mcp-session-id')).toBe(headers['mcp-session-id']);
    const body = await response.text();
    expect(Number(response.headers.get('content-length'))).toBe(Buffer.byteLength(body));
    expect(JSON.parse(body)).toMatchObject({
      jsonrpc: '2.0',
      id: 7,
      result: { content: [{ type: 'text', text: 'hi' }] },
    });
  });

  it('streams even a quick answer to a client that lists text/event-stream first, as the SDK transport does', async () => {
    const headers = { ...(await openSession(sse, '2025-11-25')), accept: 'text/event-stream, application/json' };
    const response = await fetch(`${sse.url}/mcp`, { method: 'POST', headers, body: echoCall(6) });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const events = eventsOf(await response.text());
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ retry: '1000', data: '' });
    expect(events[0]!.id).toBeDefined();
    expect(events[1]!.id).toBeDefined();
    expect(JSON.parse(events[1]!.data)).toMatchObject({ id: 6, result: { content: [{ text: 'hi' }] } });
  });

  it('answers a quick call of a version before 2025-11-25 with one JSON body too', async () => {
    const headers = await openSession(sse, '2025-03-26');
    const response = await fetch(`${sse.url}/mcp`, { method: 'POST', headers, body: echoCall('s-1') });
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toMatchObject({ id: 's-1', result: {} });
  });

  it('opens the SSE stream when a notification comes before the answer: headers, priming event, progress, result', async () => {
    const headers = await openSession(sse, '2025-11-25');
    const response = await fetch(`${sse.url}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 8,
        method: 'tools/call',
        params: { name: 'ok__progress', arguments: { count: 2 }, _meta: { progressToken: 'p8' } },
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(response.headers.get('mcp-session-id')).toBe(headers['mcp-session-id']);
    const events = eventsOf(await response.text());
    expect(events[0]).toMatchObject({ retry: '1000', data: '' });
    for (const event of events) expect(event.id).toMatch(/^[^\s]+$/);
    const messages = events.slice(1).map((event) => JSON.parse(event.data));
    expect(messages.map((message) => message.method ?? 'result')).toEqual([
      'notifications/progress',
      'notifications/progress',
      'result',
    ]);
    expect(messages.at(-1)).toMatchObject({ id: 8, result: { content: [{ text: 'sent 2 progress notifications' }] } });
  });

  it('sends no priming event before 2025-11-25 when it opens the stream, and event ids still, as the SDK transport', async () => {
    const headers = await openSession(sse, '2025-03-26');
    const response = await fetch(`${sse.url}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 's-2',
        method: 'tools/call',
        params: { name: 'ok__progress', arguments: { count: 1 }, _meta: { progressToken: 'p' } },
      }),
    });
    const text = await response.text();
    expect(text).toMatch(/^(event: message\nid: [^\n]+\ndata: [^\n]+\n\n){2}$/);
    expect(JSON.parse(eventsOf(text)[1]!.data)).toMatchObject({ id: 's-2', result: {} });
  });

  it('opens the SSE stream of a call still running after its grace, and its client can resume it', async () => {
    const headers = await openSession(sse, '2025-11-25');
    const aborter = new AbortController();
    const call = await fetch(`${sse.url}/mcp`, {
      method: 'POST',
      headers,
      signal: aborter.signal,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 9,
        method: 'tools/call',
        params: { name: 'ok__slow', arguments: { ms: 2_000 } },
      }),
    });
    // The headers and the priming event come while the call runs: the client leaves with the id to resume from.
    expect(call.headers.get('content-type')).toBe('text/event-stream');
    const [priming] = eventsOf(await readUntil(call, '\n\n'));
    aborter.abort();
    expect(priming).toMatchObject({ retry: '1000', data: '' });
    const resumed = await fetch(`${sse.url}/mcp`, {
      headers: { ...headers, accept: 'text/event-stream', 'last-event-id': priming!.id! },
    });
    expect(resumed.status).toBe(200);
    const result = eventsOf(await readUntil(resumed, '"id":9')).find((event) => event.data.includes('"id":9'));
    expect(JSON.parse(result!.data)).toMatchObject({ id: 9, result: { content: [{ text: 'slept 2000 ms' }] } });
  });

  it('gives many concurrent sessions their own answers, JSON bodies and SSE streams alike', async () => {
    const clients = await Promise.all(
      Array.from({ length: 6 }, async (_, n) => {
        const client = new Client({ name: `lean-${n}`, version: '0' });
        await client.connect(new StreamableHTTPClientTransport(new URL(`${sse.url}/mcp`)));
        return client;
      }),
    );
    try {
      const answers = await Promise.all(
        clients.flatMap((client, n) =>
          Array.from({ length: 8 }, async (_, k) => {
            // Every fourth call runs past the grace (an SSE stream), the others are answered at once (JSON).
            const message = `session ${n} call ${k}`;
            const result =
              k % 4 === 3
                ? await client.callTool({ name: 'ok__slow', arguments: { ms: 400 + n } })
                : await client.callTool({ name: 'ok__echo', arguments: { message } });
            return [(result.content as { text: string }[])[0]!.text, k % 4 === 3 ? `slept ${400 + n} ms` : message];
          }),
        ),
      );
      for (const [got, wanted] of answers) expect(got).toBe(wanted);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
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
