// Issue 12: the gateway's own lists come in pages. 2,100 tools from two servers are listed page by page, over
// both eras, and the pages add up to the whole catalog; a cursor the gateway did not hand out is -32602.
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const PAGE = 250;
let dir: TempDir;
let gateway: GatewayProcess;

beforeAll(async () => {
  dir = await createTempDir();
  const many = (name: string, count: number) => ({
    command: process.execPath,
    args: [fixturePath('many-tools')],
    env: { TOOL_COUNT: String(count), FIXTURE_NAME: name },
  });
  const configPath = await dir.write('mcp.json', {
    page_size: PAGE,
    servers: { alpha: many('alpha', 1200), beta: many('beta', 900) },
  });
  gateway = await startGatewayProcess({ configPath });
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready')), { message: 'start-up' });
});

afterAll(async () => {
  await gateway?.stop();
  await dir?.[Symbol.asyncDispose]();
});

async function allPages(list: (cursor?: string) => Promise<{ tools: { name: string }[]; nextCursor?: string }>) {
  const names: string[] = [];
  const sizes: number[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const result = await list(cursor);
    names.push(...result.tools.map((tool) => tool.name));
    sizes.push(result.tools.length);
    cursor = result.nextCursor;
    if (cursor === undefined) break;
  }
  return { names, sizes, cursor };
}

describe('the gateway lists 2,100 tools in pages', () => {
  it('legacy era: pages of page_size add up to the whole catalog, in order, without repeats', async () => {
    const client = new Client({ name: 'pager', version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
    const { names, sizes, cursor } = await allPages((next) =>
      client.listTools(next === undefined ? {} : { cursor: next }),
    );
    expect(cursor).toBeUndefined();
    expect(names).toHaveLength(2100);
    expect(new Set(names).size).toBe(2100);
    expect(sizes.slice(0, -1).every((size) => size === PAGE)).toBe(true);
    expect(names.filter((name) => name.startsWith('alpha__'))).toHaveLength(1200);
    await expect(client.listTools({ cursor: 'not-a-cursor' })).rejects.toThrow(/cursor/);
    await expect(client.listTools({ cursor: Buffer.from('prompts:250').toString('base64url') })).rejects.toThrow(
      /cursor/,
    );
    await client.close();
  });

  it('2026-07-28 era: the same pages, and a bad cursor is -32602', async () => {
    const client = new ModernClient({ name: 'pager', version: '0' }, {
      versionNegotiation: { mode: { pin: '2026-07-28' } },
    } as never);
    await client.connect(new ModernTransport(new URL(`${gateway.url}/mcp`)));
    const { names } = await allPages(
      (next) =>
        client.listTools(next === undefined ? {} : { cursor: next }) as Promise<{
          tools: { name: string }[];
          nextCursor?: string;
        }>,
    );
    expect(new Set(names).size).toBe(2100);
    const response = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/list',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/list',
        params: {
          cursor: 'forged',
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      }),
    });
    expect(await response.json()).toMatchObject({ id: 3, error: { code: -32602 } });
    await client.close();
  });
});
