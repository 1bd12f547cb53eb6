import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { bearer, INITIALIZE, rawRequest } from './access-helpers.js';
import { type InProcessGateway, startInProcessGateway } from './oauth-helpers.js';

/** The gateway's client id at the issuer, accepted as an audience: the value an OpenID ID token carries as `aud`. */
const CLIENT_ID = 'mcproxy-client';

let dir: TempDir;
let keys: Server;
let issuer: string;
let gw: InProcessGateway;
let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

beforeAll(async () => {
  dir = await createTempDir();
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] });
  keys = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
  await new Promise<void>((resolve) => keys.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(keys.address() as AddressInfo).port}`;
  const configPath = await dir.write('gateway.json', {
    servers: {},
    auth: {
      oauth: {
        audiences: [CLIENT_ID],
        authorization_servers: [{ issuer, name: 'idp', jwks_uri: `${issuer}/jwks` }],
      },
    },
  });
  gw = await startInProcessGateway(dir, configPath);
});

afterAll(async () => {
  await gw?.close();
  await new Promise<void>((resolve) => (keys ? keys.close(() => resolve()) : resolve()));
  await dir?.[Symbol.asyncDispose]();
});

/** A JWT of the trusted issuer for the gateway's client id, signed with its key. */
function signed(typ: string | undefined, claims: JWTPayload): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', ...(typ === undefined ? {} : { typ }) })
    .setIssuer(issuer)
    .setSubject('alice')
    .setAudience(CLIENT_ID)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(privateKey);
}

async function initialize(token: string): Promise<{ status: number; challenge: string; message: string }> {
  const response = await rawRequest(`${gw.url}/mcp`, { body: INITIALIZE, headers: bearer(token) });
  const message = response.status === 401 ? (response.json().error?.message ?? '') : '';
  return { status: response.status, challenge: String(response.headers['www-authenticate'] ?? ''), message };
}

describe('a JWT of a trusted issuer is taken as an access token only if it is one (RFC 9068, RFC 8725 §3.11)', () => {
  it('an RFC 9068 access token (typ at+jwt) opens the gateway', async () => {
    expect((await initialize(await signed('at+jwt', { client_id: CLIENT_ID, scope: 'mcp' }))).status).toBe(200);
    expect((await initialize(await signed('application/AT+JWT', { client_id: CLIENT_ID }))).status).toBe(200);
  });

  it('an access token typed JWT or untyped, as many servers still issue them, opens the gateway', async () => {
    expect((await initialize(await signed('JWT', { azp: CLIENT_ID, scope: 'mcp' }))).status).toBe(200);
    expect((await initialize(await signed(undefined, { scp: ['mcp'] }))).status).toBe(200);
  });

  it('an OpenID ID token for the same audience is refused (401 invalid_token)', async () => {
    // The claims an authorization-code sign-in's ID token carries (oidc-provider's, untyped).
    const idToken = { nonce: 'n-0S6_WzA2Mj', at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q', auth_time: 1_700_000_000 };
    for (const typ of [undefined, 'JWT']) {
      const refused = await initialize(await signed(typ, idToken));
      expect(refused.status, String(typ)).toBe(401);
      expect(refused.challenge).toContain('error="invalid_token"');
      expect(refused.message).toBe('Unauthorized: the token is an OpenID ID token, not an access token');
    }
    expect((await initialize(await signed(undefined, { c_hash: 'LDktKdoQak3Pk0cnXxCltA' }))).status).toBe(401);
    // Keycloak marks its ID tokens in the payload.
    expect((await initialize(await signed('JWT', { typ: 'ID' }))).status).toBe(401);
  });

  it('a JWT of another kind (a logout token, a DPoP proof) is refused', async () => {
    for (const typ of ['logout+jwt', 'dpop+jwt', 'secevent+jwt']) {
      const refused = await initialize(await signed(typ, { client_id: CLIENT_ID }));
      expect(refused.status, typ).toBe(401);
      expect(refused.message).toBe(`Unauthorized: the token is a "${typ}" JWT, not an access token`);
    }
  });
});
