import { createHash, timingSafeEqual } from 'node:crypto';

import { BUILT_IN_ISSUER_NAME, type CredentialGrantConfig, type GatewayConfig } from '../config/model.js';

/**
 * A credential as the gateway keeps it: a static token's digest (never the token), or who an OAuth access
 * token speaks for. Either way `id` names it in logs, the audit log, session owners and rate limits, and
 * `config` says what it grants.
 */
export interface Credential {
  id: string;
  /** SHA-256 of a static token; absent for an OAuth credential. */
  digest?: Buffer;
  config: CredentialGrantConfig;
  oauth?: OAuthIdentity;
}

/** Who an OAuth access token speaks for; `Credential.id` is `<issuer>:<subject>`. Holds no token. */
export interface OAuthIdentity {
  /** The name of the authorization server (`mcproxy` for the built-in one). */
  issuer: string;
  subject: string;
  /** The OAuth client the token was issued to, when the token says. */
  clientId?: string;
  scopes: string[];
  /** The id of the `auth.oauth.credentials` rule that matched; `*` when none are configured. */
  rule: string;
}

/** What a request presented, read from its headers. */
export type Presented =
  | { kind: 'none' }
  | { kind: 'token'; token: string }
  /** Something credential-like that cannot be used (another scheme, two different tokens). */
  | { kind: 'malformed'; reason: string };

export interface CredentialStore {
  readonly size: number;
  /** The credential whose token this is, compared in constant time against every credential. */
  match(token: string): Credential | undefined;
  /** Whether a credential with this id and digest is still configured (it may have been reloaded away). */
  has(credential: Credential): boolean;
  /** The configured credential with this one's id and token (its settings may have been reloaded). */
  find(credential: Credential): Credential | undefined;
}

const stores = new WeakMap<GatewayConfig, CredentialStore>();

/**
 * The credentials of a config (cached per config object). Tokens are hashed with SHA-256 so every comparison
 * is between two 32-byte digests: `timingSafeEqual` needs equal lengths, and the time taken then says nothing
 * about the token's length or how much of it was right. Every credential is compared, match or not.
 *
 * @example credentialsOf(config).match(bearerToken)?.id // 'alice'
 */
export function credentialsOf(config: GatewayConfig): CredentialStore {
  const cached = stores.get(config);
  if (cached) return cached;
  const credentials: (Credential & { digest: Buffer })[] = (config.auth?.tokens ?? []).map((entry) => ({
    id: entry.id,
    digest: digestOf(entry.token),
    config: entry,
  }));
  const store: CredentialStore = {
    size: credentials.length,
    match(token) {
      const digest = digestOf(token);
      let found: Credential | undefined;
      for (const credential of credentials) {
        if (timingSafeEqual(credential.digest, digest) && found === undefined) found = credential;
      }
      return found;
    },
    has(credential) {
      if (credential.oauth) return oauthRuleConfigured(config, credential.oauth);
      return this.find(credential) !== undefined;
    },
    find(credential) {
      if (credential.oauth) return oauthRuleConfigured(config, credential.oauth) ? credential : undefined;
      const digest = credential.digest;
      if (digest === undefined) return undefined;
      return credentials.find((known) => known.id === credential.id && timingSafeEqual(known.digest!, digest));
    },
  };
  stores.set(config, store);
  return store;
}

/**
 * Reads `Authorization: Bearer <token>` and the API-key header. Both may be sent if they agree.
 *
 * @example presentedCredential({ authorization: 'Bearer abc' }, 'x-api-key') // { kind: 'token', token: 'abc' }
 */
export function presentedCredential(
  headers: Record<string, string | string[] | undefined>,
  apiKeyHeader: string,
): Presented {
  const tokens: string[] = [];
  const authorization = headers['authorization'];
  if (Array.isArray(authorization)) return { kind: 'malformed', reason: 'more than one Authorization header' };
  if (authorization !== undefined && authorization !== '') {
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (!match) return { kind: 'malformed', reason: 'the Authorization header must be "Bearer <token>"' };
    tokens.push(match[1]!);
  }
  const apiKey = headers[apiKeyHeader];
  if (Array.isArray(apiKey)) return { kind: 'malformed', reason: `more than one ${apiKeyHeader} header` };
  if (apiKey !== undefined && apiKey !== '') tokens.push(apiKey.trim());
  if (tokens.length === 0) return { kind: 'none' };
  if (tokens.length === 2 && tokens[0] !== tokens[1]) {
    return { kind: 'malformed', reason: `Authorization and ${apiKeyHeader} carry different tokens` };
  }
  return { kind: 'token', token: tokens[0]! };
}

/** An OAuth credential lasts while its issuer and its rule are configured; the token itself is checked per request. */
function oauthRuleConfigured(config: GatewayConfig, identity: OAuthIdentity): boolean {
  const oauth = config.auth?.oauth;
  if (!oauth) return false;
  const issuerKnown =
    identity.issuer === BUILT_IN_ISSUER_NAME
      ? oauth.server !== undefined
      : oauth.authorizationServers.some((issuer) => issuer.name === identity.issuer);
  if (!issuerKnown) return false;
  return identity.rule === ANY_TOKEN_RULE
    ? oauth.credentials.length === 0
    : oauth.credentials.some((rule) => rule.id === identity.rule);
}

/** The rule id of OAuth credentials when no `auth.oauth.credentials` are configured. */
export const ANY_TOKEN_RULE = '*';

function digestOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
