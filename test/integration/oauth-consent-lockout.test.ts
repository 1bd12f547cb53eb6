import { createHash, randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { type InProcessGateway, startInProcessGateway } from './oauth-helpers.js';

const OWNER_PASSWORD = 'owner-password-2b7d9e4a1c6f';
const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const ATTACKER = '203.0.113.7';
const OWNER = '198.51.100.2';

let dir: TempDir;
let gw: InProcessGateway;
let clientId: string;

// The gateway sits behind a trusted proxy (the test), so X-Forwarded-For names each browser's address.
beforeAll(async () => {
  dir = await createTempDir();
  const configPath = await dir.write('gateway.json', {
    servers: {},
    trusted_proxies: ['127.0.0.1', '::1'],
    auth: { oauth: { server: { owner_password: '${OWNER_PASSWORD}', scopes: ['mcp'] } } },
  });
  gw = await startInProcessGateway(dir, configPath, { env: { OWNER_PASSWORD } });
  const registered = await fetch(`${gw.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'lockout test',
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    }),
  });
  clientId = String(((await registered.json()) as Record<string, unknown>)['client_id']);
});

afterAll(async () => {
  await gw?.close();
  await dir?.[Symbol.asyncDispose]();
});

/** A client's authorization request (PKCE S256): the id of the consent page it leads to. */
async function consentRequest(): Promise<string> {
  const authorize = new URL(`${gw.url}/authorize`);
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'lockout',
    scope: 'mcp',
    resource: gw.url,
  }))
    authorize.searchParams.set(name, value);
  const html = await (await fetch(authorize, { redirect: 'manual' })).text();
  const requestId = /name="request" value="([^"]+)"/.exec(html)?.[1];
  if (!requestId) throw new Error(`no consent page: ${html.slice(0, 300)}`);
  return requestId;
}

/** The consent form posted from `address` with `password`: a code when allowed, else the page's error. */
async function consent(requestId: string, password: string, address: string): Promise<string> {
  const response = await fetch(`${gw.url}/oauth/consent`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address },
    body: new URLSearchParams({ request: requestId, action: 'allow', password, scope: 'mcp' }),
  });
  const location = response.headers.get('location');
  if (location) return new URL(location).searchParams.has('code') ? 'code' : location;
  return /role="alert">([^<]*)</.exec(await response.text())?.[1] ?? `HTTP ${response.status}`;
}

describe("the consent page's password limit", () => {
  it('an address that keeps guessing is refused, even the right password, while the owner elsewhere signs in', async () => {
    const guessed = await consentRequest();
    for (let attempt = 0; attempt < 10; attempt++) {
      expect(await consent(guessed, `guess-${attempt}-wrong-password`, ATTACKER), String(attempt)).toBe(
        'Wrong password.',
      );
    }
    expect(await consent(guessed, OWNER_PASSWORD, ATTACKER)).toMatch(/^Too many failed sign-ins/);
    expect(await consent(await consentRequest(), OWNER_PASSWORD, OWNER)).toBe('code');
  });

  it('the address is free again once its window has passed', async () => {
    gw.advance(15 * 60_000 + 1_000);
    expect(await consent(await consentRequest(), OWNER_PASSWORD, ATTACKER)).toBe('code');
  });
});
