import type { IncomingMessage, ServerResponse } from 'node:http';

import type { AuditLog, AuthAuditRecord } from '../access/audit.js';
import { trustedProxies } from '../access/client-address.js';
import type { Credential } from '../access/credentials.js';
import type { Endpoint } from '../access/policy.js';
import { BUILT_IN_ISSUER_NAME, type GatewayConfig, type OAuthConfig } from '../config/model.js';
import type { Logger } from '../observability/log.js';
import { parseEndpointPath } from '../serve/endpoint-path.js';
import { isLoopback } from '../serve/request-guard.js';
import type { StateStore } from '../state/store.js';
import { credentialForToken, scopesFor, type VerifiedToken } from './credential-rules.js';
import { ExternalIssuers } from './external-issuers.js';
import {
  bearerChallenge,
  canonicalResource,
  type ChallengeOptions,
  endpointResources,
  PROTECTED_RESOURCE_PREFIX,
  resourceMetadataUrl,
} from './resource.js';
import type { AuthorizationServerHandler } from './server/authorization-server.js';
import { ACCESS_TOKEN_PREFIX, GrantStore, type OAuthGrantStore } from './server/grant-store.js';
import { AUTHORIZATION_SERVER_PATHS } from './server/paths.js';
import { SharedGrantStore } from './server/shared-grant-store.js';
import { rejectToken, type TokenRejection } from './token-rejection.js';

export interface OAuthServiceOptions {
  config: () => GatewayConfig;
  log: Logger;
  audit?: AuditLog;
  /** The clock of expiry checks, in ms since the epoch (tests move it). */
  now?: () => number;
  /** A store shared by replicas keeps the built-in server's grants there (its `state_file` is then unused). */
  state?: StateStore;
}

export type OAuthAuthentication =
  | { ok: true; credential: Credential }
  | TokenRejection
  /** A valid token that opens nothing here: 403 `insufficient_scope`, naming the scopes that would. */
  | { ok: false; status: 403; message: string; scopes: string[] };

/**
 * The gateway as an OAuth 2.1 resource server, and optionally its own authorization server: serves the
 * protected-resource metadata (RFC 9728) of every endpoint, turns access tokens into credentials, builds
 * the `WWW-Authenticate` challenges, and answers the built-in server's endpoints. With no `auth.oauth` in
 * the config it answers nothing and loads nothing.
 *
 * @example
 * const oauth = new OAuthService({ config: () => gateway.config, log });
 * http.addRoute(oauth.route);
 */
export class OAuthService {
  private boundUrl?: string;
  private readonly now: () => number;
  private readonly external: ExternalIssuers;
  private store?: OAuthGrantStore;
  private server?: { key: string; handler: Promise<AuthorizationServerHandler> };

  constructor(private readonly options: OAuthServiceOptions) {
    this.now = options.now ?? Date.now;
    this.external = new ExternalIssuers({ now: this.now });
  }

  /** Learns the listening URL; without `public_url` it is the base of every resource, which only loopback allows. */
  bind(listenUrl: string): void {
    this.boundUrl = new URL(listenUrl).origin;
    const oauth = this.options.config().auth?.oauth;
    if (oauth && oauth.publicUrl === undefined && !isLoopback(new URL(listenUrl).hostname)) {
      throw new Error('auth.oauth.public_url is required when the gateway listens beyond loopback');
    }
  }

  /** The gateway's base URL as clients know it (no trailing slash). */
  baseUrl(oauth: OAuthConfig): string {
    return oauth.publicUrl ?? this.boundUrl ?? 'http://127.0.0.1';
  }

  /** Answers the metadata and authorization-server paths; false for everything else. */
  readonly route = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const oauth = this.options.config().auth?.oauth;
    if (!oauth) return false;
    const path = url.pathname;
    if (path === PROTECTED_RESOURCE_PREFIX || path.startsWith(`${PROTECTED_RESOURCE_PREFIX}/`)) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      return this.sendResourceMetadata(res, oauth, path.slice(PROTECTED_RESOURCE_PREFIX.length));
    }
    if (!oauth.server) return false;
    if (!AUTHORIZATION_SERVER_PATHS.has(path)) return false;
    const handler = await this.authorizationServer(oauth);
    await handler(req, res);
    return true;
  };

  /** Turns a bearer token into a credential for `endpoint` (undefined: the gateway as a whole). */
  async authenticate(token: string, endpoint: Endpoint | undefined): Promise<OAuthAuthentication> {
    const config = this.options.config();
    const oauth = config.auth?.oauth;
    if (!oauth) return rejectToken('invalid token');
    let verified: { token: VerifiedToken; audiences: string[] };
    if (oauth.server && token.startsWith(ACCESS_TOKEN_PREFIX)) {
      const entry = await this.grantStore(oauth).access(token);
      if (!entry) return rejectToken('the token is expired, revoked or unknown');
      verified = {
        token: {
          issuer: BUILT_IN_ISSUER_NAME,
          subject: entry.subject,
          clientId: entry.clientId,
          scopes: entry.scopes,
          audiences: [entry.resource],
          expiresAt: Math.floor(entry.expiresAt / 1000),
          claims: {},
        },
        audiences: [],
      };
    } else {
      const result = await this.external.verify(token, oauth.authorizationServers, oauth.clockSkewMs);
      if (!result.ok) return result;
      verified = { token: result.token, audiences: result.issuer.audiences };
    }
    const base = this.baseUrl(oauth);
    const accepted = new Set(
      [...endpointResources(base, endpoint ?? { kind: 'gateway' }), ...oauth.audiences, ...verified.audiences].map(
        canonicalResource,
      ),
    );
    if (!verified.token.audiences.some((audience) => accepted.has(canonicalResource(audience)))) {
      return rejectToken('the token was issued for another resource (its audience is not this endpoint)');
    }
    const credential = credentialForToken(oauth, verified.token);
    if (!credential) {
      return {
        ok: false,
        status: 403,
        message: 'Forbidden: the token has none of the scopes this gateway grants access for',
        scopes: scopesFor(config, endpoint),
      };
    }
    return { ok: true, credential };
  }

  /**
   * The `WWW-Authenticate` value for a refusal at `path`, with `resource_metadata` when OAuth is configured
   * (so an MCP client can find where to sign in), and the realm alone otherwise (as before OAuth existed).
   */
  challenge(path: string | undefined, options: Omit<ChallengeOptions, 'realm' | 'resourceMetadata'>): string {
    const oauth = this.options.config().auth?.oauth;
    const base = oauth ? this.baseUrl(oauth) : undefined;
    return bearerChallenge({
      realm: 'mcproxy',
      ...options,
      ...(base ? { resourceMetadata: resourceMetadataUrl(base, path ?? '/') } : {}),
    });
  }

  /** Waits for the built-in server's state file to be written. */
  async close(): Promise<void> {
    await this.store?.flush();
  }

  private sendResourceMetadata(res: ServerResponse, oauth: OAuthConfig, path: string): boolean {
    const base = this.baseUrl(oauth);
    if (path !== '' && parseEndpointPath(path).kind !== 'endpoint') return false;
    const issuers = [
      ...(oauth.server ? [new URL(base).href] : []),
      ...oauth.authorizationServers.map((issuer) => issuer.issuer),
    ];
    const scopes = new Set([...(oauth.server?.scopes ?? []), ...oauth.credentials.flatMap((rule) => rule.scopes)]);
    const body = JSON.stringify({
      resource: `${base}${path}`,
      authorization_servers: issuers,
      ...(scopes.size > 0 ? { scopes_supported: [...scopes] } : {}),
      bearer_methods_supported: ['header'],
      resource_name: 'mcproxy',
    });
    res
      .writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'cache-control': 'max-age=300',
        'access-control-allow-origin': '*',
      })
      .end(body);
    return true;
  }

  private grantStore(oauth: OAuthConfig): OAuthGrantStore {
    const shared = this.options.state;
    if (shared && shared.kind !== 'memory') {
      this.store ??= new SharedGrantStore({
        store: shared,
        now: this.now,
        maxClients: oauth.server?.maxClients ?? 100,
      });
      return this.store;
    }
    this.store ??= new GrantStore({
      now: this.now,
      maxClients: oauth.server?.maxClients ?? 100,
      ...(oauth.server?.stateFile ? { stateFile: oauth.server.stateFile } : {}),
      onError: (error) => this.options.log.error(`OAuth state: ${error.message}`),
    });
    return this.store;
  }

  /** The built-in server's handler, built on first use and again when its issuer or scopes change. */
  private authorizationServer(oauth: OAuthConfig): Promise<AuthorizationServerHandler> {
    const baseUrl = this.baseUrl(oauth);
    const key = JSON.stringify([baseUrl, oauth.server?.scopes]);
    if (this.server?.key !== key) {
      const store = this.grantStore(oauth);
      const handler = import('./server/authorization-server.js').then(({ createAuthorizationServer }) =>
        createAuthorizationServer({
          store,
          baseUrl,
          now: this.now,
          settings: () => {
            const server = this.options.config().auth?.oauth?.server;
            if (!server) throw new Error('the built-in authorization server was turned off');
            return server;
          },
          audit: (event) => this.recordAudit(event),
          trustProxy: (address) => trustedProxies(this.options.config().trustedProxies)?.trusts(address) ?? false,
        }),
      );
      this.server = { key, handler };
    }
    return this.server.handler;
  }

  private recordAudit(event: Omit<AuthAuditRecord, 'time'>): void {
    this.options.audit?.record({ time: new Date(this.now()).toISOString(), ...event });
    this.options.log.info(
      `OAuth ${event.event}: client ${event.client_id}${event.credential ? ` as ${event.credential}` : ''}${event.detail ? ` (${event.detail})` : ''}`,
    );
  }
}
