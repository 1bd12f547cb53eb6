import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat } from 'node:fs/promises';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ElicitationCompleteNotificationSchema,
  ElicitRequestSchema,
  type ElicitRequestURLParams,
} from '@modelcontextprotocol/sdk/types.js';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readTokenKey } from '../../src/auth/upstream/token-key.js';
import { clientKey, tokensKey, TokenStore } from '../../src/auth/upstream/token-store.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { launchChromium } from '../helpers/chromium.js';
import { readJsonLines } from '../helpers/lines.js';
import { GATEWAY_MAIN } from '../helpers/paths.js';
import { freePort } from '../helpers/ports.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { textOf } from './access-helpers.js';
import { type InProcessGateway, startInProcessGateway } from './oauth-helpers.js';
import {
  type ProtectedMcpServer,
  signInWithBrowser,
  startProtectedMcpServer,
  startUpstreamAuthorizationServer,
  type UpstreamAuthorizationServer,
} from './upstream-oauth-helpers.js';

const TOKEN_KEY = randomBytes(32).toString('base64');
const WIKI_CLIENT_SECRET = 'wiki-client-secret-5d2f8a1c9e3b7046';
const ALICE_TOKEN = 'alice-gateway-token-3c8e1f5a9d2b7460';
const BOB_TOKEN = 'bob-gateway-token-8a2d6f1c4e9b3075';
const HOUR_MS = 3_600_000;

let dir: TempDir;
let as: UpstreamAuthorizationServer;
let notes: ProtectedMcpServer;
let wiki: ProtectedMcpServer;
let gw: InProcessGateway;
let browser: Browser;
let configPath: string;
let cliPort: number;
const logLines: string[] = [];
const metrics = createMetrics({ defaultMetrics: false });
const errors: string[] = [];
const codes: string[] = [];
const clients: Client[] = [];
/** What alice's client was asked by URL elicitation, and the sign-ins it ran for it. */
const elicited: ElicitRequestURLParams[] = [];
const completed: string[] = [];
let aliceSignIns: Promise<unknown>[] = [];

async function signIn(url: string, login: string): Promise<string> {
  const result = await signInWithBrowser(browser, url, login);
  codes.push(...result.codes);
  return result.text;
}

async function connect(token: string, elicitation: boolean): Promise<Client> {
  const client = new Client(
    { name: 'upstream-oauth-test', version: '0' },
    { capabilities: elicitation ? { elicitation: { url: {} } } : {} },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  clients.push(client);
  return client;
}

async function whoami(client: Client, server = 'notes'): Promise<{ server: string; sub: string }> {
  try {
    return JSON.parse(textOf(await client.callTool({ name: `${server}__whoami`, arguments: {} }))) as {
      server: string;
      sub: string;
    };
  } catch (error) {
    errors.push((error as Error).message);
    throw error;
  }
}

function auditLines(): Promise<Record<string, unknown>[]> {
  return readJsonLines(dir.resolve('audit.jsonl'));
}

async function upstreamEvents(event: string, credential: string | null): Promise<Record<string, unknown>[]> {
  return (await auditLines()).filter((line) => line['event'] === event && line['credential'] === credential);
}

/** Runs `mcproxy login` as its own process; $BROWSER is a script that writes down the URL it was given. */
async function runLogin(
  server: string,
  extra: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; url: () => Promise<string>; done: Promise<{ code: number | null; out: string }> }> {
  const urlsFile = dir.resolve(`urls-${server}-${randomBytes(4).toString('hex')}.txt`);
  const opener = await dir.write(`open-${server}.sh`, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${urlsFile}'\n`);
  await chmod(opener, 0o755);
  const child = spawn(process.execPath, [GATEWAY_MAIN, 'login', server, '--config', configPath, ...extra], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', BROWSER: opener, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const done = new Promise<{ code: number | null; out: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, out })),
  );
  const url = () =>
    waitFor(async () => (await readFile(urlsFile, 'utf8').catch(() => '')).split('\n')[0] || undefined, {
      timeoutMs: 20_000,
      message: () => `mcproxy login opened no browser: ${out}`,
    });
  return { child, url, done };
}

/** Reads the state file the way the gateway does: the tokens of an account, and the client that holds them. */
function storedSignIn(server: string, account: string) {
  const store = new TokenStore({
    path: dir.resolve('state/upstream-tokens.json'),
    key: () => readTokenKey(TOKEN_KEY),
    onError: (error) => {
      throw error;
    },
  });
  const tokens = store.get<{ tokens: { access_token: string; refresh_token?: string } }>(tokensKey(server, account));
  const client = store.get<{ information: { client_id: string; client_secret?: string } }>(
    clientKey(server, 'gateway'),
  );
  return { tokens: tokens?.tokens, client: client?.information };
}

beforeAll(async () => {
  dir = await createTempDir();
  cliPort = await freePort();
  as = await startUpstreamAuthorizationServer({
    // A client registered by hand for wiki: its redirect is `mcproxy login`'s loopback callback.
    clients: [
      {
        client_id: 'mcproxy-wiki',
        client_secret: WIKI_CLIENT_SECRET,
        redirect_uris: [`http://127.0.0.1:${cliPort}/callback`],
      },
    ],
  });
  notes = await startProtectedMcpServer(as.issuer, 'notes');
  wiki = await startProtectedMcpServer(as.issuer, 'wiki');
  await dir.write('.env', `MCPROXY_TOKEN_KEY=${TOKEN_KEY}\nWIKI_CLIENT_SECRET=${WIKI_CLIENT_SECRET}\n`);
  configPath = await dir.write('gateway.json', {
    // Short backoff: a server waiting for a sign-in is tried again soon after it.
    restart: { backoff_base: 0.1, backoff_max: 0.5 },
    servers: {
      // No `oauth` field: the gateway finds out from the server's 401.
      notes: { url: notes.url, scope: 'credential' },
      wiki: {
        url: wiki.url,
        scope: 'shared',
        oauth: { client_id: 'mcproxy-wiki', client_secret: '${WIKI_CLIENT_SECRET}' },
      },
    },
    auth: {
      tokens: [
        { id: 'alice', token: ALICE_TOKEN },
        { id: 'bob', token: BOB_TOKEN },
      ],
    },
    audit: { path: 'audit.jsonl' },
    upstream_oauth: { state_file: 'state/upstream-tokens.json' },
  });
  gw = await startInProcessGateway(dir, configPath, {
    auditName: 'audit.jsonl',
    logLines,
    metrics,
    env: { MCPROXY_TOKEN_KEY: undefined },
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await Promise.allSettled(clients.map((client) => client.close()));
  await browser?.close();
  await gw?.close();
  await notes?.close();
  await wiki?.close();
  await as?.close();
  await dir?.[Symbol.asyncDispose]();
});

describe('mcproxy login: the gateway signs in to a server', () => {
  it('signs in with a configured client id and secret; the shared server then starts with that sign-in', async () => {
    await waitFor(() => gw.gateway.server('wiki')?.state === 'failed' || undefined);
    expect(gw.gateway.health().servers['wiki']?.lastError).toContain('mcproxy login wiki');
    const login = await runLogin('wiki', ['--callback-port', String(cliPort)]);
    const url = new URL(await login.url());
    expect(url.origin).toBe(as.issuer);
    expect(url.searchParams.get('client_id')).toBe('mcproxy-wiki');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('resource')).toBe(wiki.url);
    expect(await signIn(url.href, 'operator')).toContain('mcproxy is signed in to "wiki"');
    const { code, out } = await login.done;
    expect(code, out).toBe(0);
    expect(out).toContain('Signed in to "wiki"');
    // The running gateway notices the new sign-in in its state file and starts the server again.
    await waitFor(() => gw.gateway.server('wiki')?.state === 'ready' || undefined, { timeoutMs: 15_000 });
    const alice = await connect(ALICE_TOKEN, false);
    expect(await whoami(alice, 'wiki')).toEqual({ server: 'wiki', sub: 'operator' });
  });

  it('signs in with dynamic registration, so that a per-user server can be listed', async () => {
    const login = await runLogin('notes');
    const url = new URL(await login.url());
    expect(url.searchParams.get('resource')).toBe(notes.url);
    expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    await signIn(url.href, 'operator');
    expect((await login.done).code).toBe(0);
    await waitFor(() => gw.gateway.catalog.tools.some((tool) => tool.publicName === 'notes__whoami') || undefined, {
      timeoutMs: 15_000,
      message: () => logLines.slice(-30).join(''),
    });
    const events = await upstreamEvents('upstream:sign-in', null);
    expect(events.map((event) => event['server'])).toEqual(['wiki', 'notes']);
  });
});

describe('each credential signs in for itself', () => {
  it('asks alice by URL elicitation, waits while she signs in, and calls with her own token', async () => {
    const alice = await connect(ALICE_TOKEN, true);
    alice.setRequestHandler(ElicitRequestSchema, (request) => {
      const params = request.params as ElicitRequestURLParams;
      elicited.push(params);
      aliceSignIns.push(signIn(params.url, 'alice'));
      return { action: 'accept' };
    });
    alice.setNotificationHandler(ElicitationCompleteNotificationSchema, (notification) => {
      completed.push(notification.params.elicitationId);
    });
    expect(await whoami(alice)).toEqual({ server: 'notes', sub: 'alice' });
    expect(elicited).toHaveLength(1);
    expect(elicited[0]).toMatchObject({ mode: 'url', message: expect.stringContaining('credential "alice"') });
    expect(elicited[0]!.url).toMatch(new RegExp(`^${gw.url}/oauth/upstream/sign-in\\?request=`));
    await waitFor(() => completed.includes(elicited[0]!.elicitationId) || undefined);
    await Promise.all(aliceSignIns);
    expect(notes.calls.at(-1)?.sub).toBe('alice');
    expect(await upstreamEvents('upstream:sign-in', 'alice')).toEqual([
      expect.objectContaining({ server: 'notes', resource: notes.url, client_id: expect.any(String) }),
    ]);
  });

  it('gives bob, whose client has no URL elicitation, an error with his link; then his calls carry his token', async () => {
    const bob = await connect(BOB_TOKEN, false);
    const refusal = await whoami(bob).catch((error: Error & { code?: number }) => error);
    expect(refusal).toBeInstanceOf(Error);
    expect((refusal as { code?: number }).code).toBe(-32001);
    const link = /(http:\/\/\S+\/oauth\/upstream\/sign-in\?request=\S+) in a browser/.exec(
      (refusal as Error).message,
    )?.[1];
    expect(link, (refusal as Error).message).toBeDefined();
    expect((refusal as Error).message).toContain('credential "bob"');
    // The page names whose sign-in it is before the browser leaves the gateway.
    const page = await browser.newPage();
    await page.goto(link!);
    expect(await page.innerText('body')).toContain('credential "bob"');
    await page.close();
    await signIn(link!, 'bob');
    expect(await whoami(bob)).toEqual({ server: 'notes', sub: 'bob' });
    const [aliceCall, bobCall] = [
      notes.calls.findLast((call) => call.sub === 'alice')!,
      notes.calls.findLast((call) => call.sub === 'bob')!,
    ];
    expect(aliceCall.token).not.toBe(bobCall.token);
    expect(aliceCall.jti).not.toBe(bobCall.jti);
    // The shared server goes on using the gateway's own sign-in, for everyone.
    expect(await whoami(bob, 'wiki')).toEqual({ server: 'wiki', sub: 'operator' });
  });
});

describe('tokens are refreshed with no user action', () => {
  it('refreshes an expired token before the call, once for many calls at once', async () => {
    const alice = clients[1]!;
    const before = notes.calls.findLast((call) => call.sub === 'alice')!;
    const refreshes = (await upstreamEvents('upstream:refresh', 'alice')).length;
    const unauthorized = notes.unauthorized;
    gw.advance(2 * HOUR_MS);
    const answers = await Promise.all(Array.from({ length: 8 }, () => whoami(alice)));
    expect(answers.every((answer) => answer.sub === 'alice')).toBe(true);
    const used = new Set(notes.calls.slice(-8).map((call) => call.jti));
    expect(used.size).toBe(1);
    expect(used.has(before.jti)).toBe(false);
    // Refreshed ahead of the expiry it knows of: the server never had to turn the old token down.
    expect(notes.unauthorized).toBe(unauthorized);
    await waitFor(
      async () => (await upstreamEvents('upstream:refresh', 'alice')).length === refreshes + 1 || undefined,
    );
    expect(elicited).toHaveLength(1);
  });

  it('refreshes when the server turns a token down with 401, and sends the call again', async () => {
    const alice = clients[1]!;
    const before = notes.calls.findLast((call) => call.sub === 'alice')!;
    const unauthorized = notes.unauthorized;
    notes.rejected.add(before.token);
    expect(await whoami(alice)).toEqual({ server: 'notes', sub: 'alice' });
    expect(notes.unauthorized).toBeGreaterThan(unauthorized);
    expect(notes.calls.at(-1)?.jti).not.toBe(before.jti);
    expect(elicited).toHaveLength(1);
  });

  it('asks alice to sign in again only when the refresh is refused', async () => {
    const alice = clients[1]!;
    // The state file is written in the background: wait until it holds the tokens alice calls with now.
    const current = notes.calls.findLast((call) => call.sub === 'alice')!.token;
    const stored = await waitFor(() => {
      const found = storedSignIn('notes', 'credential:alice');
      return found.tokens?.access_token === current ? found : undefined;
    });
    expect(stored.tokens?.refresh_token).toBeDefined();
    await as.revoke(stored.tokens!.refresh_token!, stored.client!);
    notes.rejected.add(stored.tokens!.access_token);
    const refusal = await whoami(alice).catch((error: Error) => error);
    expect((refusal as Error).message).toContain('needs a sign-in by credential "alice"');
    expect(await upstreamEvents('upstream:refresh-refused', 'alice')).toHaveLength(1);
    aliceSignIns = [];
    expect(await whoami(alice)).toEqual({ server: 'notes', sub: 'alice' });
    expect(elicited).toHaveLength(2);
    await Promise.all(aliceSignIns);
  });
});

describe('a refresh that fails after a 401', () => {
  it('asks bob to sign in again, and gives him his link on the next call', async () => {
    const bob = await connect(BOB_TOKEN, false);
    expect(await whoami(bob)).toEqual({ server: 'notes', sub: 'bob' });
    const dead = notes.calls.findLast((call) => call.sub === 'bob')!.token;
    notes.rejected.add(dead);
    as.tokenOutage = true;
    let refusal: Error & { code?: number };
    try {
      refusal = await whoami(bob).then(
        () => new Error('the call went through'),
        (error: Error) => error,
      );
    } finally {
      as.tokenOutage = false;
    }
    expect(refusal.code, refusal.message).toBe(-32001);
    expect(refusal.message).toContain('needs a sign-in by credential "bob"');
    expect(await upstreamEvents('upstream:refresh-failed', 'bob')).toHaveLength(1);
    const next = await whoami(bob).catch((error: Error & { code?: number }) => error);
    expect((next as { code?: number }).code).toBe(-32001);
    const link = /(http:\/\/\S+\/oauth\/upstream\/sign-in\?request=\S+) in a browser/.exec(
      (next as Error).message,
    )?.[1];
    expect(link, (next as Error).message).toBeDefined();
    await signIn(link!, 'bob');
    expect(await whoami(bob)).toEqual({ server: 'notes', sub: 'bob' });
    expect(notes.calls.at(-1)?.token).not.toBe(dead);
  });
});

describe('secrets', () => {
  it('keeps tokens and codes out of logs, health, metrics, errors, the audit log and the state file', async () => {
    const tokens = [...new Set(notes.calls.concat(wiki.calls).map((call) => call.token))];
    const refresh = storedSignIn('notes', 'credential:bob').tokens?.refresh_token;
    const secrets = [...tokens, ...(refresh ? [refresh] : []), ...codes, WIKI_CLIENT_SECRET, TOKEN_KEY];
    expect(tokens.length).toBeGreaterThan(4);
    expect(codes.length).toBeGreaterThan(3);
    const stateFile = await readFile(dir.resolve('state/upstream-tokens.json'), 'utf8');
    expect((await stat(dir.resolve('state/upstream-tokens.json'))).mode & 0o777).toBe(0o600);
    const places = {
      logs: logLines.join('\n'),
      health: JSON.stringify(gw.gateway.health()),
      metrics: await metrics.render(),
      errors: errors.join('\n'),
      audit: await readFile(dir.resolve('audit.jsonl'), 'utf8'),
      state: stateFile,
    };
    expect(logLines.length).toBeGreaterThan(10);
    for (const [place, text] of Object.entries(places)) {
      for (const secret of secrets) if (text.includes(secret)) expect.fail(`a secret appeared in ${place}`);
    }
  });
});

describe('sign-in pages and refusals', () => {
  it('answers an unknown or used link, a forged callback and a refused consent with a page, and records the refusal', async () => {
    const unknown = await fetch(`${gw.url}/oauth/upstream/sign-in?request=${'x'.repeat(10_000)}`);
    expect(unknown.status).toBe(404);
    const forged = await fetch(`${gw.url}/oauth/upstream/callback?state=nope&code=stolen`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('expired or was used already');
    const link = await gw.gateway.upstreamOAuth.startSignIn('notes', 'credential:zed');
    const state = new URL(link.url).searchParams.get('request')!;
    // The browser that opened the sign-in page holds its cookie; the callback comes back to it.
    const cookie = (await fetch(link.url)).headers.get('set-cookie')?.split(';')[0] ?? '';
    expect(cookie).toMatch(/^mcproxy-sign-in-/);
    const denied = await fetch(`${gw.url}/oauth/upstream/callback?state=${state}&error=access_denied`, {
      headers: { cookie },
    });
    expect(denied.status).toBe(400);
    await expect(link.done).rejects.toThrow(/access_denied/);
    const replay = await fetch(`${gw.url}/oauth/upstream/callback?state=${state}&code=late`, { headers: { cookie } });
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('expired or was used already');
    expect(await upstreamEvents('upstream:sign-in-refused', 'zed')).toHaveLength(1);
  });

  it("takes a callback only in the browser that opened the sign-in page: a forwarded authorization URL fills nobody's sign-in", async () => {
    // Mallory holds a sign-in link for her own credential; its page shows the authorization server's URL.
    const link = await gw.gateway.upstreamOAuth.startSignIn('notes', 'credential:mallory');
    const page = await (await fetch(link.url)).text();
    const href = /href="([^"]+)"[^>]*>Continue</.exec(page)?.[1];
    expect(href, page).toBeDefined();
    const authorizationUrl = href!.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
    expect(new URL(authorizationUrl).origin).toBe(as.issuer);
    // She passes that URL on; victor signs in there in his own browser, never seeing the gateway's page.
    const result = await signInWithBrowser(browser, authorizationUrl, 'victor');
    expect(result.text).toContain('Not signed in');
    expect(result.text).toContain('not started in this browser');
    expect(gw.gateway.upstreamOAuth.signedIn('notes')).not.toContain('credential:mallory');
    expect(await upstreamEvents('upstream:sign-in-refused', 'mallory')).toEqual([
      expect.objectContaining({ detail: 'the callback came to a browser that had not opened the sign-in link' }),
    ]);
    // The link itself still works, for whoever opens it and reads whose sign-in it is.
    expect(await signIn(link.url, 'mallory')).toContain('Signed in to "notes" for credential "mallory"');
    await link.done;
  });

  it('refuses to sign in without MCPROXY_TOKEN_KEY, naming the variable', async () => {
    const bare = await createTempDir();
    try {
      const path = await bare.write('gateway.json', { servers: { notes: { url: notes.url } } });
      const child = spawn(process.execPath, [GATEWAY_MAIN, 'login', 'notes', '--config', path, '--no-browser'], {
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      });
      let out = '';
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      expect(out).toContain('MCPROXY_TOKEN_KEY');
      expect(out).toContain('openssl rand -base64 32');
    } finally {
      await bare[Symbol.asyncDispose]();
    }
  });
});

describe('mcproxy login --sign-out', () => {
  it('forgets the sign-in and has the authorization server revoke it (RFC 7009)', async () => {
    const store = new TokenStore({
      path: dir.resolve('state/upstream-tokens.json'),
      key: () => readTokenKey(TOKEN_KEY),
      onError: (error) => {
        throw error;
      },
    });
    const signedIn = store.get<{ tokens: { refresh_token?: string } }>(tokensKey('wiki', 'gateway'));
    const refresh = signedIn?.tokens.refresh_token;
    expect(refresh).toBeDefined();
    // Configured in the gateway's config as wiki's client; the introspection is asked as the same client.
    const client = { client_id: 'mcproxy-wiki', client_secret: WIKI_CLIENT_SECRET };
    expect(await as.isActive(refresh!, client)).toBe(true);
    const { code, out } = await (await runLogin('wiki', ['--sign-out'])).done;
    expect(code, out).toBe(0);
    expect(out).toContain('Signed out of "wiki"; the authorization server revoked the tokens.');
    expect(await as.isActive(refresh!, client)).toBe(false);
    store.reload();
    expect(store.has(tokensKey('wiki', 'gateway'))).toBe(false);
    const revoked = await upstreamEvents('upstream:revoke', null);
    expect(revoked.at(-1)?.['detail']).toBe('signed out; the authorization server revoked the tokens');
    // Signing out again finds nothing to forget.
    const again = await (await runLogin('wiki', ['--sign-out'])).done;
    expect(again.out).toContain('The gateway was not signed in to "wiki"');
  });

  it("a credential's sign-out, as the console makes it, is revoked too, as the client registered for it", async () => {
    const stored = storedSignIn('notes', 'credential:alice');
    expect(stored.tokens?.refresh_token).toBeDefined();
    expect(await as.isActive(stored.tokens!.refresh_token!, stored.client!)).toBe(true);
    expect(await gw.gateway.upstreamOAuth.signOut('notes', 'credential:alice')).toBe(true);
    expect(await as.isActive(stored.tokens!.refresh_token!, stored.client!)).toBe(false);
    const revoked = await waitFor(async () => (await upstreamEvents('upstream:revoke', 'alice')).at(-1));
    expect(revoked['detail']).toBe('signed out; the authorization server revoked the tokens');
    expect(await gw.gateway.upstreamOAuth.signOut('notes', 'credential:alice')).toBe(false);
  });
});
