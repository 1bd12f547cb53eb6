import {
  InvalidClientMetadataError,
  InvalidGrantError,
  InvalidScopeError,
  InvalidTargetError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { AuthorizationParams, OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { OAuthClientInformationFull, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Response } from 'express';

import type { AuthAuditRecord } from '../../access/audit.js';
import { BUILT_IN_ISSUER_NAME, type OAuthServerConfig } from '../../config/model.js';
import { parseEndpointPath } from '../../serve/endpoint-path.js';
import { canonicalResource } from '../resource.js';
import { CONSENT_HEADERS, renderConsentPage } from './consent-page.js';
import type { CodeEntry, Grant, OAuthGrantStore } from './grant-store.js';

/** The one person the built-in server signs in: credential `mcproxy:owner`. */
export const OWNER_SUBJECT = 'owner';

export interface OwnerProviderOptions {
  store: OAuthGrantStore;
  /** The server settings in force (they follow reloads). */
  settings: () => OAuthServerConfig;
  /** The gateway's base URL (its issuer and its widest resource). */
  baseUrl: () => string;
  audit: (event: Omit<AuthAuditRecord, 'time'>) => void;
}

/**
 * The gateway's side of the MCP SDK's authorization router: the SDK validates every request (client,
 * redirect URI, PKCE S256, grant types, client authentication) and calls these methods; here are the
 * decisions that belong to the gateway — which scopes and resources exist, the consent page, code and
 * token issuance, refresh rotation and revocation.
 */
export class OwnerProvider implements OAuthServerProvider {
  constructor(private readonly options: OwnerProviderOptions) {}

  get clientsStore(): OAuthServerProvider['clientsStore'] {
    const { store, audit } = this.options;
    return {
      getClient: (clientId) => store.client(clientId),
      registerClient: async (client) => {
        for (const uri of client.redirect_uris) checkRedirectUri(uri);
        const registered = await store.register(client as OAuthClientInformationFull);
        if (!registered) throw new InvalidClientMetadataError('too many registered clients; try again later');
        audit({
          event: 'oauth:register',
          credential: null,
          client_id: registered.client_id,
          ...(registered.client_name ? { client_name: registered.client_name } : {}),
        });
        return registered;
      },
    };
  }

  async authorize(client: OAuthClientInformationFull, params: AuthorizationParams, res: Response): Promise<void> {
    const scopes = this.allowedScopes(params.scopes ?? []);
    const resource = this.resourceOf(params.resource?.href);
    const requestId = await this.options.store.addPending({
      clientId: client.client_id,
      redirectUri: params.redirectUri,
      codeChallenge: params.codeChallenge,
      scopes,
      resource,
      ...(params.state === undefined ? {} : { state: params.state }),
    });
    res
      .status(200)
      .set(CONSENT_HEADERS)
      .send(
        renderConsentPage({
          requestId,
          clientName: client.client_name ?? client.client_id,
          redirectOrigin: originOf(params.redirectUri),
          resource,
          scopes,
        }),
      );
  }

  async challengeForAuthorizationCode(client: OAuthClientInformationFull, code: string): Promise<string> {
    return (await this.liveCode(client, code)).codeChallenge;
  }

  async exchangeAuthorizationCode(
    client: OAuthClientInformationFull,
    code: string,
    _verifier?: string,
    redirectUri?: string,
    resource?: URL,
  ): Promise<OAuthTokens> {
    const entry = await this.liveCode(client, code);
    if (redirectUri !== undefined && redirectUri !== entry.redirectUri) {
      throw new InvalidGrantError('redirect_uri differs from the one of the authorization request');
    }
    if (resource !== undefined && canonicalResource(resource.href) !== entry.resource) {
      throw new InvalidTargetError('resource differs from the one of the authorization request');
    }
    const grant = await this.options.store.consumeCode(code, entry, this.options.settings().refreshTokenTtlMs);
    if (!grant) throw new InvalidGrantError('the authorization code was already used');
    return this.tokens(grant, 'oauth:token');
  }

  async exchangeRefreshToken(
    client: OAuthClientInformationFull,
    refreshToken: string,
    scopes?: string[],
    resource?: URL,
  ): Promise<OAuthTokens> {
    const found = await this.options.store.findRefresh(refreshToken);
    if (!('grant' in found)) {
      if (found.reused) {
        this.audit('oauth:reuse-detected', found.reused, 'a rotated-out refresh token came back; the grant is revoked');
      }
      throw new InvalidGrantError('the refresh token is invalid, expired or revoked');
    }
    const { grant } = found;
    if (grant.clientId !== client.client_id) throw new InvalidGrantError('the refresh token belongs to another client');
    if (resource !== undefined && canonicalResource(resource.href) !== grant.resource) {
      throw new InvalidTargetError('resource differs from the one the grant is bound to');
    }
    const narrowed = scopes ?? grant.scopes;
    if (!narrowed.every((scope) => grant.scopes.includes(scope))) {
      throw new InvalidScopeError('a refresh can only keep or narrow the granted scopes');
    }
    return this.tokens(grant, 'oauth:refresh', narrowed);
  }

  /** Not used by the gateway, which verifies its tokens itself (`verifyBuiltInToken`); the SDK's type needs it. */
  async verifyAccessToken(token: string): Promise<AuthInfo> {
    const entry = await this.options.store.access(token);
    if (!entry) throw new InvalidGrantError('invalid access token');
    return {
      token,
      clientId: entry.clientId,
      scopes: entry.scopes,
      expiresAt: Math.floor(entry.expiresAt / 1000),
      resource: new URL(entry.resource),
    };
  }

  async revokeToken(client: OAuthClientInformationFull, request: { token: string }): Promise<void> {
    const revoked = await this.options.store.revoke(request.token, client.client_id);
    if (revoked) this.audit('oauth:revoke', revoked.grant, `${revoked.kind} token`);
  }

  /** The resource a request names, which must be this gateway or one of its endpoints; the gateway when absent. */
  resourceOf(requested: string | undefined): string {
    const base = this.options.baseUrl();
    if (requested === undefined) return base;
    const resource = canonicalResource(requested);
    if (resource === base) return resource;
    if (resource.startsWith(`${base}/`) && parseEndpointPath(resource.slice(base.length)).kind === 'endpoint') {
      return resource;
    }
    throw new InvalidTargetError(`this server issues tokens for ${base} and its endpoints only`);
  }

  private allowedScopes(requested: string[]): string[] {
    const supported = this.options.settings().scopes;
    const wanted = requested.filter((scope) => scope !== '');
    if (wanted.length === 0) return supported;
    const unknown = wanted.filter((scope) => !supported.includes(scope));
    if (unknown.length > 0) throw new InvalidScopeError(`unknown scope "${unknown[0]}"`);
    return [...new Set(wanted)];
  }

  private async liveCode(client: OAuthClientInformationFull, code: string): Promise<CodeEntry> {
    const found = await this.options.store.findCode(code);
    if (!('entry' in found) || found.entry.clientId !== client.client_id) {
      throw new InvalidGrantError(
        'replayed' in found && found.replayed
          ? 'the authorization code was already used; the tokens it gave are revoked'
          : 'the authorization code is invalid or expired',
      );
    }
    return found.entry;
  }

  private async tokens(grant: Grant, event: string, scopes = grant.scopes): Promise<OAuthTokens> {
    const settings = this.options.settings();
    const issued = await this.options.store.issue(grant, settings.accessTokenTtlMs, scopes);
    this.audit(event, grant);
    return {
      access_token: issued.accessToken,
      token_type: 'Bearer',
      expires_in: Math.floor(settings.accessTokenTtlMs / 1000),
      refresh_token: issued.refreshToken,
      scope: scopes.join(' '),
    };
  }

  private audit(event: string, grant: Grant, detail?: string): void {
    this.options.audit({
      event,
      credential: `${BUILT_IN_ISSUER_NAME}:${grant.subject}`,
      client_id: grant.clientId,
      scopes: grant.scopes,
      resource: grant.resource,
      ...(detail === undefined ? {} : { detail }),
    });
  }
}

/** Redirects go to https, to loopback over http (native apps, RFC 8252), or to an app's own scheme. */
function checkRedirectUri(uri: string): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new InvalidClientMetadataError(`redirect_uri "${uri}" is not a URL`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.hash !== '') throw new InvalidClientMetadataError('a redirect_uri must not have a fragment');
  if (['javascript:', 'data:', 'file:', 'vbscript:', 'blob:'].includes(url.protocol)) {
    throw new InvalidClientMetadataError(`redirect_uri scheme "${url.protocol}" is not allowed`);
  }
  if (url.protocol === 'http:' && !loopback) {
    throw new InvalidClientMetadataError('an http redirect_uri must point to localhost or 127.0.0.1');
  }
}

function originOf(uri: string): string {
  try {
    const url = new URL(uri);
    return url.origin === 'null' ? `${url.protocol}//${url.host}` : url.origin;
  } catch {
    return uri;
  }
}
