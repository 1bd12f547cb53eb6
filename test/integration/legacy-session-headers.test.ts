import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';

// The legacy front's HTTP-level errors: each echoes the id of the request it refuses, and a session's requests
// must name the protocol version that session negotiated, not just any version the gateway knows.

describe('legacy sessions: the protocol header and the ids of HTTP-level errors', () => {
  let dir: TempDir;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    dir = await createTempDir();
    const configPath = await dir.write('mcp.json', {
      servers: { ok: { command: process.execPath, args: [fixturePath('ok')] } },
    });
    gateway = await startGatewayProcess({ configPath });
  });
  afterAll(async () => {
    await gateway?.stop();
    await dir?.[Symbol.asyncDispose]();
  });

  async function post(body: object, headers: Record<string, string> = {}) {
    const response = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', ...body }),
    });
    const text = await response.text();
    const json = text.startsWith('{') ? (JSON.parse(text) as { id?: unknown; error?: { code: number } }) : undefined;
    return { status: response.status, session: response.headers.get('mcp-session-id'), json };
  }

  it('holds a session to the version it negotiated, and names the refused request', async () => {
    const opened = await post({
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    expect(opened.status).toBe(200);
    const session = { 'mcp-session-id': opened.session! };
    await post({ method: 'notifications/initialized' }, { ...session, 'mcp-protocol-version': '2025-06-18' });

    const own = await post({ id: 2, method: 'tools/list' }, { ...session, 'mcp-protocol-version': '2025-06-18' });
    expect(own.status).toBe(200);
    for (const version of ['2025-11-25', '1999-01-01']) {
      const other = await post({ id: 3, method: 'tools/list' }, { ...session, 'mcp-protocol-version': version });
      expect(other, version).toMatchObject({ status: 400, json: { id: 3, error: { code: -32000 } } });
    }
  });

  it('echoes the id when the session is unknown or missing', async () => {
    const unknown = await post({ id: 'a1', method: 'tools/list' }, { 'mcp-session-id': 'no-such-session' });
    expect(unknown).toMatchObject({ status: 404, json: { id: 'a1', error: { code: -32001 } } });
    const missing = await post({ id: 12, method: 'tools/list' });
    expect(missing).toMatchObject({ status: 400, json: { id: 12, error: { code: -32000 } } });
  });
});
