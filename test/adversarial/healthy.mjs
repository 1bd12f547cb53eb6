// The healthy clients: an SDK client on Streamable HTTP and one on SSE, each calling a tool in a loop for the
// whole run. Every failed or wrong answer is counted, per area of the suite.
import { setTimeout as sleep } from 'node:timers/promises';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const CALL_TIMEOUT_MS = 10_000;

export async function startHealthyClients(baseUrl, { intervalMs = 50 } = {}) {
  const clients = [
    { name: 'Streamable HTTP', transport: new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`)) },
    { name: 'SSE', transport: new SSEClientTransport(new URL(`${baseUrl}/sse`)) },
  ];
  for (const entry of clients) {
    entry.client = new Client({ name: `healthy-${entry.name}`, version: '0' });
    await entry.client.connect(entry.transport);
  }
  let area = 'start-up';
  let stopped = false;
  /** area → { calls, failures, maxLatencyMs, examples } */
  const byArea = new Map();
  const record = (latencyMs, failure) => {
    const stats = byArea.get(area) ?? { calls: 0, failures: 0, maxLatencyMs: 0, examples: [] };
    stats.calls++;
    stats.maxLatencyMs = Math.max(stats.maxLatencyMs, latencyMs);
    if (failure) {
      stats.failures++;
      if (stats.examples.length < 3) stats.examples.push(failure);
    }
    byArea.set(area, stats);
  };
  const loops = clients.map(async ({ name, client }) => {
    for (let n = 0; !stopped; n++) {
      const message = `healthy ${name} ${n}`;
      const started = performance.now();
      try {
        const result = await client.callTool({ name: 'ok__echo', arguments: { message } }, undefined, {
          timeout: CALL_TIMEOUT_MS,
        });
        const text = result.content?.[0]?.text;
        record(
          performance.now() - started,
          text === message ? undefined : `${name}: wrong answer ${JSON.stringify(result).slice(0, 200)}`,
        );
      } catch (error) {
        record(performance.now() - started, `${name}: ${error.message}`.slice(0, 300));
      }
      await sleep(intervalMs);
    }
  });
  return {
    /** Counts what follows under `name`. */
    enter(name) {
      area = name;
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
      for (const { client } of clients) await client.close().catch(() => {});
      return byArea;
    },
  };
}
