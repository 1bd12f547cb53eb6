import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { GATEWAY_MAIN } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import {
  ACCESS_ENV,
  bearer,
  connectHttp,
  expectNoSecrets,
  householdConfig,
  INITIALIZE,
  rawRequest,
  SECRETS,
  TOKENS,
  toolNames,
  WRONG_TOKEN,
} from './access-helpers.js';

const run = promisify(execFile);
const APP_ORIGIN = 'https://app.example.com';

let dir: TempDir;
let configPath: string;
let gateway: GatewayProcess;
const cliOutput: string[] = [];

beforeAll(async () => {
  dir = await createTempDir();
  const household = householdConfig();
  configPath = await dir.write('household.json', {
    ...household,
    namespaces: {
      ...(household.namespaces as object),
      widgets: { extends: 'public', require_auth: false, allowed_origins: [APP_ORIGIN] },
    },
  });
  gateway = await startGatewayProcess({ configPath, args: ['--log-level', 'debug'], env: ACCESS_ENV });
});

afterAll(async () => {
  await gateway?.stop();
  expectNoSecrets([...gateway.stdout, ...gateway.stderr, ...cliOutput]);
  await dir?.[Symbol.asyncDispose]();
});

const initialize = (path: string, headers: Record<string, string> = {}) =>
  rawRequest(`${gateway.url}${path}`, { body: INITIALIZE, headers });

describe('credentials', () => {
  it('no token: anonymous clients get the open namespaces, 401 with WWW-Authenticate elsewhere', async () => {
    const client = await connectHttp(`${gateway.url}/mcp`);
    expect((await toolNames(client)).every((name) => name.startsWith('wiki__'))).toBe(true);
    await client.close();
    for (const path of ['/ns/crypto/mcp', '/ns/system/mcp', '/mcp/covalent']) {
      const refused = await initialize(path);
      expect(refused.status, path).toBe(401);
      expect(refused.headers['www-authenticate']).toBe('Bearer realm="mcproxy"');
      expect(refused.json().error?.message).toMatch(/needs a credential/);
    }
    expect((await rawRequest(`${gateway.url}/ns/crypto/sse`)).status).toBe(401);
  });

  it('a wrong token is 401 invalid_token everywhere, even where anonymous clients are welcome', async () => {
    for (const path of ['/mcp', '/ns/public/mcp', '/ns/crypto/mcp', '/mcp/wiki', '/sse']) {
      const refused = await initialize(path, bearer(WRONG_TOKEN));
      expect(refused.status, path).toBe(401);
      expect(refused.headers['www-authenticate']).toBe('Bearer realm="mcproxy", error="invalid_token"');
    }
    expect((await initialize('/mcp', { 'x-api-key': WRONG_TOKEN })).status).toBe(401);
    expect((await initialize('/mcp', { authorization: `Basic ${btoa(`alice:${TOKENS.ALICE_TOKEN}`)}` })).status).toBe(
      401,
    );
  });

  it('the API-key header works as well as Authorization: Bearer', async () => {
    const client = await connectHttp(`${gateway.url}/ns/crypto/mcp`, { 'x-api-key': TOKENS.BOB_TOKEN });
    expect(await toolNames(client)).toContain('covalent__echo');
    await client.close();
  });

  it('a token of another namespace is 403', async () => {
    expect((await initialize('/ns/crypto/mcp', bearer(TOKENS.ALICE_TOKEN))).status).toBe(403);
    expect((await initialize('/ns/system/mcp', bearer(TOKENS.BOB_TOKEN))).status).toBe(403);
    expect((await initialize('/mcp/db', bearer(TOKENS.BOB_TOKEN))).status).toBe(403);
  });

  it('a session id alone grants nothing: another credential, or none, does not find the session', async () => {
    const opened = await initialize('/ns/crypto/mcp', {
      ...bearer(TOKENS.BOB_TOKEN),
      accept: 'application/json, text/event-stream',
    });
    const sessionId = opened.headers['mcp-session-id'] as string;
    expect(sessionId).toBeTruthy();
    const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
    const session = { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' };
    const asAlice = await rawRequest(`${gateway.url}/mcp`, {
      body: list,
      headers: { ...session, ...bearer(TOKENS.ALICE_TOKEN) },
    });
    expect(asAlice.status).toBe(404);
    const asNobody = await rawRequest(`${gateway.url}/mcp`, { body: list, headers: session });
    expect(asNobody.status).toBe(404);
    const asRoot = await rawRequest(`${gateway.url}/ns/crypto/mcp`, {
      body: list,
      headers: { ...session, ...bearer(TOKENS.ROOT_TOKEN) },
    });
    expect(asRoot.status).toBe(403);
  });

  it('refuses a token in the query string without echoing or logging it', async () => {
    for (const query of [`access_token=${TOKENS.ROOT_TOKEN}`, `api_key=${TOKENS.BOB_TOKEN}`, `token=${WRONG_TOKEN}`]) {
      for (const path of ['/mcp', '/ns/system/mcp', '/sse', '/health']) {
        const refused = await rawRequest(`${gateway.url}${path}?${query}`, { method: 'GET' });
        expect(refused.status, `${path}?${query}`).toBe(400);
        expect(refused.body).toMatch(/not accepted in the query string/);
        for (const secret of SECRETS) expect(refused.body).not.toContain(secret);
      }
    }
  });
});

describe('origins and hosts', () => {
  it('refuses an evil Origin on every endpoint', async () => {
    for (const path of ['/mcp', '/ns/public/mcp', '/sse', '/mcp/wiki']) {
      const refused = await initialize(path, { origin: 'http://evil.example' });
      expect(refused.status, path).toBe(403);
    }
  });

  it('keeps an origin a namespace lists to that namespace', async () => {
    expect((await initialize('/ns/widgets/mcp', { origin: APP_ORIGIN })).status).toBe(200);
    expect((await initialize('/ns/public/mcp', { origin: APP_ORIGIN })).status).toBe(403);
    // A browser on the gateway's own host may use public, but not widgets, which names its origins.
    expect((await initialize('/ns/public/mcp', { origin: 'http://localhost:3000' })).status).toBe(200);
    expect((await initialize('/ns/widgets/mcp', { origin: 'http://localhost:3000' })).status).toBe(403);
  });

  it('refuses a Host that does not name the loopback listener (DNS rebinding)', async () => {
    const refused = await initialize('/mcp', { host: 'evil.example:80' });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/Host/);
  });

  it('refuses oversized headers with 431', async () => {
    const refused = await initialize('/mcp', { 'x-padding': 'a'.repeat(20 * 1024) });
    expect(refused.status).toBe(431);
  });

  it('finds no odd namespace or server names: dot segments, encoded slashes, unicode', async () => {
    for (const path of [
      '/ns/../mcp',
      '/ns/public/../system/mcp',
      '/ns/..%2fsystem/mcp',
      '/ns/%2e%2e/mcp',
      '/ns/system%2fmcp',
      '/mcp/..%2Fdb',
      '/ns/public%5c..%5csystem/mcp',
    ]) {
      expect((await initialize(path, bearer(TOKENS.ALICE_TOKEN))).status, path).toBe(400);
    }
    for (const path of [
      '/ns/syst%C3%A9m/mcp',
      '/ns/%73ystem/mcp',
      '/ns/system/mcp/x',
      '/ns/system',
      '/ns/SYSTEM/mcp',
      '/mcp/d%62',
    ]) {
      expect((await initialize(path, bearer(TOKENS.ALICE_TOKEN))).status, path).toBe(404);
    }
  });
});

describe('secrets', () => {
  it('/health is open and holds no secret; /metrics needs a credential', async () => {
    const health = await rawRequest(`${gateway.url}/health`);
    expect(health.status).toBe(200);
    for (const secret of SECRETS) expect(health.body).not.toContain(secret);
    expect((await rawRequest(`${gateway.url}/metrics`)).status).toBe(401);
    expect((await rawRequest(`${gateway.url}/metrics`, { headers: bearer(TOKENS.ALICE_TOKEN) })).status).toBe(200);
  });

  it('mcproxy check prints no secret, valid or not', async () => {
    const valid = await run(process.execPath, [GATEWAY_MAIN, 'check', configPath], {
      env: { ...process.env, ...ACCESS_ENV },
    });
    cliOutput.push(...`${valid.stdout}${valid.stderr}`.split('\n'));
    expect(valid.stdout).toMatch(/^OK: 3 servers/);
    const brokenPath = await dir.write('broken.json', {
      ...householdConfig(),
      auth: {
        tokens: [
          { id: 'a', token: '${ALICE_TOKEN}', namespaces: ['pubic'] },
          { id: 'b', token: '${ALICE_TOKEN}' },
          { id: 'c', token: 'short' },
        ],
      },
    });
    const broken = await run(process.execPath, [GATEWAY_MAIN, 'check', brokenPath], {
      env: { ...process.env, ...ACCESS_ENV },
    }).catch((error: { stdout: string; stderr: string; code: number }) => error);
    cliOutput.push(...`${broken.stdout}${broken.stderr}`.split('\n'));
    expect(broken.stderr).toContain('auth.tokens[0].namespaces[0]: unknown namespace "pubic"');
    expect(broken.stderr).toContain('auth.tokens[1].token: the same token as auth.tokens[0]');
    expect(broken.stderr).toContain('auth.tokens[2].token: a token must be at least 16 characters long');
    for (const secret of [...SECRETS, 'short']) expect(broken.stderr).not.toContain(secret);
  });
});
