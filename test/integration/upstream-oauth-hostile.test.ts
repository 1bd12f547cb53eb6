import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { type InProcessGateway, startInProcessGateway } from './oauth-helpers.js';

/** Whitespace after a JSON document keeps it valid JSON: a 2 MiB answer that parses like a small one. */
const PADDING = ' '.repeat(2 * 1024 * 1024);
const ALICE_TOKEN = 'alice-gateway-token-6b1e9d3f7a2c5084';

/**
 * Authorization servers that misbehave on purpose, beside one that does not, each behind an MCP server of its
 * own name that asks for OAuth (401 with `resource_metadata`): `honest` answers as it should, `huge` pads its
 * metadata to 2 MiB (sent in chunks, no Content-Length), `impostor` names another server's issuer in its
 * metadata, `promised` says it always sends `iss` in its answers (RFC 9207). Also two key sets for JWTs sent to the gateway: `/jwks` and a padded `/jwks-huge`.
 */
interface HostileServers {
  origin: string;
  /** Registrations (RFC 7591) each authorization server was sent. */
  registrations: Map<string, number>;
  close(): Promise<void>;
}

async function startHostileServers(jwk: JWK): Promise<HostileServers> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const registrations = new Map<string, number>();
  const json = (res: ServerResponse, status: number, body: unknown, padded = false) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.write(JSON.stringify(body));
    if (padded) res.write(PADDING);
    res.end();
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', origin).pathname;
    let match: RegExpExecArray | null;
    if ((match = /^\/(\w+)\/mcp$/.exec(path))) {
      req.resume();
      res.writeHead(401, {
        'www-authenticate': `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/${match[1]}/mcp"`,
      });
      res.end();
    } else if ((match = /^\/\.well-known\/oauth-protected-resource\/(\w+)\/mcp$/.exec(path))) {
      json(res, 200, { resource: `${origin}/${match[1]}/mcp`, authorization_servers: [`${origin}/${match[1]}`] });
    } else if ((match = /^\/\.well-known\/oauth-authorization-server\/(\w+)$/.exec(path))) {
      const name = match[1]!;
      const metadata = {
        issuer: name === 'impostor' ? 'https://login.example.com' : `${origin}/${name}`,
        authorization_endpoint: `${origin}/${name}/authorize`,
        token_endpoint: `${origin}/${name}/token`,
        registration_endpoint: `${origin}/${name}/register`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        ...(name === 'promised' ? { authorization_response_iss_parameter_supported: true } : {}),
      };
      json(res, 200, metadata, name === 'huge');
    } else if ((match = /^\/(\w+)\/register$/.exec(path))) {
      registrations.set(match[1]!, (registrations.get(match[1]!) ?? 0) + 1);
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const metadata = JSON.parse(body) as Record<string, unknown>;
        json(res, 201, { ...metadata, client_id: `client-of-${match![1]}`, client_secret: 'hostile-secret' });
      });
    } else if (path === '/jwks' || path === '/jwks-huge') {
      json(res, 200, { keys: [jwk] }, path === '/jwks-huge');
    } else {
      res.writeHead(404).end();
    }
  });
  return {
    origin,
    registrations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let dir: TempDir;
let hostile: HostileServers;
let gw: InProcessGateway;
let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

beforeAll(async () => {
  dir = await createTempDir();
  const keys = await generateKeyPair('ES256');
  privateKey = keys.privateKey;
  hostile = await startHostileServers({ ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256' });
  const { origin } = hostile;
  const remote = (name: string) => ({ url: `${origin}/${name}/mcp`, scope: 'credential', oauth: true });
  const configPath = await dir.write('gateway.json', {
    servers: {
      honest: remote('honest'),
      huge: remote('huge'),
      impostor: remote('impostor'),
      promised: remote('promised'),
    },
    auth: {
      tokens: [{ id: 'alice', token: ALICE_TOKEN }],
      oauth: {
        authorization_servers: [
          { issuer: `${origin}/idp`, name: 'idp', jwks_uri: `${origin}/jwks` },
          { issuer: `${origin}/idp-huge`, name: 'idp-huge', jwks_uri: `${origin}/jwks-huge` },
        ],
      },
    },
    upstream_oauth: { state_file: 'upstream-tokens.json' },
  });
  gw = await startInProcessGateway(dir, configPath, {
    env: { MCPROXY_TOKEN_KEY: randomBytes(32).toString('base64') },
  });
});

afterAll(async () => {
  await gw?.close();
  await hostile?.close();
  await dir?.[Symbol.asyncDispose]();
});

describe('a hostile authorization server of an upstream', () => {
  /** The error a sign-in to `server` fails with (a test fails if it starts). */
  const failedSignIn = async (server: string): Promise<Error & { code?: string }> => {
    const failure = await gw.gateway.upstreamOAuth
      .startSignIn(server, 'credential:alice')
      .catch((error: Error & { code?: string }) => error);
    expect(failure).toBeInstanceOf(Error);
    return failure as Error & { code?: string };
  };

  it('an honest one starts a sign-in (the servers below differ from it in one thing each)', async () => {
    const link = await gw.gateway.upstreamOAuth.startSignIn('honest', 'credential:alice');
    const state = new URL(link.url).searchParams.get('request')!;
    const authorizationUrl = gw.gateway.upstreamOAuth.pendingSignIn(state)?.authorizationUrl ?? '';
    expect(authorizationUrl.startsWith(`${hostile.origin}/honest/authorize?`)).toBe(true);
    expect(hostile.registrations.get('honest')).toBe(1);
  });

  it('cannot fill the gateway with an endless metadata document: the sign-in fails, saying why', async () => {
    const failure = await failedSignIn('huge');
    expect(failure.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(failure.message).toContain('cannot start a sign-in to server "huge"');
    expect(failure.message).toContain(
      `the answer of ${hostile.origin}/.well-known/oauth-authorization-server/huge is larger than 1048576 bytes`,
    );
    expect(hostile.registrations.get('huge')).toBeUndefined();
  });

  it('cannot pass itself off as another issuer (a mix-up): refused before the gateway registers there', async () => {
    const failure = await failedSignIn('impostor');
    expect(failure.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(failure.message).toContain('names another issuer in its metadata');
    expect(hostile.registrations.get('impostor')).toBeUndefined();
  });
});

describe('the answer at the sign-in callback (RFC 9207, against mix-ups)', () => {
  /**
   * A browser's way through the gateway's sign-in page (which leaves the sign-in's cookie) to its callback, as if
   * the authorization server had sent it back with `answer` (its `state` added); says what the page said.
   */
  const callback = async (server: string, answer: Record<string, string>): Promise<string> => {
    const link = await gw.gateway.upstreamOAuth.startSignIn(server, 'credential:alice');
    const page = await fetch(link.url);
    await page.body?.cancel();
    const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0]!;
    const state = new URL(link.url).searchParams.get('request')!;
    const query = new URLSearchParams({ ...answer, state });
    const response = await fetch(`${gw.url}/oauth/upstream/callback?${query}`, { headers: { cookie } });
    return response.text();
  };

  it('a server that promises iss: an answer without it is refused before the code is sent anywhere', async () => {
    expect(await callback('promised', { code: 'stolen-code' })).toContain(
      'The sign-in came back without the name of its server.',
    );
  });

  it('with iss: refused when it names another server, taken to the code exchange when it names this one', async () => {
    const own = `${hostile.origin}/promised`;
    expect(await callback('promised', { code: 'c', iss: 'https://login.example.com' })).toContain(
      'The sign-in came back from the wrong server.',
    );
    // Past the check, the code goes to the token endpoint (which this server lacks).
    expect(await callback('promised', { code: 'c', iss: own })).toContain('The authorization server issued no tokens');
    expect(await callback('honest', { code: 'c', iss: `${hostile.origin}/promised` })).toContain(
      'The sign-in came back from the wrong server.',
    );
  });

  it('a server that does not promise iss may leave it out', async () => {
    expect(await callback('honest', { code: 'c' })).toContain('The authorization server issued no tokens');
  });
});

describe("a hostile issuer of the gateway's own access tokens", () => {
  const initialize = (token: string) =>
    fetch(`${gw.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'hostile-test', version: '0' } },
      }),
    });
  const tokenOf = (issuer: string) =>
    new SignJWT({ scope: 'mcp' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(issuer)
      .setSubject('alice')
      .setAudience(gw.url)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);

  it('a token checked against a key set of normal size opens the gateway', async () => {
    const response = await initialize(await tokenOf(`${hostile.origin}/idp`));
    await response.body?.cancel();
    expect(response.status).toBe(200);
  });

  it('a key set padded past the bound is not read: the same token is refused as uncheckable (503)', async () => {
    const response = await initialize(await tokenOf(`${hostile.origin}/idp-huge`));
    await response.body?.cancel();
    expect(response.status).toBe(503);
  });
});
