import { chmod, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchChromium } from '../helpers/chromium.js';
import { readJsonLines } from '../helpers/lines.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { freePort } from '../helpers/ports.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { bearer, expectNoSecrets, householdConfig, INITIALIZE, rawRequest, textOf } from './access-helpers.js';
import { type InProcessGateway, startInProcessGateway } from './oauth-helpers.js';

const OWNER_PASSWORD = 'owner-password-6c1e9a3f7b2d';
// Longer than mcp-remote's 60 s expiry margin, so it refreshes only when the gateway says the token expired.
const ACCESS_TOKEN_TTL_S = 600;
const MCP_REMOTE = join(REPO_ROOT, 'node_modules/mcp-remote/dist/proxy.js');

let dir: TempDir;
let gw: InProcessGateway;
let browser: Browser;
let client: Client;
const remoteLog: string[] = [];

/** mcp-remote opens the sign-in page with `open` → xdg-open, which hands it to $BROWSER: this script notes it. */
async function browserScript(): Promise<string> {
  const path = await dir.write('open-url.sh', `#!/bin/sh\nprintf '%s\\n' "$1" >> '${dir.resolve('urls.txt')}'\n`);
  await chmod(path, 0o755);
  return path;
}

async function urlsOpened(): Promise<string[]> {
  const text = await readFile(dir.resolve('urls.txt'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean);
}

/** The owner's part, in a real browser: open the page mcp-remote asked for, sign in, allow. */
async function consent(url: string): Promise<void> {
  const page = await browser.newPage();
  try {
    await page.goto(url);
    await page
      .getByText('to use this gateway?', { exact: false })
      .waitFor({ timeout: 5_000 })
      .catch(async (error: unknown) => {
        throw new Error(`no consent page: ${await page.content()}`, { cause: error });
      });
    await page.fill('input[name=password]', 'not-the-password');
    await page.click('button[value=allow]');
    await page
      .getByText('Wrong password.')
      .waitFor({ timeout: 5_000 })
      .catch(async (error: unknown) => {
        throw new Error(`no refusal: ${page.url()} ${await page.content()}`, { cause: error });
      });
    await page.fill('input[name=password]', OWNER_PASSWORD);
    await Promise.all([page.waitForURL(/\/oauth\/callback/), page.click('button[value=allow]')]);
  } finally {
    await page.close();
  }
}

function auditLines(): Promise<Record<string, unknown>[]> {
  return readJsonLines(dir.resolve('audit.jsonl'));
}

async function storedTokens(): Promise<{ access_token: string; refresh_token: string }> {
  const authDir = dir.resolve('mcp-auth');
  const files: string[] = [];
  for (const entry of await readdir(authDir, { recursive: true }))
    if (entry.endsWith('_tokens.json')) files.push(entry);
  expect(files).toHaveLength(1);
  return JSON.parse(await readFile(join(authDir, files[0]!), 'utf8')) as {
    access_token: string;
    refresh_token: string;
  };
}

beforeAll(async () => {
  dir = await createTempDir();
  const household = householdConfig();
  const namespaces = household.namespaces as Record<string, object>;
  const configPath = await dir.write('gateway.json', {
    ...household,
    // Nothing is open to anonymous clients here, so mcp-remote must sign in.
    namespaces: { ...namespaces, public: { servers: ['wiki'] } },
    auth: {
      ...(household.auth as object),
      oauth: {
        server: {
          owner_password: '${OWNER_PASSWORD}',
          access_token_ttl: ACCESS_TOKEN_TTL_S,
          state_file: 'oauth-state.json',
        },
        credentials: [
          { id: 'crypto-users', scopes: ['mcp:crypto'], namespaces: ['crypto'] },
          { id: 'public-users', scopes: ['mcp:public'], namespaces: ['public'] },
        ],
      },
    },
  });
  gw = await startInProcessGateway(dir, configPath, { auditName: 'audit.jsonl', env: { OWNER_PASSWORD } });
  browser = await launchChromium();
});

afterAll(async () => {
  await client?.close();
  await browser?.close();
  await gw?.close();
  expectNoSecrets([...remoteLog, JSON.stringify(await auditLines())], [OWNER_PASSWORD]);
  await dir?.[Symbol.asyncDispose]();
});

describe('mcp-remote through the built-in authorization server', () => {
  it('registers, sends the owner to the consent page, exchanges the code and calls tools', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [MCP_REMOTE, `${gw.url}/mcp`, String(await freePort())],
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: dir.path,
        MCP_REMOTE_CONFIG_DIR: dir.resolve('mcp-auth'),
        BROWSER: await browserScript(),
      },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => remoteLog.push(chunk.toString()));
    client = new Client({ name: 'mcp-remote-test', version: '0' });
    const connected = client.connect(transport);
    const [url] = await waitFor(
      async () => {
        const urls = await urlsOpened();
        return urls.length > 0 ? urls : undefined;
      },
      { timeoutMs: 30_000, message: () => `mcp-remote opened no browser:\n${remoteLog.join('')}` },
    );
    expect(url).toMatch(new RegExp(`^${gw.url}/authorize\\?`));
    expect(new URL(url!).searchParams.get('code_challenge_method')).toBe('S256');
    expect(new URL(url!).searchParams.get('resource')).toBe(`${gw.url}/mcp`);
    await consent(url!);
    await connected;

    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain('covalent__echo');
    expect(names.some((name) => name.startsWith('db__'))).toBe(false);
    expect(textOf(await client.callTool({ name: 'wiki__echo', arguments: { message: 'hi' } }))).toContain('hi');

    const lines = await waitFor(async () => {
      const found = await auditLines();
      return found.some((line) => line['tool'] === 'echo') ? found : undefined;
    });
    const events = lines.map((line) => line['event']).filter(Boolean);
    expect(events).toEqual(['oauth:register', 'oauth:sign-in-refused', 'oauth:sign-in', 'oauth:token']);
    const calls = lines.filter((line) => line['tool'] === 'echo');
    expect(calls[0]).toMatchObject({ credential: 'mcproxy:owner', server: 'wiki', outcome: 'ok' });
    expect(typeof calls[0]?.['client_id']).toBe('string');
  });

  it('refreshes by itself once the access token has expired (rotating the refresh token)', async () => {
    const before = await storedTokens();
    gw.advance((ACCESS_TOKEN_TTL_S + 1) * 1000);
    const expired = await rawRequest(`${gw.url}/mcp`, { body: INITIALIZE, headers: bearer(before.access_token) });
    expect(expired.status).toBe(401);
    expect(String(expired.headers['www-authenticate'])).toContain('error="invalid_token"');

    expect(textOf(await client.callTool({ name: 'covalent__echo', arguments: { message: 'again' } }))).toContain(
      'again',
    );
    const after = await storedTokens();
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token).not.toBe(before.refresh_token);
    await waitFor(async () => (await auditLines()).some((line) => line['event'] === 'oauth:refresh'));
    expect(await urlsOpened()).toHaveLength(1);
  });

  it('revocation ends access: the tokens stop working and mcp-remote has to ask the owner again', async () => {
    const tokens = await storedTokens();
    const revoked = await postForm('/revoke', {
      token: tokens.refresh_token,
      client_id: (await clientInfo()).client_id,
    });
    expect(revoked.status).toBe(200);
    const refused = await rawRequest(`${gw.url}/mcp`, { body: INITIALIZE, headers: bearer(tokens.access_token) });
    expect(refused.status).toBe(401);
    const refresh = await postForm('/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: (await clientInfo()).client_id,
    });
    expect(refresh.status).toBe(400);
    expect((await refresh.json()) as { error: string }).toMatchObject({ error: 'invalid_grant' });
    // The audit log is written asynchronously.
    const events = await waitFor(async () => {
      const found = (await auditLines()).filter((line) => line['event'] === 'oauth:revoke');
      return found.length > 0 ? found : undefined;
    });
    expect(events).toEqual([expect.objectContaining({ credential: 'mcproxy:owner', detail: 'refresh token' })]);

    await expect(
      client.callTool({ name: 'wiki__echo', arguments: { message: 'no' } }, undefined, { timeout: 5_000 }),
    ).rejects.toThrow();
    // Its refresh was refused too, so it sent the owner to the consent page once more.
    await waitFor(async () => (await urlsOpened()).length === 2, { timeoutMs: 20_000 });
  });
});

async function clientInfo(): Promise<{ client_id: string }> {
  const authDir = dir.resolve('mcp-auth');
  for (const entry of await readdir(authDir, { recursive: true })) {
    if (entry.endsWith('_client_info.json'))
      return JSON.parse(await readFile(join(authDir, entry), 'utf8')) as { client_id: string };
  }
  throw new Error('mcp-remote stored no client information');
}

function postForm(path: string, form: Record<string, string>): Promise<Response> {
  return fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
}
