import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import type { CatalogServer, CatalogTool } from '../../src/catalog/types.js';
import type { CodeModeHost } from '../../src/codemode/host.js';
import { GatewayError } from '../../src/errors.js';

/**
 * A CodeModeHost over real MCP servers reached through SDK clients (in memory or stdio): what the gateway
 * gives Code Mode, minus everything that is not Code Mode's business. `deny` plays the access policy.
 */
export class TestHost implements CodeModeHost {
  private readonly servers = new Map<
    string,
    { client: Client; tools: Tool[]; description?: string; namespace?: string }
  >();
  private readonly listeners = new Set<() => void>();
  readonly deny = new Set<string>();
  /** Every call the host received, as `server/tool`. */
  readonly calls: string[] = [];
  /** Calls running now, and the most that ever ran at once. */
  inFlight = 0;
  maxInFlight = 0;

  async addInMemory(name: string, server: McpServer, options: { description?: string; namespace?: string } = {}) {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    await this.add(name, clientSide, options);
  }

  async addStdio(
    name: string,
    command: string,
    args: string[],
    options: { description?: string; env?: Record<string, string> } = {},
  ) {
    const env = options.env ? { ...getDefaultEnvironment(), ...options.env } : undefined;
    await this.add(name, new StdioClientTransport({ command, args, env, stderr: 'ignore' }), {
      description: options.description,
    });
  }

  private async add(name: string, transport: Transport, options: { description?: string; namespace?: string }) {
    const client = new Client({ name: 'codemode-test', version: '1.0.0' });
    await client.connect(transport);
    const { tools } = await client.listTools();
    this.servers.set(name, { client, tools, ...options });
    this.emit();
  }

  /** Lists a server's tools again (after it changed them) and tells listeners. */
  async refresh(name: string): Promise<void> {
    const entry = this.servers.get(name);
    if (!entry) return;
    entry.tools = (await entry.client.listTools()).tools;
    this.emit();
  }

  listServers(namespace?: string): CatalogServer[] {
    return [...this.servers]
      .filter(([, s]) => namespace === undefined || s.namespace === namespace)
      .map(([name, s]) => ({
        name,
        state: 'ready',
        toolCount: s.tools.length,
        ...(s.description ? { description: s.description } : {}),
        ...(s.namespace ? { namespace: s.namespace } : {}),
      }));
  }

  listTools(namespace?: string): CatalogTool[] {
    return this.listServers(namespace).flatMap((server) =>
      (this.servers.get(server.name)?.tools ?? []).map((tool) => ({
        publicName: `${server.name}__${tool.name}`,
        server: server.name,
        originalName: tool.name,
        definition: { ...tool, name: `${server.name}__${tool.name}` },
      })),
    );
  }

  async callTool(
    server: string,
    tool: string,
    args: Record<string, unknown>,
    options: { signal?: AbortSignal; namespace?: string },
  ): Promise<CallToolResult> {
    this.calls.push(`${server}/${tool}`);
    const entry = this.servers.get(server);
    if (!entry || !entry.tools.some((t) => t.name === tool)) {
      throw new GatewayError('TOOL_NOT_FOUND', `no tool ${server}/${tool}`);
    }
    if (this.deny.has(`${server}/${tool}`)) throw new GatewayError('ACCESS_DENIED', `${server}/${tool} is not allowed`);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return (await entry.client.callTool({ name: tool, arguments: args }, undefined, {
        signal: options.signal,
      })) as CallToolResult;
    } finally {
      this.inFlight--;
    }
  }

  onCatalogChanged(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.servers.values()].map((s) => s.client.close()));
    this.servers.clear();
  }
}

const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });

/** Weather: structured results with an output schema, and a tool that answers with JSON text. */
export function weatherServer(): McpServer {
  const server = new McpServer({ name: 'weather', version: '1.0.0' });
  server.registerTool(
    'get_forecast',
    {
      description: 'Get the weather forecast for a city. Returns the temperature in Celsius.',
      inputSchema: { city: z.string().describe('City name'), days: z.number().int().optional() },
      outputSchema: { city: z.string(), tempC: z.number() },
    },
    ({ city }) => {
      const structured = { city, tempC: city.length * 2 };
      return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
    },
  );
  server.registerTool(
    'get_alerts',
    { description: 'Active weather alerts for a region.', inputSchema: { region: z.string() } },
    ({ region }) => text(JSON.stringify({ region, alerts: [`storm in ${region}`] })),
  );
  return server;
}

/** Math: text results, tool errors, slow calls, and content that is not text. */
export function mathServer(): McpServer {
  const server = new McpServer({ name: 'math', version: '1.0.0' });
  server.registerTool(
    'add',
    { description: 'Add two numbers.', inputSchema: { a: z.number(), b: z.number() } },
    ({ a, b }) => text(String(a + b)),
  );
  server.registerTool(
    'divide',
    { description: 'Divide a by b.', inputSchema: { a: z.number(), b: z.number() } },
    ({ a, b }) => (b === 0 ? { ...text('division by zero'), isError: true } : text(String(a / b))),
  );
  server.registerTool(
    'slow',
    { description: 'Answer after ms milliseconds.', inputSchema: { ms: z.number() } },
    async ({ ms }) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return text(`slept ${ms}`);
    },
  );
  server.registerTool(
    'greet',
    { description: 'Say hello (plain text).', inputSchema: { name: z.string() } },
    ({ name }) => text(`hello ${name}`),
  );
  server.registerTool('lines', { description: 'Two text blocks.' }, () => ({
    content: [
      { type: 'text', text: 'first' },
      { type: 'text', text: 'second' },
    ],
  }));
  server.registerTool('pixel', { description: 'An image.' }, () => ({
    content: [{ type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' }],
  }));
  server.registerTool(
    'echo-args',
    { description: 'Return the arguments as received.', inputSchema: z.looseObject({}) },
    (args) =>
      text(
        JSON.stringify({ keys: Object.keys(args), protoIsObject: Object.getPrototypeOf(args) === Object.prototype }),
      ),
  );
  return server;
}

export const EVERYTHING_ENTRY = 'node_modules/@modelcontextprotocol/server-everything/dist/index.js';
export const MEMORY_ENTRY = 'node_modules/@modelcontextprotocol/server-memory/dist/index.js';
export const FILESYSTEM_ENTRY = 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js';
export const MANY_TOOLS_ENTRY = 'test/fixtures/servers/many-tools.mjs';
