import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fixturePath } from '../helpers/paths.js';
import { EVERYTHING_MAIN } from '../helpers/real-servers.js';
import { recordWire } from '../helpers/wire-transport.js';
import { type InProcessGateway, startInProcessGateway } from './gateway.js';

let gateway: InProcessGateway;

beforeAll(async () => {
  gateway = await startInProcessGateway({
    mode: 'code',
    servers: {
      everything: { command: process.execPath, args: [EVERYTHING_MAIN, 'stdio'], description: 'MCP test server' },
      ok: { command: process.execPath, args: [fixturePath('ok')] },
    },
    namespaces: { open: { servers: ['everything'] }, private: { servers: ['ok'] } },
  });
});

afterAll(async () => {
  await gateway.close();
});

async function recordedClient(path = '/mcp') {
  const transport = recordWire(new StreamableHTTPClientTransport(new URL(gateway.url.replace(/\/mcp$/, path))));
  const client = new Client({ name: 'reporting', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

const CODE = `
  console.log("starting");
  const done = await api.call_tool("everything", "trigger-long-running-operation", { duration: 0.3, steps: 3 });
  console.warn("finished");
  return typeof done === "string" ? done.length > 0 : true;`;

describe('execute reports while it runs', () => {
  it('relays console lines and the inner call progress as progress notifications, counted on the wire', async () => {
    const { client, transport } = await recordedClient();
    try {
      const result = await client.callTool({ name: 'execute', arguments: { code: CODE } }, undefined, {
        onprogress: () => {},
        timeout: 30_000,
      });
      expect(result.structuredContent).toMatchObject({
        ok: true,
        logs: [
          { level: 'log', message: 'starting' },
          { level: 'warn', message: 'finished' },
        ],
      });
      const progress = transport.received.filter(
        (m): m is { method: string; params: { progress: number; message?: string } } & typeof m =>
          'method' in m && m.method === 'notifications/progress',
      );
      const messages = progress.map((m) => m.params.message ?? '');
      expect(messages[0]).toBe('log: starting');
      expect(messages.at(-1)).toBe('warn: finished');
      // The long-running operation reports each of its three steps.
      expect(messages.filter((m) => m.startsWith('everything/trigger-long-running-operation: '))).toHaveLength(3);
      const values = progress.map((m) => m.params.progress);
      expect(values).toEqual([...values].sort((a, b) => a - b));
      expect(new Set(values).size).toBe(values.length);
    } finally {
      await client.close();
    }
  });

  it('sends no progress when the client sent no progress token', async () => {
    const { client, transport } = await recordedClient();
    try {
      const result = await client.callTool({ name: 'execute', arguments: { code: CODE } }, undefined, {
        timeout: 30_000,
      });
      expect(result.structuredContent).toMatchObject({ ok: true });
      expect(transport.count('notifications/progress')).toBe(0);
    } finally {
      await client.close();
    }
  });
});

describe('code-mode instructions', () => {
  it('explain search then execute, and name only the servers the session can see', async () => {
    const { client } = await recordedClient();
    const scoped = await recordedClient('/ns/open/mcp');
    try {
      const text = client.getInstructions() ?? '';
      expect(text).toMatch(/1\. search/);
      expect(text).toMatch(/2\. execute/);
      expect(text).toContain('Servers: everything (MCP test server), ok.');
      expect(text).not.toContain('server>__');
      expect(Buffer.byteLength(text)).toBeLessThan(600);
      expect(scoped.client.getInstructions()).toContain('Servers: everything (MCP test server).');
    } finally {
      await client.close();
      await scoped.client.close();
    }
  });
});
