import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { mcpAuthMetadataRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { OAuthMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import express from 'express';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import Provider from 'oidc-provider';
import type { Browser } from 'playwright-core';

export const UPSTREAM_SCOPE = 'notes';

export interface UpstreamAuthorizationServer {
  issuer: string;
  /** Revokes a token (RFC 7009) as the client that holds it. */
  revoke(token: string, client: { client_id: string; client_secret?: string }): Promise<void>;
  /** While true, the token endpoint answers 503 `server_error` (an outage): no code exchange, no refresh. */
  tokenOutage: boolean;
  /** Whether the server still takes a token (RFC 7662 introspection, as the client that holds it). */
  isActive(token: string, client: { client_id: string; client_secret?: string }): Promise<boolean>;
  close(): Promise<void>;
}

export interface StaticClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

/**
 * A real oidc-provider for upstream servers: dynamic registration (RFC 7591), authorization code with PKCE,
 * resource indicators (RFC 8707) giving JWT access tokens for the resource asked for, rotating refresh tokens,
 * revocation, and its development sign-in pages (any login name; it becomes the token's subject).
 */
export async function startUpstreamAuthorizationServer(
  options: { accessTokenTtlS?: number; clients?: StaticClient[] } = {},
): Promise<UpstreamAuthorizationServer> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    scopes: ['openid', 'offline_access', UPSTREAM_SCOPE],
    clients: (options.clients ?? []).map((client) => ({
      ...client,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: UPSTREAM_SCOPE,
    })),
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
    issueRefreshToken: () => true,
    rotateRefreshToken: () => true,
    pkce: { required: () => true },
    cookies: { keys: ['upstream-oauth-test-cookie-key'] },
    features: {
      devInteractions: { enabled: true },
      registration: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string[]) => oneOf?.[0],
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => ({
          scope: UPSTREAM_SCOPE,
          audience: resource,
          accessTokenTTL: options.accessTokenTtlS ?? 3600,
          accessTokenFormat: 'jwt',
        }),
      },
    },
  } as unknown as ConstructorParameters<typeof Provider>[1]);
  const callback = provider.callback();
  const handle: UpstreamAuthorizationServer = {
    issuer,
    tokenOutage: false,
    async revoke(token, client) {
      const response = await asClient(`${issuer}/token/revocation`, token, client);
      if (!response.ok) throw new Error(`revocation failed: HTTP ${response.status} ${await response.text()}`);
    },
    async isActive(token, client) {
      const response = await asClient(`${issuer}/token/introspection`, token, client);
      if (!response.ok) throw new Error(`introspection failed: HTTP ${response.status} ${await response.text()}`);
      return ((await response.json()) as { active: boolean }).active;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('request', (req, res) => {
    if (handle.tokenOutage && req.method === 'POST' && req.url?.split('?')[0] === '/token') {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'server_error', error_description: 'down for maintenance' }));
      return;
    }
    void callback(req, res);
  });
  return handle;
}

/** A POST of `token` to an endpoint of the authorization server, authenticated as `client` (Basic). */
function asClient(url: string, token: string, client: { client_id: string; client_secret?: string }) {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret ?? ''}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token }),
  });
}

/** Who called a tool of the protected server, as its bearer middleware saw it. */
export interface SeenCall {
  sub: string;
  jti: string;
  token: string;
}

export interface ProtectedMcpServer {
  /** The MCP endpoint (`<origin>/mcp`), also its resource identifier. */
  url: string;
  /** Every tool call, with the subject and id of the token it came with. */
  calls: SeenCall[];
  /** Tokens turned down with 401 from now on, even though they are still valid. */
  rejected: Set<string>;
  /** Requests that got 401. */
  unauthorized: number;
  close(): Promise<void>;
}

/**
 * An OAuth-protected MCP server: the SDK's McpServer over StreamableHTTPServerTransport behind the SDK's
 * bearer middleware, which accepts only JWTs of `issuer` for this server's URL (RFC 8707 audience) and answers
 * 401 with `resource_metadata` (RFC 9728). Its tool `whoami` returns the token's subject.
 */
export async function startProtectedMcpServer(issuer: string, name: string): Promise<ProtectedMcpServer> {
  const listener: Server = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  const url = `${origin}/mcp`;
  const metadata = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as OAuthMetadata;
  const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri as string));
  const state: ProtectedMcpServer = {
    url,
    calls: [],
    rejected: new Set(),
    unauthorized: 0,
    close: async () => {
      for (const transport of transports.values()) await transport.close().catch(() => {});
      listener.closeAllConnections();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
  const transports = new Map<string, StreamableHTTPServerTransport>();

  const app = express();
  app.use(express.json());
  app.use(
    mcpAuthMetadataRouter({
      oauthMetadata: metadata,
      resourceServerUrl: new URL(url),
      scopesSupported: [UPSTREAM_SCOPE],
    }),
  );
  const bearer = requireBearerAuth({
    resourceMetadataUrl: `${origin}/.well-known/oauth-protected-resource/mcp`,
    verifier: {
      async verifyAccessToken(token) {
        if (state.rejected.has(token)) throw new InvalidTokenError('this token was turned down');
        const { payload } = await jwtVerify(token, jwks, { issuer: metadata.issuer, audience: url }).catch(() => {
          throw new InvalidTokenError('invalid token');
        });
        return {
          token,
          clientId: String(payload['client_id'] ?? ''),
          scopes: String(payload['scope'] ?? '').split(' '),
          expiresAt: payload.exp,
          extra: { sub: payload.sub, jti: payload.jti },
        };
      },
    },
  });
  app.use('/mcp', (req, res, next) => {
    res.on('finish', () => {
      if (res.statusCode === 401) state.unauthorized++;
    });
    bearer(req, res, next);
  });
  app.all('/mcp', async (req, res) => {
    const sessionId = req.headers['mcp-session-id'] as string | undefined;
    let transport = sessionId === undefined ? undefined : transports.get(sessionId);
    if (!transport) {
      if (req.method !== 'POST' || !isInitializeRequest(req.body)) {
        res
          .status(sessionId === undefined ? 400 : 404)
          .json({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'no session' } });
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        onsessioninitialized: (id) => {
          transports.set(id, transport!);
        },
      });
      const mcp = new McpServer({ name, version: '1.0.0' });
      mcp.registerTool('whoami', { description: 'Who the token says is calling' }, (extra) => {
        const auth = extra.authInfo;
        const call: SeenCall = {
          sub: String(auth?.extra?.['sub'] ?? ''),
          jti: String(auth?.extra?.['jti'] ?? ''),
          token: auth?.token ?? '',
        };
        state.calls.push(call);
        return { content: [{ type: 'text', text: JSON.stringify({ server: name, sub: call.sub }) }] };
      });
      await mcp.connect(transport);
    }
    await transport.handleRequest(req, res, req.body);
  });
  listener.on('request', app);
  return state;
}

/**
 * A person signing in, in a real browser: opens `url` (the gateway's sign-in page, or straight the
 * authorization server's), continues, signs in as `login` on the authorization server's page, consents, and
 * waits for the page the callback shows. Returns that page's text and the authorization codes that passed.
 */
export async function signInWithBrowser(
  browser: Browser,
  url: string,
  login: string,
): Promise<{ text: string; codes: string[] }> {
  // A fresh context: each person has their own browser, without another's session at the authorization server.
  const context = await browser.newContext();
  const page = await context.newPage();
  const codes: string[] = [];
  page.on('request', (request) => {
    const code = new URL(request.url()).searchParams.get('code');
    if (code) codes.push(code);
  });
  try {
    await page.goto(url);
    if (new URL(page.url()).pathname === '/oauth/upstream/sign-in')
      await page.getByRole('link', { name: 'Continue' }).click();
    await page
      .locator('input[name=login]')
      .waitFor({ timeout: 10_000 })
      .catch(async (error: unknown) => {
        throw new Error(`no sign-in form at ${page.url()}: ${(await page.innerText('body')).slice(0, 500)}`, {
          cause: error,
        });
      });
    await page.fill('input[name=login]', login);
    await page.fill('input[name=password]', 'any-password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: /Signed in|Not signed in/ }).waitFor({ timeout: 10_000 });
    return { text: await page.innerText('body'), codes };
  } finally {
    await context.close();
  }
}
