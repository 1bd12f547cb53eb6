// A legacy HTTP+SSE upstream (server-everything's own `sse` transport) behind the gateway: its client module is
// loaded only when a config has such a server, so this is the test that it still loads, connects and relays.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type EverythingHttp, freePort, startEverythingHttp } from '../helpers/everything-http.js';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { textOf } from './access-helpers.js';

let dir: TempDir;
let remote: EverythingHttp;
let gateway: GatewayProcess;

beforeAll(async () => {
  dir = await createTempDir();
  remote = await startEverythingHttp(await freePort(), 'sse');
  const configPath = await dir.write('mcp.json', { servers: { legacy: { url: remote.url, type: 'sse' } } });
  gateway = await startGatewayProcess({ configPath });
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready: 1 of 1')), { message: 'start-up' });
});

afterAll(async () => {
  await gateway?.stop();
  await remote?.stop();
  await dir?.[Symbol.asyncDispose]();
});

describe('a legacy SSE upstream', () => {
  it('is listed and called through the gateway, with its progress', async () => {
    const client = new Client({ name: 'sse-upstream-test', version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toContain('legacy__echo');
      const echoed = await client.callTool({ name: 'legacy__echo', arguments: { message: 'over sse' } });
      expect(textOf(echoed)).toContain('over sse');
      const progress: number[] = [];
      await client.callTool(
        { name: 'legacy__trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
        undefined,
        { onprogress: ({ progress: step }) => progress.push(step) },
      );
      expect(progress).toEqual([1, 2, 3]);
    } finally {
      await client.close();
    }
  });
});
