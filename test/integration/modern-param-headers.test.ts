import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';

// SEP-2243 on the gateway's 2026-07-28 front: a tools/call must mirror each argument its tool's schema marks
// `x-mcp-header` into an `Mcp-Param-{Name}` header, validly encoded and equal; else 400 HeaderMismatch, with the
// request's id. The conformance fixture's `test_x_mcp_header` mirrors `region` into `Mcp-Param-Region`.

const MODERN = '2026-07-28';
const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };

describe('Mcp-Param headers on the 2026-07-28 front', () => {
  let dir: TempDir;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    dir = await createTempDir();
    const configPath = await dir.write('mcp.json', {
      servers: { conformance: { command: process.execPath, args: [fixturePath('conformance')], prefix: '' } },
    });
    gateway = await startGatewayProcess({ configPath });
  });
  afterAll(async () => {
    await gateway?.stop();
    await dir?.[Symbol.asyncDispose]();
  });

  async function call(region: string, paramHeader?: string) {
    const response = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': MODERN,
        'mcp-method': 'tools/call',
        'mcp-name': 'test_x_mcp_header',
        ...(paramHeader === undefined ? {} : { 'mcp-param-region': paramHeader }),
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 41,
        method: 'tools/call',
        params: { name: 'test_x_mcp_header', arguments: { region: region }, _meta: meta },
      }),
    });
    const text = await response.text();
    const json = JSON.parse(text.startsWith('{') ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? '{}')) as {
      id?: unknown;
      result?: { content?: { text?: string }[] };
      error?: { code: number; message: string };
    };
    return { status: response.status, json };
  }

  it('passes a call whose header mirrors the argument, plainly or in Base64', async () => {
    const plain = await call('eu-west', 'eu-west');
    expect(plain.status).toBe(200);
    expect(plain.json.result?.content?.[0]?.text).toBe('region=eu-west');
    const encoded = await call('Hello', `=?base64?${Buffer.from('Hello').toString('base64')}?=`);
    expect(encoded.json.result?.content?.[0]?.text).toBe('region=Hello');
  });

  it('refuses a missing, different or badly encoded header with 400 HeaderMismatch and the id', async () => {
    for (const header of [undefined, 'us-east', '=?base64?SGVsbG8?=', '=?base64?SGVs!!!bG8=?=']) {
      const refused = await call('Hello', header);
      expect(refused, String(header)).toMatchObject({ status: 400, json: { id: 41, error: { code: -32020 } } });
    }
  });
});
