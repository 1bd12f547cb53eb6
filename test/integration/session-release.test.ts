// Issue 15: memory after sessions close returns only if a closed session leaves nothing behind. Many sessions,
// on both HTTP fronts, each listing, calling, subscribing and setting a log level, then closed: every map of the
// gateway that holds per-session state must be empty again (a count, never a timing or an RSS figure).
import { createHook } from 'node:async_hooks';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseConfigText } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { createSilentLogger } from '../../src/observability/log.js';
import { GatewayHttpServer } from '../../src/serve/http-server.js';
import { fixturePath } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait-for.js';

const ROUNDS = 3;
const STREAMABLE_PER_ROUND = 20;
const SSE_PER_ROUND = 10;

let gateway: Gateway;
let http: GatewayHttpServer;
let base: string;

beforeAll(async () => {
  const config = parseConfigText(
    JSON.stringify({ servers: { ok: { command: process.execPath, args: [fixturePath('ok')] } } }),
    { format: 'json', env: {} },
  );
  gateway = new Gateway({ config, logger: createSilentLogger() });
  await gateway.start();
  http = new GatewayHttpServer(gateway, { host: '127.0.0.1', port: 0 });
  base = (await http.listen()).replace(/\/$/, '');
});

afterAll(async () => {
  await http?.close();
  await gateway?.close();
});

/** One client session that uses what leaves per-session state in the gateway, then ends. */
async function useAndClose(front: 'mcp' | 'sse', index: number): Promise<void> {
  const client = new Client({ name: `release-${front}-${index}`, version: '1.0.0' });
  const transport =
    front === 'mcp'
      ? new StreamableHTTPClientTransport(new URL(`${base}/mcp`))
      : new SSEClientTransport(new URL(`${base}/sse`));
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('ok__echo');
    const result = await client.callTool({ name: 'ok__echo', arguments: { message: `m${index}` } });
    expect(result.isError).not.toBe(true);
    const { resources } = await client.listResources();
    const uri = resources.find((resource) => resource.name === 'static')?.uri;
    expect(uri).toBeDefined();
    await client.subscribeResource({ uri: uri! });
    // What is checked for release afterwards is there while the session is open.
    const instance = gateway.server('ok')!.listInstances()[0]!;
    expect(gateway.subscriptions.urisOf(instance)).toEqual(['fixture://static']);
    expect(http.streamable.size + http.sse.size).toBeGreaterThan(0);
    await client.setLoggingLevel('debug');
  } finally {
    if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession();
    await client.close();
  }
}

describe('closed sessions leave no state behind (issue 15)', () => {
  it(`releases every map entry of ${ROUNDS * (STREAMABLE_PER_ROUND + SSE_PER_ROUND)} sessions on /mcp and /sse`, async () => {
    const instance = gateway.server('ok')!.listInstances()[0]!;
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all([
        ...Array.from({ length: STREAMABLE_PER_ROUND }, (_, i) => useAndClose('mcp', round * 100 + i)),
        ...Array.from({ length: SSE_PER_ROUND }, (_, i) => useAndClose('sse', round * 100 + i)),
      ]);
      // An SSE session ends when the server sees its stream close, a moment after the client closed it.
      await waitFor(() => gateway.sessions.size === 0, {
        message: () => `sessions still open after round ${round}: ${gateway.sessions.size}`,
      });
      expect(http.streamable.size).toBe(0);
      expect(http.sse.size).toBe(0);
      expect(http.sessionSlots.size).toBe(0);
      expect(gateway.subscriptions.urisOf(instance)).toEqual([]);
      expect(gateway.server('ok')!.sessionsOf(instance)).toEqual([]);
    }
    // The shared server is still the one instance, and still answers a new session.
    expect(gateway.server('ok')!.listInstances()).toEqual([instance]);
    await useAndClose('mcp', 999);
    await waitFor(() => gateway.sessions.size === 0, { message: 'the last session to close' });
  });

  it('leaves no timer behind for a session closed while a call waits for its answer within the JSON grace', async () => {
    // A request of a JSON-preferring client waits up to 300 ms before its SSE stream opens; a session closed in
    // that window used to open the stream as it ended and start a keep-alive interval nobody cleared, which kept
    // the whole closed session reachable. Counted: the repeating timers alive before and after.
    const live = new Map<number, { _repeat?: number | null }>();
    const hook = createHook({
      init(id, type, _trigger, resource) {
        if (type === 'Timeout') live.set(id, resource as { _repeat?: number | null });
      },
      destroy(id) {
        live.delete(id);
      },
    }).enable();
    const repeating = () => [...live.values()].filter((timer) => typeof timer._repeat === 'number').length;
    try {
      const before = repeating();
      const instance = gateway.server('ok')!.listInstances()[0]!;
      for (let i = 0; i < 5; i++) {
        const client = new Client({ name: `grace-${i}`, version: '1.0.0' });
        const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`));
        await client.connect(transport);
        const call = client.callTool({ name: 'ok__slow', arguments: { ms: 3000 } }).catch(() => 'ended');
        await waitFor(() => instance.inFlight > 0, { message: 'the slow call to reach the server', intervalMs: 1 });
        await transport.terminateSession();
        await client.close();
        await call;
      }
      await waitFor(() => gateway.sessions.size === 0, { message: 'the sessions to close' });
      expect(repeating()).toBeLessThanOrEqual(before);
    } finally {
      hook.disable();
    }
  });
});
