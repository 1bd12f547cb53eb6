import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess, startGatewayStdio } from '../helpers/gateway-process.js';
import { readFixtureEvents } from '../helpers/processes.js';
import { EVERYTHING_MAIN, FILESYSTEM_MAIN, MEMORY_MAIN, realServersConfig } from '../helpers/real-servers.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { type RecordedTransport, recordWire } from '../helpers/wire-transport.js';

// One contract, run over every client transport the gateway serves (Hono's runTest pattern).

const CLIENT_CAPABILITIES = { sampling: {}, elicitation: {}, roots: { listChanged: true } };
const PROGRESS_STEPS = 8;

interface Connected {
  client: Client;
  wire: RecordedTransport<Transport>;
  listChanged: number;
  close(): Promise<void>;
}

function newClient(): { client: Client; counter: { listChanged: number } } {
  const client = new Client({ name: 'contract', version: '0.0.0' }, { capabilities: CLIENT_CAPABILITIES });
  client.setRequestHandler(CreateMessageRequestSchema, (request) => ({
    model: 'test-model',
    role: 'assistant',
    content: { type: 'text', text: `sampled: ${JSON.stringify(request.params.messages[0]?.content)}` },
  }));
  client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'accept', content: { answer: 'from the client' } }));
  client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: [{ uri: 'file:///contract-root', name: 'root' }] }));
  const counter = { listChanged: 0 };
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    counter.listChanged++;
  });
  return { client, counter };
}

async function connectWith(transport: Transport, close?: () => Promise<void>): Promise<Connected> {
  const { client, counter } = newClient();
  const wire = recordWire(transport);
  await client.connect(wire);
  return {
    client,
    wire,
    get listChanged() {
      return counter.listChanged;
    },
    close: close ?? (() => client.close()),
  };
}

/** Counts progress notifications of server-everything's long-running tool called directly, on the wire. */
async function directProgressCount(): Promise<number> {
  const { client } = newClient();
  const wire = recordWire(
    new StdioClientTransport({ command: process.execPath, args: [EVERYTHING_MAIN, 'stdio'], stderr: 'ignore' }),
  );
  await client.connect(wire);
  try {
    await client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 0.4, steps: PROGRESS_STEPS } },
      undefined,
      { onprogress: () => {} },
    );
    return wire.count('notifications/progress');
  } finally {
    await client.close();
  }
}

async function directToolNames(command: string[], env?: Record<string, string>): Promise<string[]> {
  const { client } = newClient();
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: command,
      env: { ...process.env, ...env } as Record<string, string>,
      stderr: 'ignore',
    }),
  );
  try {
    return (await client.listTools()).tools.map((tool) => tool.name);
  } finally {
    await client.close();
  }
}

let dir: TempDir;
let gateway: GatewayProcess;
let configPath: string;
let eventsFile: string;
let expectedTools: string[];
let directProgress: number;

beforeAll(async () => {
  dir = await createTempDir();
  eventsFile = dir.resolve('events.log');
  configPath = await dir.write('mcp.json', { servers: realServersConfig(dir.path, eventsFile) });
  gateway = await startGatewayProcess({ configPath });
  const [everything, memory, filesystem, progress] = await Promise.all([
    directToolNames([EVERYTHING_MAIN, 'stdio']),
    directToolNames([MEMORY_MAIN], { MEMORY_FILE_PATH: dir.resolve('direct-memory.jsonl') }),
    directToolNames([FILESYSTEM_MAIN, dir.path]),
    directProgressCount(),
  ]);
  expectedTools = [
    ...everything.map((name) => `everything__${name}`),
    ...memory.map((name) => `memory__${name}`),
    ...filesystem.map((name) => `filesystem__${name}`),
  ];
  directProgress = progress;
});

afterAll(async () => {
  await gateway?.stop();
  await dir?.[Symbol.asyncDispose]();
});

const transports: { name: string; connect(): Promise<Connected> }[] = [
  {
    name: 'Streamable HTTP /mcp',
    connect: () => connectWith(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`))),
  },
  { name: 'HTTP+SSE /sse', connect: () => connectWith(new SSEClientTransport(new URL(`${gateway.url}/sse`))) },
  {
    name: 'stdio (--stdio)',
    async connect() {
      const { client, counter } = newClient();
      const stdio = await startGatewayStdio({ configPath, client });
      return {
        client,
        wire: stdio.transport,
        get listChanged() {
          return counter.listChanged;
        },
        close: () => stdio.close(),
      };
    },
  },
];

describe.each(transports)('contract over $name', (transport) => {
  let c: Connected;
  beforeAll(async () => {
    c = await transport.connect();
    // Over stdio the gateway is a fresh process: wait until its servers are all listed.
    await waitFor(async () => (await c.client.listTools()).tools.length >= expectedTools.length, {
      timeoutMs: 20_000,
      message: 'all tools listed',
    });
  });
  afterAll(async () => {
    await c?.close();
  });

  it('lists every tool of every server, prefixed with its server name', async () => {
    const names = (await c.client.listTools()).tools.map((tool) => tool.name);
    for (const name of expectedTools) expect(names).toContain(name);
    expect(names).toContain('ok__echo');
    expect(names.every((name) => /^[A-Za-z0-9_.-]{1,128}$/.test(name))).toBe(true);
  });

  it('relays a tool call: everything__echo echoes', async () => {
    const result = await c.client.callTool({ name: 'everything__echo', arguments: { message: 'hello gateway' } });
    expect(result.content).toEqual([{ type: 'text', text: 'Echo: hello gateway' }]);
  });

  it('returns a prompt and a resource of server-everything', async () => {
    const prompt = await c.client.getPrompt({ name: 'everything__simple-prompt' });
    expect(prompt.messages.length).toBeGreaterThan(0);
    const { resources } = await c.client.listResources();
    const resource = resources.find((r) => r.uri.startsWith('demo://'));
    expect(resource).toBeDefined();
    const read = await c.client.readResource({ uri: resource!.uri });
    expect(read.contents[0]?.uri).toBe(resource!.uri);
  });

  it('delivers every progress notification, as many as the server sends directly', async () => {
    const before = c.wire.count('notifications/progress');
    await c.client.callTool(
      { name: 'everything__trigger-long-running-operation', arguments: { duration: 0.4, steps: PROGRESS_STEPS } },
      undefined,
      { onprogress: () => {} },
    );
    expect(directProgress).toBe(PROGRESS_STEPS);
    expect(c.wire.count('notifications/progress') - before).toBe(directProgress);
  });

  it('delivers progress that the server sends in the same chunk as its result', async () => {
    const before = c.wire.count('notifications/progress');
    await c.client.callTool({ name: 'ok__progress', arguments: { count: 20 } }, undefined, { onprogress: () => {} });
    expect(c.wire.count('notifications/progress') - before).toBe(20);
  });

  it('passes a cancellation on to the server', async () => {
    const controller = new AbortController();
    const call = c.client.callTool({ name: 'ok__slow', arguments: { ms: 30_000 } }, undefined, {
      signal: controller.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const cancelledBefore = (await readFixtureEvents(eventsFile)).filter((e) => e.event === 'CANCELLED').length;
    controller.abort('changed my mind');
    await expect(call).rejects.toThrow();
    await waitFor(
      async () => (await readFixtureEvents(eventsFile)).filter((e) => e.event === 'CANCELLED').length > cancelledBefore,
      { message: 'the server saw the cancellation' },
    );
  });

  it('routes a sampling request to the client and its answer back', async () => {
    const result = await c.client.callTool({
      name: 'everything__trigger-sampling-request',
      arguments: { prompt: 'ping from the server', maxTokens: 10 },
    });
    expect(JSON.stringify(result.content)).toContain('sampled:');
    expect(JSON.stringify(result.content)).toContain('ping from the server');
  });

  it('routes elicitation and roots requests made during a call to the calling client', async () => {
    const elicited = await c.client.callTool({ name: 'ok__elicit', arguments: { message: 'your name?' } });
    expect(JSON.stringify(elicited.content)).toContain('from the client');
    const roots = await c.client.callTool({ name: 'ok__roots', arguments: {} });
    expect(JSON.stringify(roots.content)).toContain('file:///contract-root');
  });

  it("relays a backend's tools/list_changed to the client, with the new tool listed", async () => {
    const before = c.listChanged;
    const toolName = `added_${transport.name.replace(/[^a-z]/gi, '')}`;
    await c.client.callTool({ name: 'ok__add_tool', arguments: { name: toolName } });
    await waitFor(() => c.listChanged > before, { message: 'tools/list_changed received' });
    const names = (await c.client.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain(`ok__${toolName}`);
  });

  it('answers an unknown tool with a clear error that suggests the right name', async () => {
    await expect(c.client.callTool({ name: 'everything__ecko', arguments: {} })).rejects.toThrow(/everything__echo/);
  });
});
