// Issue 12: a server of the 2026-07-28 era only (an SDK v2 server that refuses `initialize`) serves its tools
// through the gateway, over stdio and over Streamable HTTP, to legacy clients (/mcp, /sse) and to 2026-07-28
// clients alike: its input_required results reach the calling client as ordinary requests or as its own
// input_required rounds, and its progress arrives. It is never restarted in a loop.
import { type ChildProcess, spawn } from 'node:child_process';

import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { HealthReport } from '../../src/gateway.js';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { recordWire } from '../helpers/wire-transport.js';

let dir: TempDir;
let gateway: GatewayProcess;
let httpServer: ChildProcess;

beforeAll(async () => {
  dir = await createTempDir();
  httpServer = spawn(process.execPath, [fixturePath('modern-only')], {
    env: { ...process.env, FIXTURE_TRANSPORT: 'http', PORT: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  httpServer.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await waitFor(() => /listening on (\d+)/.exec(stderr)?.[1], { message: 'the HTTP fixture to listen' });
  const configPath = await dir.write('mcp.json', {
    servers: {
      stdio: { command: process.execPath, args: [fixturePath('modern-only')] },
      http: { url: `http://127.0.0.1:${port}/mcp` },
    },
  });
  gateway = await startGatewayProcess({ configPath });
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready')), { message: 'start-up' });
});

afterAll(async () => {
  await gateway?.stop();
  httpServer?.kill('SIGKILL');
  await dir?.[Symbol.asyncDispose]();
});

function textOf(result: { content?: unknown }): string {
  return ((result.content as { text?: string }[] | undefined) ?? []).map((item) => item.text ?? '').join('\n');
}

async function legacyClient(kind: 'mcp' | 'sse', name: string) {
  const client = new Client({ name, version: '1.0.0' }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'accept', content: { name } }));
  const url = new URL(`${gateway.url}/${kind}`);
  // SDK v1 clients drop progress that shares a chunk with the result (SDK #2580): count on the wire.
  const wire = recordWire(kind === 'mcp' ? new StreamableHTTPClientTransport(url) : new SSEClientTransport(url));
  await client.connect(wire);
  return { client, wire };
}

async function modernClient(name: string): Promise<ModernClient> {
  const client = new ModernClient({ name, version: '1.0.0' }, {
    versionNegotiation: { mode: { pin: '2026-07-28' } },
    capabilities: { elicitation: { form: {} } },
  } as never);
  client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { name } }));
  await client.connect(new ModernTransport(new URL(`${gateway.url}/mcp`)));
  return client;
}

describe.each(['stdio', 'http'])('a 2026-07-28-only server over %s', (server) => {
  type Call = (name: string, args: object, onprogress?: () => void) => Promise<{ content?: unknown }>;
  // The SDK v1 and v2 clients take the request options in different places.
  const v1 = ({ client, wire }: Awaited<ReturnType<typeof legacyClient>>) => ({
    call: (async (name, args, onprogress) => {
      const before = wire.count('notifications/progress');
      const result = await client.callTool(
        { name, arguments: args as Record<string, unknown> },
        undefined,
        onprogress ? { onprogress: () => {} } : {},
      );
      for (let i = before; i < wire.count('notifications/progress'); i++) onprogress?.();
      return result;
    }) as Call,
    close: () => client.close(),
  });
  const v2 = (client: ModernClient) => ({
    call: ((name, args, onprogress) =>
      client.callTool({ name, arguments: args as Record<string, unknown> }, onprogress ? { onprogress } : {})) as Call,
    close: () => client.close(),
  });
  const clients: { name: string; open(): Promise<{ call: Call; close(): Promise<void> }> }[] = [
    { name: 'legacy /mcp', open: async () => v1(await legacyClient('mcp', `legacy-mcp-${server}`)) },
    { name: 'legacy /sse', open: async () => v1(await legacyClient('sse', `legacy-sse-${server}`)) },
    { name: '2026-07-28 /mcp', open: async () => v2(await modernClient(`modern-${server}`)) },
  ];

  it.each(clients)('serves $name: tools, input through the calling client, progress', async ({ open }) => {
    const client = await open();
    try {
      expect(textOf(await client.call(`${server}__echo`, { message: 'across eras' }))).toBe('across eras');
      const asked = await client.call(`${server}__ask`, { question: 'who are you?' });
      expect(textOf(asked)).toMatch(new RegExp(`hello (legacy-(mcp|sse)|modern)-${server}`));
      let progress = 0;
      const counted = await client.call(`${server}__count`, { steps: 5 }, () => progress++);
      expect(textOf(counted)).toBe('counted 5');
      expect(progress).toBe(5);
    } finally {
      await client.close();
    }
  });

  it('is ready in /health with no restarts: not mistaken for a broken server', async () => {
    const report = (await (await fetch(`${gateway.url}/health`)).json()) as HealthReport;
    expect(report.servers[server]).toMatchObject({ state: 'ready', restarts: 0, toolCount: 3 });
  });
});
