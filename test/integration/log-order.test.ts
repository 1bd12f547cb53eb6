// A stdio server's log during a call carries nothing that ties it to the call, so the gateway cannot know it
// belongs there; over Streamable HTTP it still has to reach the client before the call's result, as the server
// wrote them, and reach each session that may see it exactly once.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { readUntil } from '../helpers/read-until.js';
import { createTempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const CALLS = 40;

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startGateway(args: string[] = []): Promise<GatewayProcess> {
  const dir = await createTempDir();
  cleanups.push(() => dir[Symbol.asyncDispose]());
  const config = { servers: { srv: { command: process.execPath, args: [fixturePath('ok')] } } };
  const gateway = await startGatewayProcess({ configPath: await dir.write('mcp.json', config), args });
  cleanups.push(() => gateway.stop());
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready')), { message: 'start-up' });
  return gateway;
}

/** A client that writes down, in order, each log it receives and each result it gets. */
async function recordingClient(url: string) {
  const client = new Client({ name: 'log-order', version: '0.0.0' }, { capabilities: {} });
  const events: string[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    events.push(`log ${String(notification.params.data)}`);
  });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  cleanups.push(() => client.close());
  await client.setLoggingLevel('debug');
  const call = async (message: string) => {
    await client.callTool({ name: 'srv__log', arguments: { message } });
    events.push(`result ${message}`);
  };
  return { client, transport, events, call };
}

/** Posts a call in the client's session and hangs up after `abandonAfterMs`, saying nothing (no cancellation). */
async function abandonedCall(url: string, transport: StreamableHTTPClientTransport, abandonAfterMs: number) {
  const posted = fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': transport.sessionId!,
      'mcp-protocol-version': transport.protocolVersion!,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 'abandoned',
      method: 'tools/call',
      params: { name: 'srv__slow', arguments: { ms: 20_000 } },
    }),
    signal: AbortSignal.timeout(abandonAfterMs),
  });
  // Past its grace the call has an SSE stream: the response's headers come, and its body is then dropped.
  const response = await posted.catch(() => undefined);
  await response?.body?.cancel().catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, abandonAfterMs));
}

describe('a log a stdio server writes during a call, over /mcp', () => {
  it('reaches the client before the result of its call, every time', async () => {
    const gateway = await startGateway();
    const { events, call } = await recordingClient(`${gateway.url}/mcp`);
    for (let i = 0; i < CALLS; i++) await call(`m${i}`);
    const late = [];
    for (let i = 0; i < CALLS; i++) {
      const log = events.indexOf(`log m${i}`);
      if (log === -1 || log > events.indexOf(`result m${i}`)) late.push(i);
    }
    expect(late, 'calls whose log came after their result, or never').toEqual([]);
    expect(events.filter((event) => event.startsWith('log'))).toHaveLength(CALLS);
  });

  for (const [when, abandonAfterMs] of [
    ['within its JSON grace', 50],
    ['after its stream opened', 600],
  ] as const) {
    it(`a call its client hung up on ${when} takes no logs: they reach the session's standalone stream`, async () => {
      const gateway = await startGateway();
      const { client, transport, events } = await recordingClient(`${gateway.url}/mcp`);
      await abandonedCall(`${gateway.url}/mcp`, transport, abandonAfterMs);
      // The abandoned call is still in flight upstream (nobody cancelled it): these logs are tied to no call.
      await client.callTool({ name: 'srv__log_later', arguments: { message: 'later', levels: ['info', 'error'] } });
      await waitFor(() => events.filter((event) => event.startsWith('log later')).length === 2, {
        message: 'both later logs at the client',
      });
    });
  }

  it('a call stream its client resumed (Last-Event-ID) takes the logs again, ahead of its result', async () => {
    const gateway = await startGateway();
    const url = `${gateway.url}/mcp`;
    const { client, transport, events } = await recordingClient(url);
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': transport.sessionId!,
      'mcp-protocol-version': transport.protocolVersion!,
    };
    const hangUp = new AbortController();
    const call = await fetch(url, {
      method: 'POST',
      headers,
      signal: hangUp.signal,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'long',
        method: 'tools/call',
        params: { name: 'srv__slow', arguments: { ms: 3_000 } },
      }),
    });
    expect(call.headers.get('content-type')).toBe('text/event-stream');
    const priming = await readUntil(call, '\n\n');
    hangUp.abort(); // a network blip: the client comes back for the same stream
    const lastEventId = /id: ([^\n]+)/.exec(priming)![1]!;
    const resumed = await fetch(url, {
      headers: { ...headers, accept: 'text/event-stream', 'last-event-id': lastEventId },
    });
    expect(resumed.status).toBe(200);
    // Its headers came: the gateway has the resumed stream registered for the call.
    const resumedText = readUntil(resumed, '"id":"long"');
    await client.callTool({ name: 'srv__log_later', arguments: { message: 'later', levels: ['info'] } });

    const text = await resumedText;
    expect(text.indexOf('later (info)')).toBeGreaterThan(-1);
    expect(text.indexOf('later (info)')).toBeLessThan(text.indexOf('"id":"long"'));
    expect(events.filter((event) => event.startsWith('log later'))).toEqual([]);
  });

  it('under --json-response (no call streams), still reaches the client, once', async () => {
    const gateway = await startGateway(['--json-response']);
    const { events, call } = await recordingClient(`${gateway.url}/mcp`);
    for (let i = 0; i < 10; i++) await call(`j${i}`);
    await waitFor(() => events.filter((event) => event.startsWith('log')).length >= 10, {
      message: 'the ten logs on the standalone stream',
    });
    const logs = events.filter((event) => event.startsWith('log')).sort();
    expect(logs).toEqual(Array.from({ length: 10 }, (_, i) => `log j${i}`).sort());
  });

  it('two sessions calling the shared server at once: each sees every log exactly once, and in order where it can', async () => {
    const gateway = await startGateway();
    const a = await recordingClient(`${gateway.url}/mcp`);
    const b = await recordingClient(`${gateway.url}/mcp`);
    await Promise.all([
      (async () => {
        for (let i = 0; i < 15; i++) await a.call(`a${i}`);
      })(),
      (async () => {
        for (let i = 0; i < 15; i++) await b.call(`b${i}`);
      })(),
    ]);
    // A shared server's logs go to every session that may see it; the standalone streams may lag behind.
    const expected = [
      ...Array.from({ length: 15 }, (_, i) => `log a${i}`),
      ...Array.from({ length: 15 }, (_, i) => `log b${i}`),
    ];
    for (const client of [a, b]) {
      await waitFor(() => client.events.filter((event) => event.startsWith('log')).length >= 30, {
        message: 'all thirty logs at each session',
      });
      expect(client.events.filter((event) => event.startsWith('log')).sort()).toEqual(expected.sort());
    }
  });
});
