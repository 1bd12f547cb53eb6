import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import Provider from 'oidc-provider';

import { type AuditLog, openAuditLog } from '../../src/access/audit.js';
import { loadConfig } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/log.js';
import type { Metrics } from '../../src/observability/metrics.js';
import { GatewayHttpServer } from '../../src/serve/http-server.js';
import type { TempDir } from '../helpers/temp-dir.js';
import { ACCESS_ENV } from './access-helpers.js';

export const CLIENT_SECRET = 'oidc-client-secret-4f9a2c7e1b6d8035';
export const INTROSPECTOR_SECRET = 'introspector-secret-8d3b1f6a9c2e4057';
export const SCOPES = 'mcp:public mcp:crypto mcp:other';

export interface TestAuthorizationServer {
  issuer: string;
  /** A client_credentials token from the real provider, for `resource`, as the client `clientId`. */
  token(options: { resource: string; scope: string; clientId?: string }): Promise<string>;
  /** Revokes a token at the provider (RFC 7009). */
  revoke(token: string, clientId?: string): Promise<void>;
  /** Introspection requests (RFC 7662) the provider was sent. */
  readonly introspections: number;
  close(): Promise<void>;
}

/**
 * A real oidc-provider (the certified OpenID/OAuth server from npm) on a loopback port: client_credentials
 * with RFC 8707 resource indicators, JWT access tokens (opaque ones for the resources `opaque` picks; only those
 * can be introspected there), introspection and revocation.
 */
export async function startAuthorizationServer(
  opaque: (resource: string) => boolean = () => false,
): Promise<TestAuthorizationServer> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    scopes: SCOPES.split(' '),
    // The gateway introspects as a confidential client, which oidc-provider lets introspect any token.
    clients: ['alice-app', 'bob-app', 'gateway'].map((clientId) => ({
      client_id: clientId,
      client_secret: clientId === 'gateway' ? INTROSPECTOR_SECRET : CLIENT_SECRET,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: SCOPES,
    })),
    features: {
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined as unknown as string,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => ({
          scope: SCOPES,
          audience: resource,
          accessTokenTTL: 3600,
          accessTokenFormat: opaque(resource) ? 'opaque' : 'jwt',
        }),
      },
    },
  } as ConstructorParameters<typeof Provider>[1]);
  const callback = provider.callback();
  let introspections = 0;
  server.on('request', (req, res) => {
    if (req.method === 'POST' && req.url?.split('?')[0] === '/token/introspection') introspections++;
    void callback(req, res);
  });
  return {
    issuer,
    get introspections() {
      return introspections;
    },
    async token({ resource, scope, clientId = 'alice-app' }) {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(clientId),
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }),
      });
      const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!body.access_token) throw new Error(`token request failed: ${body.error}: ${body.error_description}`);
      return body.access_token;
    },
    async revoke(token, clientId = 'alice-app') {
      const response = await fetch(`${issuer}/token/revocation`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId) },
        body: new URLSearchParams({ token }),
      });
      if (!response.ok) throw new Error(`revocation failed: ${response.status}`);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function basic(clientId: string): string {
  return `Basic ${Buffer.from(`${clientId}:${CLIENT_SECRET}`).toString('base64')}`;
}

export interface InProcessGateway {
  url: string;
  gateway: Gateway;
  http: GatewayHttpServer;
  /** Moves the gateway's clock (token expiry, its own and its upstream sign-ins') forward. */
  advance(ms: number): void;
  close(): Promise<void>;
}

/**
 * A gateway in this process (so its clock can be moved), serving `configPath` on a loopback port. With
 * `logLines`, every log line (debug and up) is collected there.
 */
export async function startInProcessGateway(
  dir: TempDir,
  configPath: string,
  options: { auditName?: string; env?: NodeJS.ProcessEnv; logLines?: string[]; metrics?: Metrics } = {},
): Promise<InProcessGateway> {
  let offset = 0;
  const { auditName, logLines } = options;
  const env = { ...process.env, ...ACCESS_ENV, ...options.env };
  const config = await loadConfig(configPath, { env });
  const log = createLogger({
    level: logLines ? 'debug' : 'error',
    destination: 'stderr',
    ...(logLines ? { stream: { write: (line: string) => logLines.push(line) } } : {}),
  });
  const audit: AuditLog | undefined = auditName ? openAuditLog(dir.resolve(auditName)) : undefined;
  const clock = () => Date.now() + offset;
  const gateway = new Gateway({
    config,
    logger: log,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    upstreamOAuth: { env, now: clock, ...(audit ? { audit } : {}) },
  });
  const http = new GatewayHttpServer(gateway, {
    host: '127.0.0.1',
    port: 0,
    clock,
    ...(audit ? { audit } : {}),
  });
  const url = await http.listen();
  await gateway.start();
  return {
    url,
    gateway,
    http,
    advance(ms) {
      offset += ms;
    },
    async close() {
      await http.close();
      await gateway.close();
      await audit?.close();
    },
  };
}
