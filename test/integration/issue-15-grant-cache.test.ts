// Issue 15: a session's repeated POSTs reuse the access decision of the first (the grant cache). The decision must
// hold for exactly the request it was made for: a reload that revokes the credential ends it at once, and another
// credential, address, path or an Origin never gets a decision made for someone else.
import { afterEach, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { postFrom } from '../helpers/post-from.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  ACCESS_ENV,
  bearer,
  connectHttp,
  householdConfig,
  INITIALIZE,
  rawRequest,
  TOKENS,
  toolNames,
  WRONG_TOKEN,
} from './access-helpers.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** POSTs of one request each, as often as it takes a cache to be warm. */
const REPEATS = 5;

async function start(config: object, args: string[] = []): Promise<{ gateway: GatewayProcess; dir: TempDir }> {
  const dir = await createTempDir();
  cleanups.push(() => dir[Symbol.asyncDispose]());
  const configPath = await dir.write('mcp.json', config);
  const gateway = await startGatewayProcess({ configPath, env: ACCESS_ENV, args });
  cleanups.push(() => gateway.stop());
  return { gateway, dir };
}

/** An initialized raw Streamable HTTP session: its id, and a POST of one message on it. */
async function openSession(url: string, headers: Record<string, string>) {
  const init = await rawRequest(url, { body: INITIALIZE, headers });
  expect(init.status).toBe(200);
  const id = init.headers['mcp-session-id'] as string;
  const post = (body: unknown, extra: Record<string, string> = {}) =>
    rawRequest(url, {
      body,
      headers: { ...headers, 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18', ...extra },
    });
  expect((await post({ jsonrpc: '2.0', method: 'notifications/initialized' })).status).toBe(202);
  return { id, post };
}

function echoCall(id: number, message: string) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'wiki__echo', arguments: { message } } };
}

describe('the grant cache', () => {
  it('refuses a credential revoked by a reload on its very next POST, however many came before', async () => {
    const { gateway, dir } = await start(householdConfig(), ['--reload-interval', '0.3']);
    await waitFor(() => gateway.stdout.some((line) => /Watching .* for changes/.test(line)), { message: 'reloader' });
    const session = await openSession(`${gateway.url}/mcp`, bearer(TOKENS.ALICE_TOKEN));
    for (let i = 0; i < REPEATS; i++) {
      const answer = await session.post(echoCall(10 + i, `before-${i}`));
      expect(answer.status).toBe(200);
      expect(answer.body).toContain(`before-${i}`);
    }

    const revoked = householdConfig();
    const auth = revoked.auth as { tokens: { id: string }[] };
    auth.tokens = auth.tokens.filter((token) => token.id !== 'alice');
    const reloads = gateway.stdout.filter((line) => line.includes('Config reloaded')).length;
    await dir.write('mcp.json', revoked);
    await waitFor(() => gateway.stdout.filter((line) => line.includes('Config reloaded')).length > reloads, {
      message: 'the reload to apply',
    });

    const after = await session.post(echoCall(99, 'after'));
    expect(after.status).toBe(401);
    expect(after.body).not.toContain('Echo: after');
  });

  it('never gives one credential, path or Origin the decision made for another', async () => {
    const config = householdConfig();
    const namespaces = config.namespaces as Record<string, Record<string, unknown>>;
    namespaces.public!.allowed_origins = ['https://public.example'];
    namespaces.crypto!.allowed_origins = ['https://crypto.example'];
    const { gateway } = await start(config);
    const alice = await openSession(`${gateway.url}/mcp`, bearer(TOKENS.ALICE_TOKEN));
    for (let i = 0; i < REPEATS; i++) expect((await alice.post(echoCall(10 + i, `a-${i}`))).status).toBe(200);

    // Another credential on alice's session: not hers to use. A wrong token: refused as such.
    expect((await alice.post(echoCall(50, 'bob'), bearer(TOKENS.BOB_TOKEN))).status).toBe(404);
    expect((await alice.post(echoCall(51, 'wrong'), bearer(WRONG_TOKEN))).status).toBe(401);
    expect((await alice.post(echoCall(52, 'anonymous'), { authorization: '' })).status).toBe(404);
    // Each credential sees its own grant, whichever asked first.
    const aliceClient = await connectHttp(`${gateway.url}/mcp`, bearer(TOKENS.ALICE_TOKEN));
    const bobClient = await connectHttp(`${gateway.url}/mcp`, bearer(TOKENS.BOB_TOKEN));
    cleanups.push(
      () => aliceClient.close(),
      () => bobClient.close(),
    );
    expect(await toolNames(bobClient)).toContain('covalent__echo');
    expect(await toolNames(aliceClient)).not.toContain('covalent__echo');
    expect(await toolNames(bobClient)).toContain('covalent__echo');

    // Another path: alice's grant on /mcp opens no namespace she lacks.
    const crypto = await rawRequest(`${gateway.url}/ns/crypto/mcp`, {
      body: INITIALIZE,
      headers: bearer(TOKENS.ALICE_TOKEN),
    });
    expect(crypto.status).toBe(403);

    // An Origin is judged afresh: crypto's origin passes the gateway's guard but not the public namespace.
    const publicSession = await openSession(`${gateway.url}/ns/public/mcp`, {});
    for (let i = 0; i < REPEATS; i++) expect((await publicSession.post(echoCall(60 + i, `p-${i}`))).status).toBe(200);
    const foreign = await publicSession.post(echoCall(70, 'foreign'), { origin: 'https://crypto.example' });
    expect(foreign.status).toBe(403);
    const own = await publicSession.post(echoCall(71, 'own'), { origin: 'https://public.example' });
    expect(own.status).toBe(200);
  });

  it('counts each client address by its own grant', async () => {
    const config = householdConfig({ sessions: { max_per_client: 1 } });
    const { gateway } = await start(config);
    const url = `${gateway.url}/mcp`;
    expect((await postFrom(url, '127.0.0.2', INITIALIZE)).status).toBe(200);
    // The same address again is at its limit; another address is not, though its request is the same.
    expect((await postFrom(url, '127.0.0.2', INITIALIZE)).status).toBe(429);
    expect((await postFrom(url, '127.0.0.3', INITIALIZE)).status).toBe(200);
    expect((await postFrom(url, '127.0.0.3', INITIALIZE)).status).toBe(429);
  });
});
