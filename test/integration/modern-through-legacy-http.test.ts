import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type HttpFixture, startConformanceFixtureHttp } from '../helpers/conformance.js';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';

// A 2026-07-28 client through the gateway to an SDK v2 server over Streamable HTTP (the conformance fixture),
// once serving the 2025 era alone, which the gateway reaches in the legacy era (its sessions refuse a 2026-07-28
// `_meta` envelope), and once serving both eras, which the gateway reaches in the client's era. Either way the
// gateway must not forward the client's envelope to a 2025 session, and the one instance serving every request
// of the client's stateless session must not take the capabilities of whichever request came first. A server
// asking for what the client did not declare ends the call with MissingRequiredClientCapability.

const MODERN = '2026-07-28';
const envelope = (capabilities: object) => ({
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': capabilities,
});

describe.each([
  // The key of the elicitation: the gateway's own in the legacy era, the server's in 2026-07-28.
  { eras: 'the 2025 era alone', env: { FIXTURE_LEGACY_ONLY: '1' }, key: 'r1' },
  { eras: 'both eras', env: {}, key: 'user_name' },
])('a 2026-07-28 client through an HTTP upstream of $eras', ({ env, key }) => {
  let fixture: HttpFixture;
  let dir: TempDir;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    fixture = await startConformanceFixtureHttp(env);
    dir = await createTempDir();
    const configPath = await dir.write('mcp.json', { servers: { conformance: { url: fixture.url, prefix: '' } } });
    gateway = await startGatewayProcess({ configPath });
  });
  afterAll(async () => {
    await gateway?.stop();
    await fixture?.stop();
    await dir?.[Symbol.asyncDispose]();
  });

  async function post(method: string, params: Record<string, unknown>) {
    const name = (params.name ?? params.uri) as string | undefined;
    const response = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': MODERN,
        'mcp-method': method,
        ...(name === undefined ? {} : { 'mcp-name': name }),
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 5, method, params }),
    });
    const text = await response.text();
    const body = text.startsWith('{') ? text : (/^data: (\{.*"id":5.*)$/m.exec(text)?.[1] ?? '{}');
    const json = JSON.parse(body) as { id?: unknown; result?: Record<string, unknown>; error?: { code: number } };
    return { status: response.status, ...json };
  }

  it('calls a tool without handing the server its envelope', async () => {
    const answer = await post('tools/call', { name: 'test_simple_text', arguments: {}, _meta: envelope({}) });
    expect(answer.error).toBeUndefined();
    expect(answer.result?.content).toEqual([{ type: 'text', text: 'This is a simple text response for testing.' }]);
  });

  it('asks a client that can sample, although an earlier request of its stateless session could not', async () => {
    expect((await post('tools/list', { _meta: envelope({}) })).result?.tools).toBeDefined();
    const params = { name: 'test_input_required_result_sampling', arguments: {}, _meta: envelope({ sampling: {} }) };
    const answer = await post('tools/call', params);
    expect(answer.error).toBeUndefined();
    expect(answer.result?.resultType).toBe('input_required');
    const requests = Object.values(answer.result?.inputRequests as Record<string, { method: string }>);
    expect(requests.map((request) => request.method)).toEqual(['sampling/createMessage']);
  });

  it('answers a call whose server asks for an undeclared capability with -32021 and HTTP 400, not a tool error', async () => {
    const answer = await post('tools/call', { name: 'test_missing_capability', arguments: {}, _meta: envelope({}) });
    expect(answer).toMatchObject({ status: 400, id: 5, error: { code: -32021 } });
  });

  it('treats input responses without a request state as a fresh call: the input is asked for, not refused', async () => {
    const answer = await post('tools/call', {
      name: 'test_input_required_result_elicitation',
      arguments: {},
      inputResponses: { wrong_key: { action: 'accept', content: { data: 'wrong' } } },
      _meta: envelope({ elicitation: {} }),
    });
    expect(answer.error).toBeUndefined();
    expect(answer.result?.resultType).toBe('input_required');
    expect(Object.keys(answer.result?.inputRequests as object)).toEqual([key]);
  });
});
