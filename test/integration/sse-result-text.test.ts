// Issue 15: on the legacy SSE front, a relayed answer is written with the result text its server wrote, as on /mcp
// and stdio, rather than parsed and serialised again (the escape `\u00e9` would come back as "é").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';

let dir: TempDir;
let gateway: GatewayProcess;

beforeAll(async () => {
  dir = await createTempDir();
  const configPath = await dir.write('mcp.json', {
    mcpServers: { edge: { command: process.execPath, args: [fixturePath('edge-answers')] } },
  });
  gateway = await startGatewayProcess({ configPath });
});

afterAll(async () => {
  await gateway?.stop();
  await dir?.[Symbol.asyncDispose]();
});

/** An SSE stream read as raw text: each event's `data:` as it was written, in order. */
async function openStream(url: string, signal: AbortSignal) {
  const response = await fetch(url, { headers: { accept: 'text/event-stream' }, signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  /** The data of the next event (bounded by the test's timeout). */
  return async function nextData(): Promise<string> {
    for (;;) {
      const end = pending.indexOf('\n\n');
      if (end !== -1) {
        const event = pending.slice(0, end);
        pending = pending.slice(end + 2);
        const data = event.split('\n').find((line) => line.startsWith('data: '));
        if (data !== undefined) return data.slice('data: '.length);
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended');
      pending += value;
    }
  };
}

describe('a relayed answer on /sse', () => {
  it('carries the result text as the server wrote it', async () => {
    const abort = new AbortController();
    try {
      const nextData = await openStream(`${gateway.url}/sse`, abort.signal);
      const messageUrl = new URL(await nextData(), gateway.url).href;
      const post = (message: object) =>
        fetch(messageUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', ...message }),
        });
      const initialize = {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'sse-result-text', version: '0' },
      };
      // Notifications (a list changed) may come before an answer: the answer is the event that names its id.
      const answerTo = async (id: number) => {
        let data = await nextData();
        for (let i = 0; i < 20 && !data.includes(`"id":${id}`); i++) data = await nextData();
        return data;
      };
      expect((await post({ id: 1, method: 'initialize', params: initialize })).status).toBe(202);
      expect(JSON.parse(await answerTo(1))).toMatchObject({ id: 1, result: { serverInfo: {} } });
      await post({ method: 'notifications/initialized' });
      await post({ id: 2, method: 'tools/call', params: { name: 'edge__escaped', arguments: {} } });
      expect(await answerTo(2)).toBe(
        '{"result":{"content":[{"type":"text","text":"caf\\u00e9"}]},"jsonrpc":"2.0","id":2}',
      );
    } finally {
      abort.abort();
    }
  });
});
