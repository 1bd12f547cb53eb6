// Issue 12: the 2026-07-28 revision on /mcp beside the legacy era. An SDK v2 client pinned to 2026-07-28 uses
// legacy servers through the gateway — tools, resources, prompts, progress — and answers their sampling and
// elicitation requests through input_required rounds; the same client in `auto` and legacy modes works too.
// Raw requests check what the revision asks of a server: headers against the body, versions, removed
// methods, and a request state that only its own caller can redeem.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type EverythingHttp, freePort, startEverythingHttp } from '../helpers/everything-http.js';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { EVERYTHING_MAIN } from '../helpers/real-servers.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { bearer } from './access-helpers.js';

const MODERN = '2026-07-28';
const TOKENS = { ALICE: 'alice-gateway-token-0c6b1f', BOB: 'bob-gateway-token-7d2e9a4c' };

/** Counts what crosses the wire (SSE events and JSON bodies alike) by method and by result type. */
function wireCounter() {
  const seen = { methods: new Map<string, number>(), inputRequired: 0 };
  const count = (text: string) => {
    for (const match of text.matchAll(/"method":"([^"]+)"/g)) {
      seen.methods.set(match[1]!, (seen.methods.get(match[1]!) ?? 0) + 1);
    }
    seen.inputRequired += [...text.matchAll(/"resultType":"input_required"/g)].length;
  };
  const tapped: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (!response.body) return response;
    const [mine, theirs] = response.body.tee();
    void new Response(mine).text().then(count, () => {});
    return new Response(theirs, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  return { seen, fetch: tapped };
}

function modernClient(name: string, mode: 'pin' | 'auto' | 'legacy' = 'pin') {
  const versionNegotiation = mode === 'pin' ? { mode: { pin: MODERN } } : { mode };
  const client = new Client({ name, version: '1.0.0' }, {
    versionNegotiation,
    capabilities: { sampling: {}, elicitation: { form: {} } },
  } as never);
  const asked: string[] = [];
  client.setRequestHandler('sampling/createMessage', async (request) => {
    asked.push(`sampling:${JSON.stringify(request.params.messages)}`);
    return { model: 'test', role: 'assistant', content: { type: 'text', text: `answered-by=${name}` } };
  });
  client.setRequestHandler('elicitation/create', async () => {
    asked.push('elicitation');
    return { action: 'accept', content: { name: `answered-by=${name}` } };
  });
  return { client, asked };
}

function textOf(result: { content?: unknown }): string {
  return ((result.content as { text?: string }[] | undefined) ?? []).map((item) => item.text ?? '').join('\n');
}

let dir: TempDir;
let gateway: GatewayProcess;
let remote: EverythingHttp;

beforeAll(async () => {
  dir = await createTempDir();
  remote = await startEverythingHttp(await freePort());
  const configPath = await dir.write('mcp.json', {
    servers: {
      everything: { command: process.execPath, args: [EVERYTHING_MAIN, 'stdio'] },
      remote: { url: remote.url, scope: 'shared' },
      ok: { command: process.execPath, args: [fixturePath('ok')] },
    },
    auth: {
      require_auth: false,
      tokens: [
        { id: 'alice', token: '${ALICE}' },
        { id: 'bob', token: '${BOB}' },
      ],
    },
  });
  gateway = await startGatewayProcess({ configPath, env: { ALICE: TOKENS.ALICE, BOB: TOKENS.BOB } });
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready')), { message: 'start-up' });
});

afterAll(async () => {
  await gateway?.stop();
  await remote?.stop();
  await dir?.[Symbol.asyncDispose]();
});

describe('an SDK v2 client pinned to 2026-07-28', () => {
  it('lists and calls tools, reads resources, gets prompts and progress, and answers sampling and elicitation through input_required', async () => {
    const wire = wireCounter();
    const { client, asked } = modernClient('pinned');
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { fetch: wire.fetch }));
    expect(client.getProtocolEra()).toBe('modern');
    expect(wire.seen.methods.get('initialize') ?? 0).toBe(0);

    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['everything__echo', 'ok__echo', 'remote__echo']));
    expect(textOf(await client.callTool({ name: 'everything__echo', arguments: { message: 'modern' } }))).toBe(
      'Echo: modern',
    );
    const { resources } = await client.listResources();
    const resource = resources.find((entry) => entry.uri.startsWith('demo://'))!;
    expect((await client.readResource({ uri: resource.uri })).contents[0]?.uri).toBe(resource.uri);
    expect((await client.getPrompt({ name: 'everything__simple-prompt' })).messages.length).toBeGreaterThan(0);

    let progress = 0;
    const before = wire.seen.methods.get('notifications/progress') ?? 0;
    await client.callTool(
      { name: 'everything__trigger-long-running-operation', arguments: { duration: 0.3, steps: 4 } },
      { onprogress: () => progress++ },
    );
    // The tap reads its copy of the stream in the background: wait for it to have read the whole response.
    await waitFor(() => (wire.seen.methods.get('notifications/progress') ?? 0) - before >= 4, { message: 'progress' });
    expect((wire.seen.methods.get('notifications/progress') ?? 0) - before).toBe(4);
    expect(progress).toBe(4);

    // server-everything (legacy, over stdio) asks the client; the gateway turns that into input_required rounds.
    const sampled = await client.callTool({
      name: 'everything__trigger-sampling-request',
      arguments: { prompt: 'owner=pinned', maxTokens: 5 },
    });
    expect(textOf(sampled)).toContain('answered-by=pinned');
    const elicited = await client.callTool({ name: 'everything__trigger-elicitation-request', arguments: {} });
    expect(textOf(elicited)).toContain('answered-by=pinned');
    expect(asked.filter((entry) => entry.startsWith('sampling')).length).toBe(1);
    expect(asked.filter((entry) => entry === 'elicitation').length).toBe(1);
    await waitFor(() => wire.seen.inputRequired >= 2, { message: 'the input_required rounds on the wire' });
    expect(wire.seen.inputRequired).toBe(2);
    expect(wire.seen.methods.get('sampling/createMessage')).toBe(1);
    await client.close();
  });

  it('in auto mode it lands on the modern era; in legacy mode the same client works over initialize', async () => {
    for (const mode of ['auto', 'legacy'] as const) {
      const { client } = modernClient(`mode-${mode}`, mode);
      await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
      expect(client.getProtocolEra()).toBe(mode === 'auto' ? 'modern' : 'legacy');
      const sampled = await client.callTool({
        name: 'everything__trigger-sampling-request',
        arguments: { prompt: 'x', maxTokens: 5 },
      });
      expect(textOf(sampled)).toContain(`answered-by=mode-${mode}`);
      await client.close();
    }
  });

  it('ten clients at once through a shared Streamable HTTP upstream: every request reaches its owner, none is refused', async () => {
    const clients = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const entry = modernClient(`concurrent-${i}`);
        await entry.client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
        return { name: `concurrent-${i}`, ...entry };
      }),
    );
    const results = await Promise.all(
      clients.flatMap(({ name, client }) =>
        Array.from({ length: 5 }, async () =>
          textOf(
            await client.callTool({
              name: 'remote__trigger-sampling-request',
              arguments: { prompt: `owner=${name}`, maxTokens: 5 },
            }),
          ),
        ).map(async (text) => ({ name, text: await text })),
      ),
    );
    for (const { name, text } of results) {
      const answers = [...text.matchAll(/answered-by=(concurrent-\d+)/g)].map((match) => match[1]);
      expect(answers).toEqual([name]);
    }
    for (const { name, asked } of clients) {
      expect(asked).toHaveLength(5);
      for (const entry of asked) expect(entry).toContain(`owner=${name}`);
    }
    await Promise.all(clients.map(({ client }) => client.close()));
  });
});

describe('what the revision asks of a server, checked with raw requests', () => {
  const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };
  async function post(
    body: object,
    headers: Record<string, string> = {},
  ): Promise<{
    status: number;
    json: { id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } };
  }> {
    const method = (body as { method?: string }).method ?? '';
    const response = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': MODERN,
        'mcp-method': method,
        ...headers,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, ...body }),
    });
    return { status: response.status, json: (await response.json()) as never };
  }

  it('answers server/discover with its versions, capabilities and caching hints', async () => {
    const { status, json } = await post({ method: 'server/discover', params: { _meta: meta } });
    expect(status).toBe(200);
    expect(json.result).toMatchObject({
      resultType: 'complete',
      supportedVersions: [MODERN],
      cacheScope: 'private',
      _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'mcproxy' } },
    });
    expect(json.result?.capabilities).toMatchObject({ tools: {}, resources: {}, prompts: {} });
    expect(typeof json.result?.ttlMs).toBe('number');
  });

  it('refuses headers that disagree with the body (-32020), unknown versions (-32022) and missing _meta (-32602)', async () => {
    const call = { method: 'tools/call', params: { name: 'ok__echo', arguments: { message: 'x' }, _meta: meta } };
    const noName = await post(call);
    expect(noName).toMatchObject({ status: 400, json: { id: 7, error: { code: -32020 } } });
    const wrongName = await post(call, { 'mcp-name': 'ok__add' });
    expect(wrongName.json.error?.message).toMatch(/Mcp-Name "ok__add" does not match/);
    const encoded = await post(call, { 'mcp-name': `=?base64?${Buffer.from('ok__echo').toString('base64')}?=` });
    expect(encoded.status).toBe(200);
    const wrongMethod = await post(call, { 'mcp-name': 'ok__echo', 'mcp-method': 'tools/list' });
    expect(wrongMethod.json.error?.code).toBe(-32020);
    const unknownVersion = {
      method: 'tools/list',
      params: { _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
    };
    const version = await post(unknownVersion, { 'mcp-protocol-version': '2099-01-01' });
    expect(version).toMatchObject({
      status: 400,
      json: { error: { code: -32022, data: { supported: [MODERN], requested: '2099-01-01' } } },
    });
    // A header that disagrees with _meta is a mismatch first, even when _meta's version is unknown.
    const versionMismatch = await post(unknownVersion);
    expect(versionMismatch).toMatchObject({ status: 400, json: { id: 7, error: { code: -32020 } } });
    // The 2026-07-28 header alone makes it a modern request: a missing _meta is -32602 with the id, not "no session".
    const noMeta = await post({ method: 'server/discover', params: {} });
    expect(noMeta).toMatchObject({ status: 400, json: { id: 7, error: { code: -32602 } } });
    const noCapabilities = await post({
      method: 'tools/list',
      params: { _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN } },
    });
    expect(noCapabilities).toMatchObject({ status: 400, json: { error: { code: -32602 } } });
  });

  it('answers methods the revision removed with 404 and -32601', async () => {
    for (const method of ['ping', 'logging/setLevel', 'resources/subscribe']) {
      const { status, json } = await post({ method, params: { _meta: meta } });
      expect(status, method).toBe(404);
      expect(json.error?.code, method).toBe(-32601);
    }
    // `initialize` under the 2026-07-28 header is a removed method too, not a legacy opening.
    const initialize = await post({ method: 'initialize', params: { protocolVersion: MODERN, capabilities: {} } });
    expect(initialize).toMatchObject({ status: 404, json: { id: 7, error: { code: -32601 } } });
  });

  it('lets only its own caller redeem a request state, for the same request, unaltered', async () => {
    const params = { name: 'ok__elicit', arguments: { message: 'who?' } };
    const withCapability = {
      ...meta,
      'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
    };
    const alice = bearer(TOKENS.ALICE);
    const first = await post(
      { method: 'tools/call', params: { ...params, _meta: withCapability } },
      { 'mcp-name': 'ok__elicit', ...alice },
    );
    expect(first.json.result?.resultType).toBe('input_required');
    const { inputRequests, requestState } = first.json.result as {
      inputRequests: Record<string, { method: string }>;
      requestState: string;
    };
    const [key] = Object.keys(inputRequests);
    expect(inputRequests[key!]?.method).toBe('elicitation/create');
    const retry = (state: string, extra: object = {}, headers = alice) =>
      post(
        {
          method: 'tools/call',
          params: {
            ...params,
            ...extra,
            _meta: withCapability,
            requestState: state,
            inputResponses: { [key!]: { action: 'accept', content: { answer: 'alice' } } },
          },
        },
        { 'mcp-name': 'ok__elicit', ...headers },
      );
    const tampered = `${requestState.slice(0, -4)}AAAA`;
    expect((await retry(tampered)).json.error?.code).toBe(-32602);
    expect((await retry(requestState, {}, bearer(TOKENS.BOB))).json.error?.message).toMatch(/another caller/);
    expect((await retry(requestState, { arguments: { message: 'other' } })).json.error?.message).toMatch(
      /another request/,
    );
    // The rightful retry still works after the refused ones, and the server gets alice's answer.
    const done = await retry(requestState);
    expect(done.json.result?.resultType).toBe('complete');
    expect(JSON.stringify(done.json.result)).toContain('alice');
  });

  it('asks again when a retry leaves an input request unanswered', async () => {
    const withCapability = { ...meta, 'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } } };
    const params = { name: 'ok__elicit', arguments: { message: 'again?' } };
    const first = await post(
      { method: 'tools/call', params: { ...params, _meta: withCapability } },
      { 'mcp-name': 'ok__elicit' },
    );
    const state = (first.json.result as { requestState: string }).requestState;
    const again = await post(
      { method: 'tools/call', params: { ...params, _meta: withCapability, requestState: state, inputResponses: {} } },
      { 'mcp-name': 'ok__elicit' },
    );
    expect(again.json.result?.resultType).toBe('input_required');
    expect(Object.values(again.json.result?.inputRequests as object)).toHaveLength(1);
  });
});
