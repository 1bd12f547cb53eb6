import type { GatewayConfig } from './model.js';

/** Values of keys that name a secret are masked from this length on; any other env value from the longer one. */
const MIN_NAMED_SECRET_LENGTH = 4;
const MIN_ANY_VALUE_LENGTH = 8;
const SECRET_KEY = /key|token|secret|passw|auth|credential|cookie|session|private/i;
/** Query parameters of a server URL whose values are credentials. */
const SECRET_PARAM = /key|token|secret|auth|pass|sig|credential/i;
const cache = new WeakMap<GatewayConfig, readonly string[]>();

/**
 * The values that must never appear in logs, health or errors: every header value, every env value whose
 * name says it is a secret, and every other env value long enough to be one; the password and credential-like
 * query values of server URLs and their OAuth client secrets; the tokens of `auth`, each credential's own env
 * and header values, and the owner password and introspection secrets of `auth.oauth`. Short ordinary values
 * ("true", a server's own name) are left alone, or the log would mask words it needs.
 * The same array is returned for the same config, so maskers can cache their work.
 */
export function secretValues(config: GatewayConfig): readonly string[] {
  const cached = cache.get(config);
  if (cached) return cached;
  const values = new Set<string>();
  const add = (key: string, value: string, always: boolean) => {
    const min = always || SECRET_KEY.test(key) ? MIN_NAMED_SECRET_LENGTH : MIN_ANY_VALUE_LENGTH;
    if (value.length >= min) values.add(value);
  };
  for (const server of config.servers) {
    for (const [key, value] of Object.entries(server.env)) add(key, value, false);
    for (const [key, value] of Object.entries(server.headers)) add(key, value, true);
    if (server.url !== undefined) for (const value of urlSecrets(server.url)) add('url', value, true);
    if (server.oauth?.clientSecret !== undefined) add('secret', server.oauth.clientSecret, true);
  }
  for (const credential of config.auth?.tokens ?? []) {
    add('token', credential.token, true);
    for (const identity of Object.values(credential.upstreams)) {
      for (const [key, value] of Object.entries(identity.env)) add(key, value, false);
      for (const [key, value] of Object.entries(identity.headers)) add(key, value, true);
    }
  }
  const oauth = config.auth?.oauth;
  if (oauth?.server) add('password', oauth.server.ownerPassword, true);
  for (const issuer of oauth?.authorizationServers ?? []) {
    if (issuer.introspection) add('secret', issuer.introspection.clientSecret, true);
  }
  for (const [key, value] of Object.entries(config.tracing?.headers ?? {})) add(key, value, true);
  const list = [...values];
  cache.set(config, list);
  return list;
}

function urlSecrets(url: string): string[] {
  try {
    const parsed = new URL(url);
    const found = [parsed.password, decodeURIComponent(parsed.password)].filter((value) => value !== '');
    for (const [name, value] of parsed.searchParams) if (SECRET_PARAM.test(name)) found.push(value);
    return found;
  } catch {
    return [];
  }
}
