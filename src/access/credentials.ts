import { createHash, timingSafeEqual } from 'node:crypto';

import type { CredentialConfig, GatewayConfig } from '../config/model.js';

/** A credential as the gateway keeps it: the digest of its token, never the token. */
export interface Credential {
  id: string;
  digest: Buffer;
  config: CredentialConfig;
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
  const credentials: Credential[] = (config.auth?.tokens ?? []).map((entry) => ({
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
      return this.find(credential) !== undefined;
    },
    find(credential) {
      return credentials.find(
        (known) => known.id === credential.id && timingSafeEqual(known.digest, credential.digest),
      );
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

function digestOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
