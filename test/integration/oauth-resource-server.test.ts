import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { bearer, connectHttp, householdConfig, INITIALIZE, rawRequest, toolNames } from './access-helpers.js';
import {
  type InProcessGateway,
  INTROSPECTOR_SECRET,
  startAuthorizationServer,
  startInProcessGateway,
  type TestAuthorizationServer,
} from './oauth-helpers.js';

let dir: TempDir;
let idp: TestAuthorizationServer;
let stranger: TestAuthorizationServer;
let gw: InProcessGateway;
let introspecting: InProcessGateway;

/** The household of the access tests, with OAuth rules: mcp:public opens public, mcp:crypto opens crypto. */
function oauthConfig(issuer: Record<string, unknown>): Record<string, unknown> {
  const household = householdConfig();
  return {
    ...household,
    auth: {
      ...(household.auth as object),
      oauth: {
        clock_skew: 30,
        authorization_servers: [{ name: 'idp', ...issuer }],
        credentials: [
          { id: 'crypto-users', scopes: ['mcp:crypto'], namespaces: ['crypto'] },
          {
            id: 'public-users',
            scopes: ['mcp:public'],
            namespaces: ['public'],
            rate_limit: { requests_per_minute: 1000 },
          },
        ],
      },
    },
  };
}

beforeAll(async () => {
  dir = await createTempDir();
  // Tokens for the introspecting gateway are opaque: oidc-provider introspects only those.
  idp = await startAuthorizationServer(
    (resource) => introspecting !== undefined && resource.startsWith(introspecting.url),
  );
  stranger = await startAuthorizationServer();
  gw = await startInProcessGateway(dir, await dir.write('jwt.json', oauthConfig({ issuer: idp.issuer })));
  const introspection = { client_id: 'gateway', client_secret: INTROSPECTOR_SECRET, cache_secs: 0 };
  introspecting = await startInProcessGateway(
    dir,
    await dir.write('introspect.json', oauthConfig({ issuer: idp.issuer, introspection })),
  );
});

afterAll(async () => {
  await gw?.close();
  await introspecting?.close();
  await idp?.close();
  await stranger?.close();
  await dir?.[Symbol.asyncDispose]();
});

const challengeOf = (response: { headers: Record<string, string | string[] | undefined> }) =>
  String(response.headers['www-authenticate'] ?? '');

describe('protected-resource metadata (RFC 9728)', () => {
  it('is served for every endpoint, names the resource and the authorization server', async () => {
    for (const path of ['', '/mcp', '/sse', '/ns/crypto/mcp', '/ns/public/sse', '/mcp/wiki']) {
      const response = await rawRequest(`${gw.url}/.well-known/oauth-protected-resource${path}`);
      expect(response.status, path).toBe(200);
      const metadata = response.json<{
        resource: string;
        authorization_servers: string[];
        scopes_supported: string[];
      }>();
      expect(metadata.resource).toBe(`${gw.url}${path}`);
      expect(metadata.authorization_servers).toEqual([idp.issuer]);
      expect(metadata.scopes_supported.sort()).toEqual(['mcp:crypto', 'mcp:public']);
    }
    expect((await rawRequest(`${gw.url}/.well-known/oauth-protected-resource/nothing`)).status).toBe(404);
  });

  it('a 401 points to the metadata of the endpoint asked for', async () => {
    const refused = await rawRequest(`${gw.url}/ns/crypto/mcp`, { body: INITIALIZE });
    expect(refused.status).toBe(401);
    expect(challengeOf(refused)).toBe(
      `Bearer realm="mcproxy", resource_metadata="${gw.url}/.well-known/oauth-protected-resource/ns/crypto/mcp"`,
    );
  });
});

describe('access tokens of an external authorization server (oidc-provider)', () => {
  it('a JWT with mcp:crypto opens crypto (and its parent public), under the credential idp:<subject>', async () => {
    const token = await idp.token({ resource: `${gw.url}/mcp`, scope: 'mcp:crypto' });
    const client = await connectHttp(`${gw.url}/mcp`, bearer(token));
    const names = await toolNames(client);
    expect(names.some((name) => name.startsWith('covalent__'))).toBe(true);
    expect(names.some((name) => name.startsWith('wiki__'))).toBe(true);
    expect(names.some((name) => name.startsWith('db__'))).toBe(false);
    await client.close();
  });

  it('a token for the whole gateway (its base URL) works on every endpoint it grants', async () => {
    const token = await idp.token({ resource: gw.url, scope: 'mcp:public' });
    for (const path of ['/mcp', '/ns/public/mcp']) {
      const client = await connectHttp(`${gw.url}${path}`, bearer(token));
      expect(
        (await toolNames(client)).every((name) => name.startsWith('wiki__')),
        path,
      ).toBe(true);
      await client.close();
    }
  });

  it('scopes that open nothing here: 403 insufficient_scope; a namespace the scopes lack: 403 naming the scope', async () => {
    const other = await idp.token({ resource: gw.url, scope: 'mcp:other' });
    const none = await rawRequest(`${gw.url}/mcp`, { body: INITIALIZE, headers: bearer(other) });
    expect(none.status).toBe(403);
    expect(challengeOf(none)).toContain('error="insufficient_scope"');
    expect(challengeOf(none)).toContain('scope="mcp:crypto mcp:public"');

    const publicOnly = await idp.token({ resource: gw.url, scope: 'mcp:public' });
    const crypto = await rawRequest(`${gw.url}/ns/crypto/mcp`, { body: INITIALIZE, headers: bearer(publicOnly) });
    expect(crypto.status).toBe(403);
    expect(challengeOf(crypto)).toContain('error="insufficient_scope"');
    expect(challengeOf(crypto)).toContain('scope="mcp:crypto"');
    expect(challengeOf(crypto)).toContain(
      `resource_metadata="${gw.url}/.well-known/oauth-protected-resource/ns/crypto/mcp"`,
    );
  });

  it('refuses an expired token with 401 invalid_token (clock moved past exp + skew)', async () => {
    const token = await idp.token({ resource: gw.url, scope: 'mcp:public' });
    const client = await connectHttp(`${gw.url}/mcp`, bearer(token));
    await client.close();
    gw.advance(3600_000 + 31_000);
    try {
      const refused = await rawRequest(`${gw.url}/mcp`, { body: INITIALIZE, headers: bearer(token) });
      expect(refused.status).toBe(401);
      expect(challengeOf(refused)).toContain('error="invalid_token"');
      expect(refused.json().error?.message).toBe('Unauthorized: the token has expired');
    } finally {
      gw.advance(-(3600_000 + 31_000));
    }
  });

  it('refuses a token for another audience, another endpoint, or from an untrusted issuer', async () => {
    const elsewhere = await idp.token({ resource: 'https://other.example/api', scope: 'mcp:public' });
    const serverOnly = await idp.token({ resource: `${gw.url}/mcp/wiki`, scope: 'mcp:public' });
    const foreign = await stranger.token({ resource: gw.url, scope: 'mcp:public' });
    const cases: [string, string, string][] = [
      [
        elsewhere,
        '/mcp',
        'Unauthorized: the token was issued for another resource (its audience is not this endpoint)',
      ],
      [
        serverOnly,
        '/ns/public/mcp',
        'Unauthorized: the token was issued for another resource (its audience is not this endpoint)',
      ],
      [foreign, '/mcp', 'Unauthorized: the token was issued by an authorization server this gateway does not trust'],
    ];
    for (const [token, path, message] of cases) {
      const refused = await rawRequest(`${gw.url}${path}`, { body: INITIALIZE, headers: bearer(token) });
      expect(refused.status, message).toBe(401);
      expect(challengeOf(refused)).toContain('error="invalid_token"');
      expect(challengeOf(refused)).toContain('resource_metadata=');
      expect(refused.json().error?.message).toBe(message);
    }
    // The endpoint the token is bound to accepts it.
    const client = await connectHttp(`${gw.url}/mcp/wiki`, bearer(serverOnly));
    expect((await toolNames(client)).length).toBeGreaterThan(0);
    await client.close();
  });

  it('refuses a forged JWT that names the trusted issuer but is signed by another key, and garbage', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const kid = (await exportJWK(publicKey)).kid ?? 'forged';
    const forged = await new SignJWT({ scope: 'mcp:crypto' })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(idp.issuer)
      .setAudience(gw.url)
      .setSubject('mallory')
      .setExpirationTime('1h')
      .sign(privateKey);
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ iss: idp.issuer, aud: gw.url, sub: 'mallory', scope: 'mcp:crypto', exp: 9e9 }),
    ).toString('base64url')}.`;
    for (const token of [forged, unsigned, 'x'.repeat(5000), 'a.b.c']) {
      const refused = await rawRequest(`${gw.url}/mcp`, { body: INITIALIZE, headers: bearer(token) });
      expect(refused.status).toBe(401);
      expect(challengeOf(refused)).toContain('error="invalid_token"');
      expect(refused.body).not.toContain(token.slice(0, 40));
    }
  });

  it('many clients with their own tokens at once each get their own grant', async () => {
    const tokens = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        idp.token({
          resource: gw.url,
          scope: index % 2 ? 'mcp:crypto' : 'mcp:public',
          clientId: index % 2 ? 'bob-app' : 'alice-app',
        }),
      ),
    );
    const seen = await Promise.all(
      tokens.map(async (token) => {
        const client = await connectHttp(`${gw.url}/mcp`, bearer(token));
        const names = await toolNames(client);
        await client.close();
        return names.some((name) => name.startsWith('covalent__'));
      }),
    );
    expect(seen).toEqual([false, true, false, true, false, true, false, true]);
  });
});

describe('token introspection (RFC 7662)', () => {
  it('accepts an opaque token the authorization server says is active, with its scopes', async () => {
    const token = await idp.token({ resource: introspecting.url, scope: 'mcp:crypto' });
    expect(token.split('.')).toHaveLength(1);
    const client = await connectHttp(`${introspecting.url}/mcp`, bearer(token));
    expect((await toolNames(client)).some((name) => name.startsWith('covalent__'))).toBe(true);
    await client.close();
  });

  it('refuses a token the server revoked at once, an unknown one, and one for another audience', async () => {
    const revoked = await idp.token({ resource: introspecting.url, scope: 'mcp:public' });
    const client = await connectHttp(`${introspecting.url}/mcp`, bearer(revoked));
    await client.close();
    await idp.revoke(revoked);
    const elsewhere = await idp.token({ resource: `${introspecting.url}/mcp/wiki`, scope: 'mcp:public' });
    const cases: [string, string][] = [
      [revoked, 'Unauthorized: the token is not active (expired or revoked)'],
      ['opaque-token-that-nobody-issued-1234', 'Unauthorized: the token is not active (expired or revoked)'],
      [elsewhere, 'Unauthorized: the token was issued for another resource (its audience is not this endpoint)'],
    ];
    for (const [token, message] of cases) {
      const refused = await rawRequest(`${introspecting.url}/mcp`, { body: INITIALIZE, headers: bearer(token) });
      expect(refused.status, message).toBe(401);
      expect(challengeOf(refused)).toContain('error="invalid_token"');
      expect(refused.json().error?.message).toBe(message);
    }
  });
});
