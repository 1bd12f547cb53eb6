// Live sessions for the fuzz to aim at: one Streamable HTTP session and one SSE stream, renewed when a case ends them.
import { request } from 'node:http';

import { exchange } from './http.mjs';

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz-live', version: '0' } },
});

/** Opens `GET /sse` and resolves with its message path; the stream is read (and dropped) until closed. */
function openStream(baseUrl) {
  const target = new URL(`${baseUrl}/sse`);
  return new Promise((resolve, reject) => {
    const req = request({
      hostname: target.hostname,
      port: target.port,
      path: '/sse',
      headers: { accept: 'text/event-stream' },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
        const path = /event: endpoint\ndata: (\S+)/.exec(text)?.[1];
        if (path) {
          text = '';
          resolve({ path, close: () => req.destroy() });
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

export async function openLiveSessions(baseUrl) {
  let sessionId = '';
  let stream;
  let renewing;
  const open = async () => {
    stream?.close();
    const opened = await exchange(baseUrl, {
      path: '/mcp',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: INITIALIZE,
    });
    sessionId = String(opened.headers['mcp-session-id'] ?? '');
    stream = await openStream(baseUrl);
  };
  await open();
  return {
    mcpHeaders: () => ({ 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' }),
    ssePath: () => stream.path,
    renew() {
      renewing ??= open().finally(() => (renewing = undefined));
      return renewing;
    },
    close: () => stream?.close(),
  };
}
