// The console's "Sign in": an operator signs the gateway in to an OAuth-protected upstream from the status page,
// as `mcproxy login` does, and the server starts with that sign-in. Real parts: oidc-provider as the upstream's
// authorization server, an SDK server behind bearer-token checks, the gateway as its own process, Chromium.
import { randomBytes } from 'node:crypto';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchChromium } from '../helpers/chromium.js';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { textOf } from '../integration/access-helpers.js';
import {
  type ProtectedMcpServer,
  signInWithBrowser,
  startProtectedMcpServer,
  startUpstreamAuthorizationServer,
  type UpstreamAuthorizationServer,
} from '../integration/upstream-oauth-helpers.js';

const ADMIN = 'admin-sign-in-token-4f1c8e2a9d7b3065';
const READER = 'reader-sign-in-token-9b3e7a1d5c2f8064';

let dir: TempDir;
let as: UpstreamAuthorizationServer;
let docs: ProtectedMcpServer;
let gateway: GatewayProcess;
let browser: Browser;

interface ServerState {
  name: string;
  state: string;
  actions: { id: string; label: string; allowed: boolean }[];
}

async function docsState(token: string): Promise<ServerState | undefined> {
  const response = await fetch(`${gateway.url}/console/api/state`, { headers: { authorization: `Bearer ${token}` } });
  const { state } = (await response.json()) as { state: { servers: ServerState[] } };
  return state.servers.find((server) => server.name === 'docs');
}

function runAction(token: string, action: string): Promise<Response> {
  return fetch(`${gateway.url}/console/api/action`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ action, server: 'docs' }),
  });
}

beforeAll(async () => {
  dir = await createTempDir();
  as = await startUpstreamAuthorizationServer();
  docs = await startProtectedMcpServer(as.issuer, 'docs');
  const configPath = await dir.write('mcp.json', {
    restart: { backoff_base: 0.1, backoff_max: 0.5 },
    servers: { docs: { url: docs.url, scope: 'shared' } },
    auth: {
      tokens: [
        { id: 'ops', token: ADMIN, roles: ['admin'] },
        { id: 'reader', token: READER },
      ],
    },
    upstream_oauth: { state_file: 'state/upstream-tokens.json' },
  });
  gateway = await startGatewayProcess({
    configPath,
    env: { MCPROXY_TOKEN_KEY: randomBytes(32).toString('base64') },
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await docs?.close();
  await as?.close();
  await dir?.[Symbol.asyncDispose]();
});

describe('console: Sign in to an upstream that asks for OAuth', () => {
  it('is offered to the admin only, opens the sign-in page, and the server starts with that sign-in', async () => {
    // The server answered 401 with its resource metadata: the gateway knows it needs a sign-in.
    const offered = await waitFor(
      async () => {
        const state = await docsState(ADMIN);
        return state?.actions.find((action) => action.id === 'sign-in') && state;
      },
      { message: 'the console to offer Sign in on docs' },
    );
    // Between tries (failed) or trying again (restarting): never ready without a sign-in.
    expect(offered.state).not.toBe('ready');
    expect(offered.actions).toContainEqual({ id: 'sign-in', label: 'Sign in', allowed: true });
    expect((await docsState(READER))?.actions).toContainEqual({ id: 'sign-in', label: 'Sign in', allowed: false });

    const refused = await runAction(READER, 'sign-in');
    expect(refused.status).toBe(403);

    const started = await runAction(ADMIN, 'sign-in');
    expect(started.status).toBe(200);
    const { message, open } = (await started.json()) as { message: string; open: string };
    expect(message).toContain('docs');
    expect(new URL(open).origin).toBe(new URL(gateway.url).origin);
    expect(new URL(open).pathname).toBe('/oauth/upstream/sign-in');
    // Two clicks before the sign-in is done hand out the same link, not two sign-ins.
    expect(((await (await runAction(ADMIN, 'sign-in')).json()) as { open: string }).open).toBe(open);

    const { text } = await signInWithBrowser(browser, open, 'operator');
    expect(text).toContain('Signed in to "docs"');

    await waitFor(async () => (await docsState(ADMIN))?.state === 'ready', { message: 'docs to start' });
    expect((await docsState(ADMIN))?.actions.map((action) => action.id)).not.toContain('sign-in');
    expect((await runAction(ADMIN, 'sign-in')).status).toBe(409);

    const client = new Client({ name: 'console-sign-in-test', version: '0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${READER}` } },
      }),
    );
    try {
      const answer = JSON.parse(textOf(await client.callTool({ name: 'docs__whoami', arguments: {} }))) as unknown;
      expect(answer).toEqual({ server: 'docs', sub: 'operator' });
    } finally {
      await client.close();
    }
  });
});
