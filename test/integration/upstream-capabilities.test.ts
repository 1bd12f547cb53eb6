// Issue 10: capabilities that tell the truth, roots that belong to their client, URL elicitations and their
// completion notices delivered to their owner, and initialize instructions that cover only what a session sees.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  type ClientCapabilities,
  CreateMessageRequestSchema,
  ElicitationCompleteNotificationSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { createTempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { bearer, textOf } from './access-helpers.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startGateway(config: object, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const dir = await createTempDir();
  cleanups.push(() => dir[Symbol.asyncDispose]());
  const gateway = await startGatewayProcess({ configPath: await dir.write('mcp.json', config), env });
  cleanups.push(() => gateway.stop());
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready')), { message: 'start-up' });
  return gateway;
}

interface TestClient {
  client: Client;
  seen: { method: string; params: unknown }[];
}

async function connect(
  url: string,
  name: string,
  capabilities: ClientCapabilities,
  headers: Record<string, string> = {},
): Promise<TestClient> {
  const client = new Client({ name, version: '0.0.0' }, { capabilities });
  const seen: TestClient['seen'] = [];
  if (capabilities.sampling) {
    client.setRequestHandler(CreateMessageRequestSchema, (request) => {
      seen.push({ method: request.method, params: request.params });
      return { model: 'm', role: 'assistant', content: { type: 'text', text: `from ${name}` } };
    });
  }
  if (capabilities.elicitation) {
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      seen.push({ method: request.method, params: request.params });
      return request.params.mode === 'url' ? { action: 'accept' } : { action: 'accept', content: { answer: name } };
    });
    client.setNotificationHandler(ElicitationCompleteNotificationSchema, (notification) => {
      seen.push({ method: notification.method, params: notification.params });
    });
  }
  if (capabilities.roots) {
    client.setRequestHandler(ListRootsRequestSchema, () => {
      seen.push({ method: 'roots/list', params: {} });
      return { roots: [{ uri: `file:///home/${name}`, name }] };
    });
  }
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  cleanups.push(() => client.close());
  return { client, seen };
}

const ok = (name: string, extra: object = {}) => ({
  command: process.execPath,
  args: [fixturePath('ok')],
  env: { FIXTURE_NAME: name },
  ...extra,
});

describe('session-scoped instances speak for their own client', () => {
  it("relay a URL elicitation and its completion notice to the owner only, and roots changes to the owner's instance", async () => {
    const gateway = await startGateway({ servers: { mine: ok('mine', { scope: 'session' }) } });
    const full = { elicitation: { form: {}, url: {} }, roots: { listChanged: true } };
    const alice = await connect(`${gateway.url}/mcp`, 'alice', full);
    const bob = await connect(`${gateway.url}/mcp`, 'bob', full);

    const result = await alice.client.callTool({ name: 'mine__url_elicit', arguments: { id: 'consent-alice-1' } });
    expect(JSON.parse(textOf(result))).toEqual({ action: 'accept' });
    await waitFor(() => alice.seen.some((entry) => entry.method === 'notifications/elicitation/complete'), {
      message: "alice's completion notice",
    });
    expect(alice.seen.map((entry) => entry.method)).toEqual([
      'elicitation/create',
      'notifications/elicitation/complete',
    ]);
    expect(alice.seen[1]?.params).toEqual({ elicitationId: 'consent-alice-1' });
    expect(bob.seen).toEqual([]);

    // Each instance asks its own client for roots.
    expect(textOf(await alice.client.callTool({ name: 'mine__roots', arguments: {} }))).toContain('file:///home/alice');
    expect(textOf(await bob.client.callTool({ name: 'mine__roots', arguments: {} }))).toContain('file:///home/bob');

    // A client's roots/list_changed reaches its own instance, not the other's.
    await alice.client.sendRootsListChanged();
    await waitFor(
      async () => {
        const state = JSON.parse(textOf(await alice.client.callTool({ name: 'mine__last_roots', arguments: {} })));
        return state.rootsChanges === 1;
      },
      { message: "alice's instance to hear of the change" },
    );
    const bobState = JSON.parse(textOf(await bob.client.callTool({ name: 'mine__last_roots', arguments: {} })));
    expect(bobState.rootsChanges).toBe(0);
  });

  it('declare only what their client can do: a client without sampling gets no sampling request', async () => {
    const gateway = await startGateway({ servers: { mine: ok('mine', { scope: 'session' }) } });
    const plain = await connect(`${gateway.url}/mcp`, 'plain', {});
    const result = await plain.client.callTool({ name: 'mine__sample', arguments: { prompt: 'hello' } });
    // The server itself refuses: its own client (the instance) declared no sampling.
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/does not support sampling/i);
    expect(plain.seen).toEqual([]);
  });
});

describe('a shared server gets an error, never a delivery, for what the calling client lacks', () => {
  it('refuses sampling and URL elicitation to a client that did not offer them; roots come from the config', async () => {
    const gateway = await startGateway({
      servers: { shared: ok('shared', { roots: [{ uri: 'file:///srv/data', name: 'data' }] }) },
    });
    const formOnly = await connect(`${gateway.url}/mcp`, 'form-only', { elicitation: { form: {} } });
    const sampled = await formOnly.client.callTool({ name: 'shared__sample', arguments: { prompt: 'hi' } });
    expect(sampled.isError).toBe(true);
    expect(textOf(sampled)).toMatch(/the client does not support sampling, so sampling\/createMessage was not relayed/);
    const url = await formOnly.client.callTool({ name: 'shared__url_elicit', arguments: { id: 'x' } });
    expect(url.isError).toBe(true);
    expect(textOf(url)).toMatch(/does not support URL-mode elicitation/);
    // Form elicitation, which it does offer, works.
    expect(textOf(await formOnly.client.callTool({ name: 'shared__elicit', arguments: { message: 'q' } }))).toContain(
      'form-only',
    );
    expect(formOnly.seen.map((entry) => entry.method)).toEqual(['elicitation/create']);

    // No roots capability: the gateway answers with the configured roots instead of asking the client.
    expect(textOf(await formOnly.client.callTool({ name: 'shared__roots', arguments: {} }))).toContain(
      'file:///srv/data',
    );
    // Outside any call the server gets the configured roots too.
    await formOnly.client.callTool({ name: 'shared__roots_later', arguments: {} });
    const later = await waitFor(async () => {
      const state = JSON.parse(textOf(await formOnly.client.callTool({ name: 'shared__last_roots', arguments: {} })));
      return state.lastRoots;
    });
    expect(later).toEqual({ roots: [{ uri: 'file:///srv/data', name: 'data' }] });
  });
});

describe('initialize instructions', () => {
  it('cover only the servers a session can see', async () => {
    const ROOT = 'root-gateway-token-4b8c2e';
    const gateway = await startGateway(
      {
        servers: {
          vault: ok('vault', { env: { FIXTURE_NAME: 'vault', FIXTURE_INSTRUCTIONS: 'VAULT-ONLY INSTRUCTIONS' } }),
          pub: ok('pub', { env: { FIXTURE_NAME: 'pub', FIXTURE_INSTRUCTIONS: 'PUBLIC INSTRUCTIONS' } }),
        },
        namespaces: { secret: { servers: ['vault'], isolated: true } },
        auth: { require_auth: false, tokens: [{ id: 'root', token: '${ROOT}', namespaces: ['secret'] }] },
      },
      { ROOT },
    );
    const anonymous = await connect(`${gateway.url}/mcp`, 'anon', {});
    expect(anonymous.client.getInstructions()).toContain('PUBLIC INSTRUCTIONS');
    expect(anonymous.client.getInstructions()).not.toContain('VAULT');
    const root = await connect(`${gateway.url}/ns/secret/mcp`, 'root', {}, bearer(ROOT));
    expect(root.client.getInstructions()).toContain('VAULT-ONLY INSTRUCTIONS');
    expect(root.client.getInstructions()).not.toContain('PUBLIC');
  });
});
