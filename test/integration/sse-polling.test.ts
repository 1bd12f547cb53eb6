// Issue 12: SSE polling (SEP-1699) through the gateway. The conformance fixture's `test_reconnection` closes the
// POST's SSE stream mid-call, after its priming event; the gateway closes its client's stream of that call the
// same way when the client can resume it, and serves the result to the client's GET with Last-Event-ID. A client
// whose version has no resumable streams (2025-06-18: no priming event) keeps its stream and gets the result on it.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type HttpFixture, startConformanceFixtureHttp } from '../helpers/conformance.js';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { openRawSession } from '../helpers/raw-session.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

interface SseEvent {
  id?: string;
  retry?: number;
  data: string;
}

/** Reads a response's SSE events until it ends, or until `stop` says so (then it is cancelled); bounded. */
async function readEvents(response: Response, stop: (events: SseEvent[]) => boolean = () => false) {
  const events: SseEvent[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const deadline = setTimeout(() => void reader.cancel(), 10_000);
  let buffer = '';
  let ended = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const event: SseEvent = { data: '' };
        for (const line of buffer.slice(0, end).split('\n')) {
          if (line.startsWith('id:')) event.id = line.slice(3).trim();
          else if (line.startsWith('retry:')) event.retry = Number(line.slice(6));
          else if (line.startsWith('data:')) event.data += line.slice(5).trim();
        }
        buffer = buffer.slice(end + 2);
        if (event.id !== undefined || event.data !== '') events.push(event);
      }
      if (stop(events)) {
        await reader.cancel().catch(() => {});
        break;
      }
    }
  } finally {
    clearTimeout(deadline);
  }
  return { events, ended };
}

const hasResult = (events: SseEvent[]) => events.some((event) => event.data.includes('"result"'));

let dir: TempDir;
let gateway: GatewayProcess;
let fixture: HttpFixture;

beforeAll(async () => {
  dir = await createTempDir();
  fixture = await startConformanceFixtureHttp();
  const configPath = await dir.write('mcp.json', { servers: { conformance: { url: fixture.url } } });
  gateway = await startGatewayProcess({ configPath });
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready')), { message: 'start-up' });
});

afterAll(async () => {
  await gateway?.stop();
  await fixture?.stop();
  await dir?.[Symbol.asyncDispose]();
});

/** A raw legacy session on /mcp at `version`; returns the headers of its later requests. */
const openSession = (version: string) => openRawSession(`${gateway.url}/mcp`, version, 'poller');

function callReconnection(headers: Record<string, string>): Promise<Response> {
  return fetch(`${gateway.url}/mcp`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'conformance__test_reconnection', arguments: {} },
    }),
  });
}

describe('a server that closes the POST stream mid-call (SEP-1699)', () => {
  it('closes the resumable client stream too, and serves the result on the GET with Last-Event-ID', async () => {
    const headers = await openSession('2025-11-25');
    const post = await readEvents(await callReconnection(headers));
    // The stream ended without the result: the client is to poll, as the server told the gateway.
    expect(post.ended).toBe(true);
    expect(hasResult(post.events)).toBe(false);
    const priming = post.events[0]!;
    expect(priming).toMatchObject({ data: '', retry: 1000 });
    expect(priming.id).toBeDefined();

    const resumed = await fetch(`${gateway.url}/mcp`, {
      headers: { ...headers, accept: 'text/event-stream', 'last-event-id': post.events.at(-1)!.id! },
    });
    expect(resumed.status).toBe(200);
    const { events } = await readEvents(resumed, hasResult);
    const result = JSON.parse(events.find((event) => event.data.includes('"result"'))!.data);
    expect(result).toMatchObject({ id: 2, result: { content: [{ type: 'text' }] } });
    expect(result.result.content[0].text).toMatch(/properly reconnected/);
  });

  it('keeps the stream of a client that cannot resume open, and answers on it', async () => {
    const headers = await openSession('2025-06-18');
    const { events } = await readEvents(await callReconnection(headers), hasResult);
    expect(events.some((event) => event.data === '')).toBe(false); // no priming event: nothing to resume from
    expect(hasResult(events)).toBe(true);
  });

  it('an SDK client reconnects by itself and gets the result', async () => {
    const client = new Client({ name: 'sdk-poller', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
    try {
      const result = await client.callTool({ name: 'conformance__test_reconnection', arguments: {} });
      expect(JSON.stringify(result.content)).toMatch(/properly reconnected/);
    } finally {
      await client.close();
    }
  });
});
