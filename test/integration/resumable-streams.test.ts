// Issue 12: resumable streams on /mcp (legacy era). A client drops its SSE stream in the middle of a call and
// reconnects with Last-Event-ID: it receives the progress it missed and the result, each once. The stream
// opens with a priming event that carries an id and `retry:`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { openRawSession } from '../helpers/raw-session.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

interface SseEvent {
  id?: string;
  retry?: number;
  data: string;
}

/** Reads SSE events from a response until `stop` says so (or the stream ends). */
async function readEvents(response: Response, stop: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: SseEvent = { data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('id:')) event.id = line.slice(3).trim();
        else if (line.startsWith('retry:')) event.retry = Number(line.slice(6));
        else if (line.startsWith('data:')) event.data += line.slice(5).trim();
      }
      if (event.id !== undefined || event.data !== '') events.push(event);
      if (stop(events)) {
        await reader.cancel().catch(() => {});
        return events;
      }
      end = buffer.indexOf('\n\n');
    }
  }
  return events;
}

let dir: TempDir;
let gateway: GatewayProcess;

beforeAll(async () => {
  dir = await createTempDir();
  const configPath = await dir.write('mcp.json', {
    servers: { ok: { command: process.execPath, args: [fixturePath('ok')] } },
  });
  gateway = await startGatewayProcess({ configPath });
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready')), { message: 'start-up' });
});

afterAll(async () => {
  await gateway?.stop();
  await dir?.[Symbol.asyncDispose]();
});

describe('resumable /mcp streams', () => {
  it('a client that drops its stream mid-call and reconnects with Last-Event-ID gets the missed progress and the result', async () => {
    const headers = await openRawSession(`${gateway.url}/mcp`, '2025-11-25', 'resumer');

    const aborter = new AbortController();
    const call = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers,
      signal: aborter.signal,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'ok__progress', arguments: { count: 8, delayMs: 150 }, _meta: { progressToken: 'p' } },
      }),
    });
    const progressOf = (events: SseEvent[]) =>
      events.filter((event) => event.data.includes('notifications/progress')).map((event) => JSON.parse(event.data));
    const before = await readEvents(call, (events) => progressOf(events).length >= 2);
    aborter.abort();
    const priming = before[0]!;
    expect(priming.id).toBeDefined();
    expect(priming.data).toBe('');
    expect(priming.retry).toBe(1000);
    const lastId = before.at(-1)!.id!;

    // The call goes on meanwhile; the client comes back after a moment.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const resumed = await fetch(`${gateway.url}/mcp`, {
      headers: { ...headers, accept: 'text/event-stream', 'last-event-id': lastId },
    });
    expect(resumed.status).toBe(200);
    const after = await readEvents(resumed, (events) => events.some((event) => event.data.includes('"id":2')));
    const steps = [...progressOf(before), ...progressOf(after)].map((message) => message.params.progress);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const result = JSON.parse(after.find((event) => event.data.includes('"id":2'))!.data);
    expect(result.result.content[0].text).toBe('sent 8 progress notifications');
  });

  it('a Last-Event-ID the session no longer holds is refused with a JSON-RPC error', async () => {
    const session = (await openRawSession(`${gateway.url}/mcp`, '2025-11-25', 'resumer'))['mcp-session-id']!;
    const response = await fetch(`${gateway.url}/mcp`, {
      headers: {
        accept: 'text/event-stream',
        'mcp-session-id': session,
        'mcp-protocol-version': '2025-11-25',
        'last-event-id': 'made-up|42',
      },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      jsonrpc: '2.0',
      error: {
        code: -32000,
        message: expect.stringMatching(/event made-up\|42 is no longer stored.*start the request again/),
      },
    });
  });
});
