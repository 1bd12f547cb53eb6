import { createHash } from 'node:crypto';

import { ANY_TOKEN_RULE, type Credential } from '../access/credentials.js';
import { resolveNamespaces } from '../access/namespaces.js';
import type { Endpoint } from '../access/policy.js';
import type { CredentialGrantConfig, GatewayConfig, OAuthConfig, OAuthCredentialRule } from '../config/model.js';

/** What a verified access token says, from whichever authorization server and whatever its format. */
export interface VerifiedToken {
  /** The name of the authorization server that issued it. */
  issuer: string;
  subject: string;
  clientId?: string;
  scopes: string[];
  /** `aud` of a JWT or an introspection answer, the bound resource of a built-in token. */
  audiences: string[];
  /** Seconds since the epoch. */
  expiresAt?: number;
  /** Every claim, for the rules' `claims` (empty for built-in tokens). */
  claims: Record<string, unknown>;
}

const SAFE_ID = /^[A-Za-z0-9_.@-]{1,64}$/;
const DIGEST_PREFIX = 'sha256-';

/**
 * The credential a token becomes: the first rule of `auth.oauth.credentials` whose scopes, claims and issuers
 * it satisfies; with no rules, a credential like a static token without `namespaces`. Undefined when rules
 * exist and none matches. The id is `<issuer>:<subject>`, so one user is one credential (owner of its
 * sessions, its rate limit bucket, its upstream instances) whichever client they use.
 *
 * @example credentialForToken(config.auth.oauth, token)?.id // 'idp.example.com:alice'
 */
export function credentialForToken(oauth: OAuthConfig, token: VerifiedToken): Credential | undefined {
  let rule: OAuthCredentialRule | undefined;
  let grant: CredentialGrantConfig;
  if (oauth.credentials.length === 0) grant = { id: ANY_TOKEN_RULE, tools: {}, upstreams: {} };
  else {
    rule = oauth.credentials.find((candidate) => ruleMatches(candidate, token));
    if (!rule) return undefined;
    grant = rule;
  }
  return {
    id: `${token.issuer}:${subjectId(token.subject)}`,
    config: grant,
    oauth: {
      issuer: token.issuer,
      subject: token.subject,
      scopes: token.scopes,
      rule: rule?.id ?? ANY_TOKEN_RULE,
      ...(token.clientId === undefined ? {} : { clientId: token.clientId }),
    },
  };
}

/**
 * The scopes that would open an endpoint: those of every rule granting one of its namespaces, for the
 * `scope` of a 403 `insufficient_scope` challenge (the client may then ask for more).
 *
 * @example scopesFor(config, { kind: 'namespace', name: 'crypto' }) // ['mcp:crypto']
 */
export function scopesFor(config: GatewayConfig, endpoint: Endpoint | undefined): string[] {
  const rules = config.auth?.oauth?.credentials ?? [];
  const table = resolveNamespaces(config);
  const wanted = [...table.byName.values()].filter((ns) => {
    if (endpoint === undefined || endpoint.kind === 'gateway') return true;
    if (endpoint.kind === 'namespace') return ns.name === endpoint.name;
    return ns.servers.has(endpoint.name);
  });
  const scopes = new Set<string>();
  for (const rule of rules) {
    const opens = wanted.some((ns) => (rule.namespaces ? rule.namespaces.includes(ns.name) : !ns.isolated));
    if (opens) for (const scope of rule.scopes) scopes.add(scope);
  }
  return [...scopes];
}

function ruleMatches(rule: OAuthCredentialRule, token: VerifiedToken): boolean {
  if (rule.issuers && !rule.issuers.includes(token.issuer)) return false;
  if (!rule.scopes.every((scope) => token.scopes.includes(scope))) return false;
  return Object.entries(rule.claims).every(([name, wanted]) => {
    const value = token.claims[name];
    return Array.isArray(value) ? value.includes(wanted) : value === wanted;
  });
}

/**
 * A subject as it can stand in an id: itself when plain and short, else a digest (never a lossy rewrite). A plain
 * subject that looks like a digest is digested too: it would otherwise be the id of the subject it imitates.
 */
function subjectId(subject: string): string {
  if (SAFE_ID.test(subject) && !subject.startsWith(DIGEST_PREFIX)) return subject;
  return `${DIGEST_PREFIX}${createHash('sha256').update(subject, 'utf8').digest('hex').slice(0, 32)}`;
}
