import { once } from 'node:events';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { openRawSse } from '../helpers/raw-sse.js';
import { EVERYTHING_MAIN } from '../helpers/real-servers.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

let dir: TempDir;
let gateway: GatewayProcess;

beforeAll(async () => {
  dir = await createTempDir();
  const configPath = await dir.write('mcp.json', {
    servers: { everything: { command: process.execPath, args: [EVERYTHING_MAIN, 'stdio'] } },
  });
  gateway = await startGatewayProcess({ configPath });
  await waitFor(async () => (await fetch(`${gateway.url}/health`)).status === 200, { timeoutMs: 20_000 });
});

afterAll(async () => {
  await gateway?.stop();
  await dir?.[Symbol.asyncDispose]();
});

/** How many sessions the gateway holds, as /health says. */
async function sessionCount(): Promise<number> {
  return ((await (await fetch(`${gateway.url}/health`)).json()) as { sessions: number }).sessions;
}

/**
 * A raw connection: writes `first`, and once `ready` is in what came back, writes `then`; resolves with all it
 * received when the gateway closes the connection (or, bounded, after 15 s).
 */
async function rawExchange(first: string, ready: string, then: string): Promise<{ text: string; closed: boolean }> {
  const url = new URL(gateway.url);
  const socket = connect(Number(url.port), url.hostname);
  socket.setEncoding('utf8');
  let text = '';
  let sent = false;
  socket.on('data', (chunk: string) => {
    text += chunk;
    if (!sent && text.includes(ready)) {
      sent = true;
      socket.write(then);
    }
  });
  await once(socket, 'connect');
  socket.write(first);
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    once(socket, 'close').then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 15_000))),
  ]);
  clearTimeout(timer);
  socket.destroy();
  return { text, closed };
}

describe('a client that breaks its own connection', () => {
  it('gets no HTTP head inside the stream it is reading when it pipelines garbage after GET /sse', async () => {
    const before = await sessionCount();
    const { text, closed } = await rawExchange(
      'GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n',
      'event: endpoint',
      'NOT HTTP AT ALL\r\n\r\n',
    );
    expect(closed).toBe(true);
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    // Before: "HTTP/1.1 400 Bad Request ..." was written into the chunked SSE body, which no client can parse.
    expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    await waitFor(async () => (await sessionCount()) === before, { timeoutMs: 10_000 });
  });
});

const initialize = (id: number, protocolVersion: string) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: 'hostile', version: '1' } },
  });

describe('a second initialize in a session', () => {
  it('is refused on /message as on /mcp, with nothing of its POST run, and the session goes on', async () => {
    const sse = await openRawSse(`${gateway.url}/sse`);
    const post = (body: string) =>
      fetch(`${gateway.url}${sse.endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    try {
      expect((await post(initialize(1, '2024-11-05'))).status).toBe(202);
      await waitFor(() => sse.messages.length === 1, { timeoutMs: 10_000 });
      expect((await post('{"jsonrpc":"2.0","method":"notifications/initialized"}')).status).toBe(202);

      const again = await post(initialize(2, '2025-06-18'));
      expect(again.status).toBe(400);
      expect(await again.json()).toEqual({
        jsonrpc: '2.0',
        id: 2,
        error: { code: -32600, message: 'Invalid Request: Server already initialized' },
      });
      const batch = await post(`[{"jsonrpc":"2.0","id":3,"method":"ping"},${initialize(4, '2025-06-18')}]`);
      expect(batch.status).toBe(400);
      expect(await batch.json()).toMatchObject([
        { id: 3, error: { code: -32600, message: expect.stringMatching(/not run/) } },
        { id: 4, error: { code: -32600, message: 'Invalid Request: Server already initialized' } },
      ]);

      expect((await post('{"jsonrpc":"2.0","id":5,"method":"ping"}')).status).toBe(202);
      await waitFor(() => sse.messages.some((message) => (message as { id?: unknown }).id === 5), {
        timeoutMs: 10_000,
      });
      // Only the first initialize and the last ping were answered on the stream.
      expect(sse.messages.map((message) => (message as { id?: unknown }).id)).toEqual([1, 5]);
    } finally {
      sse.close();
    }
  });
});

describe('a body that is not UTF-8', () => {
  it('is refused with a parse error on /mcp and /message, rather than reaching the server as U+FFFD', async () => {
    const call = Buffer.concat([
      Buffer.from(
        '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"everything__echo","arguments":{"message":"',
      ),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"}}}'),
    ]);
    for (const path of ['/mcp', '/message']) {
      const response = await fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: call,
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32700, message: 'Parse error: the body is not valid UTF-8' },
      });
    }
  });
});

describe('a compressed body', () => {
  it('is refused with 415 naming the encoding on /mcp and /message, not read as broken JSON', async () => {
    const call = '{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"everything__echo","arguments":{}}}';
    for (const path of ['/mcp', '/message']) {
      const response = await fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          accept: 'application/json, text/event-stream',
        },
        body: gzipSync(call),
      });
      expect(response.status).toBe(415);
      expect(await response.json()).toMatchObject({
        jsonrpc: '2.0',
        error: { message: 'Unsupported Media Type: Content-Encoding "gzip" is not accepted; send the body as is' },
      });
    }
  });
});

describe('a request without Host', () => {
  it('gets a 400 that says what was missing, as a JSON-RPC error', async () => {
    const body = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
    const request = `POST /mcp HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    // Nothing to wait for before a second write: the answer arrives and the connection closes.
    const { text, closed } = await rawExchange(request, 'never in an answer', '');
    expect(closed).toBe(true);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('"message":"Bad Request: an HTTP/1.1 request must carry a Host header"');
  });
});
