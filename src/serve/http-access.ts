import type { IncomingMessage, ServerResponse } from 'node:http';

import { clientAddress, trustedProxies } from '../access/client-address.js';
import { credentialsOf, presentedCredential } from '../access/credentials.js';
import { resolveNamespaces } from '../access/namespaces.js';
import type { Endpoint, Principal } from '../access/policy.js';
import { scopesFor } from '../auth/credential-rules.js';
import type { OAuthService } from '../auth/oauth-service.js';
import { DEFAULT_API_KEY_HEADER, type GatewayConfig } from '../config/model.js';
import type { SlotRefusal } from './session-slots.js';

const REALM = 'mcproxy';
const JSON_RPC_UNAUTHORIZED = -32001;
const JSON_RPC_RATE_LIMITED = -32029;
const JSON_RPC_SERVER_BUSY = -32000;

/** Query parameters that carry credentials in other products; a token there ends up in access logs and history. */
const CREDENTIAL_PARAMS = new Set([
  'access_token',
  'token',
  'api_key',
  'apikey',
  'api-key',
  'x-api-key',
  'key',
  'auth',
  'authorization',
  'bearer',
  'password',
  'secret',
]);

export type Authentication =
  | { ok: true; principal: Principal }
  | { ok: false; status: 401 | 503; message: string }
  /** A valid OAuth token that opens nothing: 403 `insufficient_scope`. */
  | { ok: false; status: 403; message: string; scopes: string[] };

/**
 * Who sent a request. Without configured credentials every client is anonymous and credential headers are
 * ignored (as before `auth` existed); with them, a presented token must be valid: a wrong one is 401 even
 * where anonymous clients are welcome, so a client never silently gets less than it asked for. A token that
 * is no static credential is an OAuth access token when `auth.oauth` is configured, checked for `endpoint`.
 *
 * @example const who = await authenticateRequest(req, gateway.config, oauth, { kind: 'gateway' });
 */
export async function authenticateRequest(
  req: IncomingMessage,
  config: GatewayConfig,
  oauth?: OAuthService,
  endpoint?: Endpoint,
  address = requestAddress(req, config),
): Promise<Authentication> {
  const store = credentialsOf(config);
  const anonymous: Principal = address === undefined ? { kind: 'anonymous' } : { kind: 'anonymous', address };
  const oauthOn = oauth !== undefined && config.auth?.oauth !== undefined;
  if (store.size === 0 && !oauthOn) return { ok: true, principal: anonymous };
  const presented = presentedCredential(req.headers, config.auth?.apiKeyHeader ?? DEFAULT_API_KEY_HEADER);
  if (presented.kind === 'none') return { ok: true, principal: anonymous };
  if (presented.kind === 'malformed') return { ok: false, status: 401, message: `Unauthorized: ${presented.reason}` };
  let credential = store.match(presented.token);
  if (!credential && oauthOn) {
    const result = await oauth.authenticate(presented.token, endpoint);
    if (!result.ok) {
      if (result.status === 403) return result;
      const prefix = result.status === 503 ? 'Service unavailable' : 'Unauthorized';
      return { ok: false, status: result.status, message: `${prefix}: ${result.message}` };
    }
    credential = result.credential;
  }
  if (!credential) return { ok: false, status: 401, message: 'Unauthorized: invalid token' };
  return { ok: true, principal: { kind: 'credential', credential, ...(address === undefined ? {} : { address }) } };
}

/** The client's address under the config's `trusted_proxies`. */
export function requestAddress(req: IncomingMessage, config: GatewayConfig): string | undefined {
  return clientAddress(req, trustedProxies(config.trustedProxies));
}

export interface RefusalContext {
  oauth: OAuthService;
  /** The endpoint path, whose resource metadata the challenge names. */
  path?: string;
  /** Whom `grantAccess` refused; absent when the presented token itself was refused. */
  principal?: Principal;
  config?: GatewayConfig;
  endpoint?: Endpoint;
}

/**
 * Answers a request that `authenticateRequest` or `grantAccess` refused: 401 with a challenge (pointing to
 * the resource metadata of `path` when OAuth is on), 403 `insufficient_scope` for an OAuth credential that
 * lacks a namespace, any other status as a plain refusal.
 *
 * @example if (!who.ok) return sendAccessRefusal(res, who, { oauth, path: '/mcp', presented: true });
 */
export function sendAccessRefusal(
  res: ServerResponse,
  refusal: { status: number; message: string; scopes?: string[] },
  context: RefusalContext,
): void {
  const { oauth, path, principal } = context;
  const { status, message } = refusal;
  if (status === 401) {
    // A token was presented and refused (invalid_token), or none was sent where one is needed (no error code).
    const challenge = oauth.challenge(path, principal === undefined ? { error: 'invalid_token' } : {});
    return sendError(res, 401, JSON_RPC_UNAUTHORIZED, message, { 'www-authenticate': challenge });
  }
  const scopes =
    refusal.scopes ??
    (status === 403 && principal?.kind === 'credential' && principal.credential.oauth && context.config
      ? scopesFor(context.config, context.endpoint)
      : undefined);
  if (status === 403 && scopes !== undefined) {
    const challenge = oauth.challenge(path, { error: 'insufficient_scope', scope: scopes });
    return sendError(res, 403, JSON_RPC_UNAUTHORIZED, message, { 'www-authenticate': challenge });
  }
  sendError(res, status, JSON_RPC_UNAUTHORIZED, message);
}

/** The name of a query parameter that looks like a credential, if the query has one. */
export function credentialInQuery(query: URLSearchParams, config: GatewayConfig): string | undefined {
  const apiKeyHeader = config.auth?.apiKeyHeader ?? DEFAULT_API_KEY_HEADER;
  for (const name of query.keys()) {
    const lower = name.toLowerCase();
    if (CREDENTIAL_PARAMS.has(lower) || lower === apiKeyHeader) return name;
  }
  return undefined;
}

/** Every origin some namespace lists: the global guard lets them through, the namespace check narrows later. */
export function namespaceOrigins(config: GatewayConfig): string[] {
  const origins = new Set<string>();
  for (const ns of resolveNamespaces(config).byName.values())
    for (const origin of ns.allowedOrigins ?? []) origins.add(origin);
  return [...origins];
}

/** 400 for a credential sent where it must not be (the query string); the value is neither echoed nor logged. */
export function sendCredentialInQuery(res: ServerResponse, parameter: string): void {
  sendError(
    res,
    400,
    JSON_RPC_UNAUTHORIZED,
    `Bad Request: credentials are not accepted in the query string (parameter "${parameter}"); send "Authorization: Bearer <token>" instead`,
    { 'www-authenticate': `Bearer realm="${REALM}", error="invalid_request"` },
  );
}

/**
 * 429 with `Retry-After`, and the retry time in the JSON-RPC error's data too. `count` requests were asked for at
 * once (a batch); when more than the limit, they can never fit, and the message says so.
 */
export function sendRateLimited(
  res: ServerResponse,
  perMinute: number,
  refused: { retryAfterSeconds: number; exceedsLimit: boolean },
  count = 1,
): void {
  const { retryAfterSeconds, exceedsLimit } = refused;
  const message = exceedsLimit
    ? `Rate limit of ${perMinute} requests per minute exceeded: a batch of ${count} requests can never fit; send at most ${perMinute} at once`
    : `Rate limit of ${perMinute} requests per minute exceeded; retry in ${retryAfterSeconds} s`;
  sendError(
    res,
    429,
    JSON_RPC_RATE_LIMITED,
    message,
    { 'retry-after': String(retryAfterSeconds) },
    { reason: 'RATE_LIMITED', retryAfterSeconds },
  );
}

/** A session refused for the session limits: 503 (the gateway is full) or 429 (this client is), with Retry-After. */
export function sendSessionLimit(res: ServerResponse, refusal: SlotRefusal): void {
  sendError(
    res,
    refusal.status,
    JSON_RPC_SERVER_BUSY,
    refusal.message,
    { 'retry-after': String(refusal.retryAfterSeconds) },
    { reason: 'SESSION_LIMIT', retryAfterSeconds: refusal.retryAfterSeconds },
  );
}

function sendError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
  data?: unknown,
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: null,
    error: { code, message, ...(data === undefined ? {} : { data }) },
  });
  res
    .writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    .end(body);
}
