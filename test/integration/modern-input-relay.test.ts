// Issue 12: a 2026-07-28 client's call to a server that speaks 2026-07-28 beside the legacy era (the SDK v2
// conformance fixture over Streamable HTTP) goes in that era: the server's own input_required result reaches the
// client with the server's input keys, the caller's capabilities reach the server in the envelope, and the
// server's requestState comes sealed so that only the same caller can redeem it, for the same request. Legacy
// clients of that server, and 2026-07-28 clients of a legacy-only server (server-everything over HTTP), are
// served as before.

import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type HttpFixture, startConformanceFixtureHttp } from '../helpers/conformance.js';
import { type EverythingHttp, freePort, startEverythingHttp } from '../helpers/everything-http.js';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { postFrom } from '../helpers/post-from.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { bearer } from './access-helpers.js';

const MODERN = '2026-07-28';
const TOKENS = { ALICE: 'alice-relay-token-4e1b7c09', BOB: 'bob-relay-token-9a3f2d61' };

type Rpc = {
  status: number;
  /** The body as it came: JSON, or an SSE stream (then `json` is empty). */
  text: string;
  json: { id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } };
};

let dir: TempDir;
let gateway: GatewayProcess;
let fixture: HttpFixture;
let remote: EverythingHttp;

beforeAll(async () => {
  dir = await createTempDir();
  fixture = await startConformanceFixtureHttp();
  remote = await startEverythingHttp(await freePort());
  const configPath = await dir.write('mcp.json', {
    servers: {
      both: { url: fixture.url },
      // The same server, kept in the legacy era by its config.
      pinned: { url: fixture.url, era: 'legacy' },
      remote: { url: remote.url },
    },
    auth: {
      require_auth: false,
      tokens: [
        { id: 'alice', token: '${ALICE}' },
        { id: 'bob', token: '${BOB}' },
      ],
    },
  });
  gateway = await startGatewayProcess({ configPath, env: TOKENS });
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready')), { message: 'start-up' });
});

afterAll(async () => {
  await gateway?.stop();
  await fixture?.stop();
  await remote?.stop();
  await dir?.[Symbol.asyncDispose]();
});

/** One 2026-07-28 request to the gateway, its headers mirrored from the body, from a given local address. */
async function post(
  method: string,
  params: Record<string, unknown>,
  capabilities: object,
  headers: Record<string, string> = {},
  path = '/mcp',
  localAddress = '127.0.0.1',
): Promise<Rpc> {
  const body = {
    jsonrpc: '2.0',
    id: 3,
    method,
    params: {
      ...params,
      _meta: {
        ...(params._meta as object | undefined),
        'io.modelcontextprotocol/protocolVersion': MODERN,
        'io.modelcontextprotocol/clientCapabilities': capabilities,
      },
    },
  };
  const response = await postFrom(`${gateway.url}${path}`, localAddress, body, {
    'mcp-protocol-version': MODERN,
    'mcp-method': method,
    ...(typeof params.name === 'string' ? { 'mcp-name': params.name } : {}),
    ...headers,
  });
  const json = (response.body.startsWith('{') ? JSON.parse(response.body) : {}) as Rpc['json'];
  return { status: response.status, text: response.body, json };
}

const ELICIT = { elicitation: { form: {} } };
const accept = (content: Record<string, string | number | boolean>) => ({ action: 'accept' as const, content });

function textOf(result: { content?: unknown } | undefined): string {
  return ((result?.content as { text?: string }[] | undefined) ?? []).map((item) => item.text ?? '').join('\n');
}

describe('a server of both eras, to 2026-07-28 clients', () => {
  it("passes the server's own input_required through: its keys, a sealed state, the retry answered by the server", async () => {
    const call = { name: 'both__test_input_required_result_elicitation', arguments: {} };
    const first = await post('tools/call', call, ELICIT);
    expect(first.json.result).toMatchObject({
      resultType: 'input_required',
      inputRequests: { user_name: { method: 'elicitation/create' } },
    });
    expect(typeof first.json.result?.requestState).toBe('string');
    const done = await post(
      'tools/call',
      {
        ...call,
        inputResponses: { user_name: accept({ name: 'Alice' }) },
        requestState: first.json.result?.requestState,
      },
      ELICIT,
    );
    expect(done.json.result?.resultType).toBe('complete');
    expect(textOf(done.json.result)).toBe('Hello, Alice!');
  });

  it("carries the server's evolving state across several rounds", async () => {
    const call = { name: 'both__test_input_required_result_multi_round', arguments: {} };
    const first = await post('tools/call', call, ELICIT);
    expect(Object.keys(first.json.result?.inputRequests as object)).toEqual(['step1']);
    const second = await post(
      'tools/call',
      { ...call, inputResponses: { step1: accept({ name: 'Ada' }) }, requestState: first.json.result?.requestState },
      ELICIT,
    );
    expect(Object.keys(second.json.result?.inputRequests as object)).toEqual(['step2']);
    const done = await post(
      'tools/call',
      {
        ...call,
        inputResponses: { step2: accept({ color: 'green' }) },
        requestState: second.json.result?.requestState,
      },
      ELICIT,
    );
    expect(textOf(done.json.result)).toBe('Multi-round complete: Ada likes green');
  });

  it("gives the server the caller's own capabilities, and it asks only for what they cover", async () => {
    const call = { name: 'both__test_input_required_result_capabilities', arguments: {} };
    const sampling = await post('tools/call', call, { sampling: {} });
    expect(Object.keys(sampling.json.result?.inputRequests as object)).toEqual(['greeting']);
    const other = await post('tools/call', call, { elicitation: { form: {} }, roots: {} });
    expect(Object.keys(other.json.result?.inputRequests as object).sort()).toEqual(['client_roots', 'user_name']);
    const none = await post('tools/call', call, {});
    expect(none.json.result?.resultType).toBe('complete');
  });

  it("refuses the server's passed-through state to another caller, another endpoint and another request", async () => {
    const call = { name: 'both__test_input_required_result_request_state', arguments: {} };
    const alice = bearer(TOKENS.ALICE);
    const first = await post('tools/call', call, ELICIT, alice);
    const { inputRequests, requestState } = first.json.result as {
      inputRequests: Record<string, unknown>;
      requestState: string;
    };
    expect(Object.keys(inputRequests)).toEqual(['confirm']);
    const retry = (headers: Record<string, string>, extra: object = {}, path?: string) =>
      post(
        'tools/call',
        { ...call, inputResponses: { confirm: accept({ ok: true }) }, requestState, ...extra },
        ELICIT,
        headers,
        path,
      );
    // Another credential holding alice's state: refused before anything reaches the server.
    const bob = await retry(bearer(TOKENS.BOB));
    expect(bob.json.error).toMatchObject({ code: -32602, message: expect.stringMatching(/another caller/) });
    const anonymous = await retry({});
    expect(anonymous.json.error?.message).toMatch(/another caller/);
    // Alice on another endpoint (one server's own, unprefixed there), or for another request.
    const endpoint = await post(
      'tools/call',
      {
        name: 'test_input_required_result_request_state',
        arguments: {},
        inputResponses: { confirm: accept({ ok: true }) },
        requestState,
      },
      ELICIT,
      alice,
      '/mcp/both',
    );
    expect(endpoint.json.error?.message).toMatch(/another caller/);
    const other = await retry(alice, { name: 'both__test_input_required_result_tampered_state' });
    expect(other.json.error?.message).toMatch(/another request/);
    // Altered, or not the gateway's at all: refused.
    const altered = await retry(alice, { requestState: `${requestState.slice(0, -4)}AAAA` });
    expect(altered.json.error?.code).toBe(-32602);
    const foreign = await retry(alice, { requestState: Buffer.from('x'.repeat(48)).toString('base64url') });
    expect(foreign.json.error?.message).toMatch(/not issued by this gateway/);
    // A legacy session presenting it, in its own era: the server refuses it, not being its own state.
    const legacy = new Client({ name: 'intruder', version: '1.0.0' });
    await legacy.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
    try {
      const stolen = await legacy
        .callTool({ ...call, inputResponses: { confirm: accept({ ok: true }) }, requestState } as never)
        .then(
          (result) => textOf(result as { content?: unknown }),
          (error: Error) => error.message,
        );
      expect(stolen).toMatch(/-32602: Invalid or expired requestState/);
    } finally {
      await legacy.close();
    }
    // The rightful caller still completes, and the server verified its own state.
    const done = await retry(alice);
    expect(textOf(done.json.result)).toBe('state-ok: requestState verified and confirmation received');
  });

  it("binds an anonymous caller's state to its address: another client without a credential cannot redeem it", async () => {
    const call = { name: 'both__test_input_required_result_request_state', arguments: {} };
    const first = await post('tools/call', call, ELICIT, {}, '/mcp', '127.0.0.1');
    const { requestState } = first.json.result as { requestState: string };
    const retry = (from: string) =>
      post(
        'tools/call',
        { ...call, inputResponses: { confirm: accept({ ok: true }) }, requestState },
        ELICIT,
        {},
        '/mcp',
        from,
      );
    const elsewhere = await retry('127.0.0.2');
    expect(elsewhere.json.error).toMatchObject({ code: -32602, message: expect.stringMatching(/another caller/) });
    const done = await retry('127.0.0.1');
    expect(textOf(done.json.result)).toBe('state-ok: requestState verified and confirmation received');
  });

  it('serves an SDK v2 client pinned to 2026-07-28, which answers the input requests itself', async () => {
    const client = new ModernClient({ name: 'pinned', version: '1.0.0' }, {
      versionNegotiation: { mode: { pin: MODERN } },
      capabilities: { elicitation: { form: {} } },
    } as never);
    client.setRequestHandler('elicitation/create', async () => accept({ name: 'Pinned' }));
    await client.connect(new ModernTransport(new URL(`${gateway.url}/mcp`)));
    try {
      const result = await client.callTool({ name: 'both__test_input_required_result_elicitation', arguments: {} });
      expect(textOf(result as { content?: unknown })).toBe('Hello, Pinned!');
    } finally {
      await client.close();
    }
  });
});

describe('as before', () => {
  it('a legacy client of the same server is asked over its session', async () => {
    const client = new Client({ name: 'legacy', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, () => accept({ response: 'from the legacy client' }));
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
    try {
      const result = await client.callTool({ name: 'both__test_elicitation', arguments: { message: 'hi?' } });
      expect(textOf(result as { content?: unknown })).toContain('from the legacy client');
    } finally {
      await client.close();
    }
  });

  it("a 2026-07-28 client of a legacy-only server gets the gateway's input rounds", async () => {
    const call = { name: 'remote__trigger-elicitation-request', arguments: {} };
    const first = await post('tools/call', call, ELICIT);
    expect(first.json.result?.resultType).toBe('input_required');
    const keys = Object.keys(first.json.result?.inputRequests as object);
    expect(keys).toEqual(['r1']);
    const done = await post(
      'tools/call',
      {
        ...call,
        inputResponses: { r1: accept({ name: 'Rita', check: true, color: 'red', email: 'r@example.com' }) },
        requestState: first.json.result?.requestState,
      },
      ELICIT,
    );
    expect(done.json.result?.resultType).toBe('complete');
  });

  it('era: "legacy" keeps a server of both eras in the legacy era: its tools that ask by request are bridged', async () => {
    const call = (server: string) => ({ name: `${server}__test_elicitation`, arguments: { message: 'Your name?' } });
    // In 2026-07-28 the server cannot ask by a request: it says so itself, as it would to a client directly.
    const modern = await post('tools/call', call('both'), ELICIT);
    expect(textOf(modern.json.result)).toMatch(/not supported/);
    // Kept in the legacy era, it asks over the gateway's session, and the gateway relays that as input rounds.
    const first = await post('tools/call', call('pinned'), ELICIT);
    expect(first.json.result?.resultType).toBe('input_required');
    expect(Object.keys(first.json.result?.inputRequests as object)).toEqual(['r1']);
    const done = await post(
      'tools/call',
      {
        ...call('pinned'),
        inputResponses: { r1: accept({ name: 'Rita' }) },
        requestState: first.json.result?.requestState,
      },
      ELICIT,
    );
    expect(done.json.result?.resultType).toBe('complete');
  });

  it("passes the caller's log level on to a server of both eras, whose log then reaches the caller", async () => {
    const { text } = await post(
      'tools/call',
      { name: 'both__test_logging_tool', arguments: {}, _meta: { 'io.modelcontextprotocol/logLevel': 'debug' } },
      {},
    );
    expect(text).toContain('notifications/message');
    expect(text).toContain('test_logging_tool ran');
    expect(text).toContain('logged through the request-scoped, logLevel-gated channel');
  });
});
