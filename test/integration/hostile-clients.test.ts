import { once } from 'node:events';
import { connect } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
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
