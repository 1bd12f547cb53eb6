import type { z } from 'zod';

import type { OAuthConfig, OAuthCredentialRule, OAuthIssuerConfig } from '../config/model.js';
import type { OAuthSchema } from '../config/schema.js';

type OAuthFile = z.output<typeof OAuthSchema>;

export const DEFAULT_CLOCK_SKEW_MS = 60_000;
export const DEFAULT_ACCESS_TOKEN_TTL_MS = 3_600_000;
export const DEFAULT_REFRESH_TOKEN_TTL_MS = 30 * 24 * 3_600_000;
export const DEFAULT_INTROSPECTION_CACHE_MS = 30_000;
export const DEFAULT_MAX_CLIENTS = 100;

/**
 * Normalises `auth.oauth` to the internal model, applying every default. `resolvePath` places the state file
 * beside the config.
 *
 * @example toOAuthConfig({ server: { owner_password: 'x'.repeat(12) } }, (p) => p).server?.accessTokenTtlMs // 3600000
 */
export function toOAuthConfig(file: OAuthFile, resolvePath: (path: string) => string): OAuthConfig {
  const config: OAuthConfig = {
    audiences: file.audiences ?? [],
    clockSkewMs: toMs(file.clock_skew) ?? DEFAULT_CLOCK_SKEW_MS,
    authorizationServers: (file.authorization_servers ?? []).map(toIssuer),
    credentials: (file.credentials ?? []).map(toRule),
  };
  if (file.public_url !== undefined) config.publicUrl = new URL(file.public_url).origin;
  const server = file.server;
  if (server !== undefined && server.enabled !== false) {
    config.server = {
      ownerPassword: server.owner_password,
      accessTokenTtlMs: toMs(server.access_token_ttl) ?? DEFAULT_ACCESS_TOKEN_TTL_MS,
      refreshTokenTtlMs: toMs(server.refresh_token_ttl) ?? DEFAULT_REFRESH_TOKEN_TTL_MS,
      scopes: server.scopes ?? [...new Set(config.credentials.flatMap((rule) => rule.scopes))],
      maxClients: server.max_clients ?? DEFAULT_MAX_CLIENTS,
      ...(server.state_file === undefined ? {} : { stateFile: resolvePath(server.state_file) }),
    };
  }
  return config;
}

/** The name an issuer's users are prefixed with: its own `name`, else its host name. */
export function issuerName(entry: { issuer: string; name?: string | undefined }): string {
  if (entry.name !== undefined) return entry.name;
  try {
    return new URL(entry.issuer).hostname;
  } catch {
    return entry.issuer;
  }
}

function toIssuer(entry: NonNullable<OAuthFile['authorization_servers']>[number]): OAuthIssuerConfig {
  const issuer: OAuthIssuerConfig = {
    name: issuerName(entry),
    issuer: entry.issuer,
    audiences: entry.audiences ?? [],
    subjectClaim: entry.subject_claim ?? 'sub',
  };
  if (entry.jwks_uri !== undefined) issuer.jwksUri = entry.jwks_uri;
  const introspection = entry.introspection;
  if (introspection !== undefined) {
    issuer.introspection = {
      clientId: introspection.client_id,
      clientSecret: introspection.client_secret,
      cacheMs: toMs(introspection.cache_secs) ?? DEFAULT_INTROSPECTION_CACHE_MS,
      ...(introspection.endpoint === undefined ? {} : { endpoint: introspection.endpoint }),
    };
  }
  return issuer;
}

function toRule(entry: NonNullable<OAuthFile['credentials']>[number]): OAuthCredentialRule {
  return {
    id: entry.id,
    scopes: entry.scopes ?? [],
    claims: entry.claims ?? {},
    tools: { ...entry.tools },
    // A rule covers many users: their own upstream values come from signing in upstream, not from the file.
    upstreams: {},
    ...(entry.issuers === undefined ? {} : { issuers: entry.issuers }),
    ...(entry.namespaces === undefined ? {} : { namespaces: entry.namespaces }),
    ...(entry.rate_limit === undefined ? {} : { rateLimitPerMinute: entry.rate_limit.requests_per_minute }),
    ...(entry.roles === undefined ? {} : { roles: entry.roles }),
  };
}

function toMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : Math.round(seconds * 1000);
}
