// OpenTelemetry traces end to end: a real OTLP/HTTP receiver process, the gateway process, and upstreams that
// report the trace context they were sent (over stdio in `_meta`, over HTTP in `_meta` and headers).
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { collectLines } from '../helpers/lines.js';
import { fixturePath } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const RECEIVER = fileURLToPath(new URL('../helpers/otlp-receiver.mjs', import.meta.url));
const SERVER_KIND = 2;
const CLIENT_KIND = 3;
const ERROR_STATUS = 2;

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  status: { code: number; message: string };
  resource: Record<string, unknown>;
}

interface Seen {
  meta: { traceparent?: string; tracestate?: string };
  traceparent?: string;
  tracestate?: string;
}

/** A child process that prints "listening on <url>"; resolves with the URL. */
async function startListening(command: string[], env: NodeJS.ProcessEnv, stream: 'stdout' | 'stderr') {
  const child = spawn(process.execPath, command, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  collectLines(child[stream], lines);
  const url = await waitFor(() => lines.map((line) => /listening on (\S+)/.exec(line)?.[1]).find(Boolean), {
    message: `${command.join(' ')} to listen`,
  });
  return { child, url };
}

function hexId(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

let dir: TempDir;
let receiver: ChildProcess;
let receiverUrl: string;
let remote: ChildProcess;
let gateway: GatewayProcess;
const clients: Client[] = [];
const sessionIds = new WeakMap<Client, string>();

async function connect(headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'trace-test', version: '0.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers } });
  await client.connect(transport);
  sessionIds.set(client, transport.sessionId ?? '');
  clients.push(client);
  return client;
}

async function spans(): Promise<ReceivedSpan[]> {
  return (await (await fetch(`${receiverUrl}/spans`)).json()) as ReceivedSpan[];
}

async function spansOf(traceId: string, count: number): Promise<ReceivedSpan[]> {
  return waitFor(
    async () => {
      const found = (await spans()).filter((span) => span.traceId === traceId);
      return found.length >= count ? found : undefined;
    },
    { message: `${count} spans of trace ${traceId}` },
  );
}

async function callMeta(client: Client, tool: string, meta?: Record<string, string>): Promise<Seen> {
  const result = await client.callTool({ name: tool, arguments: {}, ...(meta ? { _meta: meta } : {}) });
  return JSON.parse((result.content as { text: string }[])[0]!.text) as Seen;
}

beforeAll(async () => {
  dir = await createTempDir();
  ({ child: receiver, url: receiverUrl } = await startListening([RECEIVER], {}, 'stdout'));
  const peer = await startListening([fixturePath('trace-peer')], { FIXTURE_HTTP_PORT: '0' }, 'stderr');
  remote = peer.child;
  const configPath = await dir.write('mcp.json', {
    tracing: { endpoint: `${receiverUrl}/v1/traces`, service_name: 'mcproxy-under-test' },
    mcpServers: {
      peer: { command: process.execPath, args: [fixturePath('trace-peer')] },
      remote: { url: peer.url, scope: 'shared' },
    },
  });
  gateway = await startGatewayProcess({ configPath });
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready: 2 of 2')), { message: 'start-up' });
});

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => {});
  await gateway?.stop();
  for (const child of [remote, receiver]) child?.kill('SIGKILL');
  await dir?.[Symbol.asyncDispose]();
});

describe('OpenTelemetry traces', () => {
  it("puts a tool call's client span and upstream span in the trace the client sent", async () => {
    const traceId = hexId(16);
    const clientSpanId = hexId(8);
    const traceparent = `00-${traceId}-${clientSpanId}-01`;
    const client = await connect();
    const seen = await callMeta(client, 'peer__meta', { traceparent, tracestate: 'vendor=opaque' });

    const [server, upstream] = await waitFor(async () => {
      const found = await spansOf(traceId, 2);
      const pair = [found.find((s) => s.kind === SERVER_KIND), found.find((s) => s.kind === CLIENT_KIND)];
      return pair[0] && pair[1] ? pair : undefined;
    });
    expect(server).toMatchObject({
      name: 'tools/call peer__meta',
      parentSpanId: clientSpanId,
      attributes: {
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'peer__meta',
        'gen_ai.operation.name': 'execute_tool',
        'network.transport': 'tcp',
        'network.protocol.name': 'http',
      },
      status: { code: 0 },
      resource: { 'service.name': 'mcproxy-under-test' },
    });
    expect(server!.traceState).toBe('vendor=opaque');
    // The session id is a bearer secret: the span carries a digest of it.
    expect(server!.attributes['mcp.session.id']).toMatch(/^[0-9a-f]{32}$/);
    const sessionId = sessionIds.get(client)!;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(await spans())).not.toContain(sessionId);
    expect(upstream).toMatchObject({
      name: 'tools/call meta',
      parentSpanId: server!.spanId,
      attributes: { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'meta', 'mcproxy.server': 'peer' },
    });
    expect(upstream!.attributes['network.transport']).toBe('pipe');
    // The upstream was sent the gateway's client span as its parent, in the client's trace.
    expect(seen.meta.traceparent).toBe(`00-${traceId}-${upstream!.spanId}-01`);
    expect(seen.meta.tracestate).toBe('vendor=opaque');
  });

  it('takes the traceparent of the HTTP request when _meta has none, and sends it to remote upstreams as headers', async () => {
    const traceId = hexId(16);
    const parent = hexId(8);
    const client = await connect({ traceparent: `00-${traceId}-${parent}-01` });
    const seen = await callMeta(client, 'remote__meta');
    const found = await spansOf(traceId, 2);
    const server = found.find((span) => span.kind === SERVER_KIND && span.name === 'tools/call remote__meta');
    const upstream = found.find((span) => span.kind === CLIENT_KIND && span.parentSpanId === server?.spanId);
    expect(server?.parentSpanId).toBe(parent);
    expect(upstream?.attributes).toMatchObject({ 'mcproxy.server': 'remote', 'network.protocol.name': 'http' });
    expect(upstream?.attributes['server.address']).toBe('127.0.0.1');
    expect(seen.meta.traceparent).toBe(`00-${traceId}-${upstream!.spanId}-01`);
    expect(seen.traceparent).toBe(seen.meta.traceparent);
  });

  it('takes the traceparent header of a 2026-07-28 request too', async () => {
    const traceId = hexId(16);
    const parent = hexId(8);
    const response = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'peer__meta',
        traceparent: `00-${traceId}-${parent}-01`,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name: 'peer__meta',
          arguments: {},
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      }),
    });
    expect(response.status).toBe(200);
    await response.text();
    const found = await spansOf(traceId, 2);
    const server = found.find((span) => span.kind === SERVER_KIND && span.name === 'tools/call peer__meta');
    expect(server?.parentSpanId).toBe(parent);
  });

  it('keeps concurrent calls of many clients in their own traces', async () => {
    const calls = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const traceId = hexId(16);
        const client = await connect();
        const tool = i % 2 === 0 ? 'peer__meta' : 'remote__meta';
        const seen = await callMeta(client, tool, { traceparent: `00-${traceId}-${hexId(8)}-01` });
        return { traceId, seen };
      }),
    );
    for (const { traceId, seen } of calls) expect(seen.meta.traceparent?.split('-')[1]).toBe(traceId);
    const all = await waitFor(async () => {
      const received = await spans();
      return calls.every(({ traceId }) => received.filter((span) => span.traceId === traceId).length === 2)
        ? received
        : undefined;
    });
    for (const { traceId } of calls) {
      const [a, b] = all.filter((span) => span.traceId === traceId);
      expect([a!.parentSpanId, b!.parentSpanId]).toContain(a!.kind === SERVER_KIND ? a!.spanId : b!.spanId);
    }
  });

  it('traces a stateless 2026-07-28 request by the traceparent in its _meta', async () => {
    const traceId = hexId(16);
    const parent = hexId(8);
    const response = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'peer__meta',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name: 'peer__meta',
          arguments: {},
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': {},
            traceparent: `00-${traceId}-${parent}-01`,
          },
        },
      }),
    });
    const answer = (await response.json()) as { result: { content: { text: string }[] } };
    const seen = JSON.parse(answer.result.content[0]!.text) as Seen;
    const found = await spansOf(traceId, 2);
    const server = found.find((span) => span.kind === SERVER_KIND);
    const upstream = found.find((span) => span.kind === CLIENT_KIND);
    expect(server).toMatchObject({ name: 'tools/call peer__meta', parentSpanId: parent });
    expect(upstream?.parentSpanId).toBe(server?.spanId);
    expect(seen.meta.traceparent).toBe(`00-${traceId}-${upstream!.spanId}-01`);
  });

  it('records a failed request as an error span, and starts a fresh trace for a malformed traceparent', async () => {
    const client = await connect();
    const traceId = hexId(16);
    const missing = await client
      .callTool({ name: 'peer__nope', arguments: {}, _meta: { traceparent: `00-${traceId}-${hexId(8)}-01` } })
      .catch((error: Error) => error);
    expect(missing).toBeInstanceOf(Error);
    const [failed] = await spansOf(traceId, 1);
    expect(failed).toMatchObject({
      kind: SERVER_KIND,
      status: { code: ERROR_STATUS },
      attributes: { 'error.type': '-32602', 'rpc.response.status_code': '-32602' },
    });
    expect(failed!.status.message).toContain('unknown tool "peer__nope"');

    const seen = await callMeta(client, 'peer__meta', { traceparent: 'not-a-trace-parent' });
    expect(seen.meta.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});
