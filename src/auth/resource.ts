import type { Endpoint } from '../access/policy.js';

/** Where RFC 9728 puts protected-resource metadata: this prefix, then the resource's own path. */
export const PROTECTED_RESOURCE_PREFIX = '/.well-known/oauth-protected-resource';

/**
 * The resource identifiers (RFC 8707) of an endpoint: the gateway's base URL, which stands for all of it, and
 * the URLs of the endpoint's own transports (`/mcp`, `/sse` and `/message` of the same scope share a grant).
 *
 * @example endpointResources('https://gw.example', { kind: 'namespace', name: 'public' })
 * // ['https://gw.example', 'https://gw.example/ns/public/mcp', 'https://gw.example/ns/public/sse', 'https://gw.example/ns/public/message']
 */
export function endpointResources(base: string, endpoint: Endpoint): string[] {
  if (endpoint.kind === 'server') return [base, `${base}/mcp/${endpoint.name}`];
  const prefix = endpoint.kind === 'namespace' ? `${base}/ns/${endpoint.name}` : base;
  return [base, `${prefix}/mcp`, `${prefix}/sse`, `${prefix}/message`];
}

/** The metadata URL of the resource at `path` (`/mcp` → `<base>/.well-known/oauth-protected-resource/mcp`). */
export function resourceMetadataUrl(base: string, path: string): string {
  return `${base}${PROTECTED_RESOURCE_PREFIX}${path === '/' ? '' : path}`;
}

/** The same resource however it is written: no fragment, no trailing slash, scheme and host in lower case. */
export function canonicalResource(value: string): string {
  try {
    const url = new URL(value);
    url.hash = '';
    return url.href.replace(/\/+$/, '');
  } catch {
    return value.replace(/\/+$/, '');
  }
}

export interface ChallengeOptions {
  realm: string;
  error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  description?: string;
  scope?: string[];
  resourceMetadata?: string;
}

/**
 * A `WWW-Authenticate: Bearer` value (RFC 6750 §3, RFC 9728 §5.1). Quoted values drop `"` and `\` so that a
 * message can never break out of its parameter.
 *
 * @example bearerChallenge({ realm: 'mcproxy', error: 'invalid_token' }) // 'Bearer realm="mcproxy", error="invalid_token"'
 */
export function bearerChallenge(options: ChallengeOptions): string {
  const parts = [`realm="${quote(options.realm)}"`];
  if (options.error) parts.push(`error="${options.error}"`);
  if (options.description) parts.push(`error_description="${quote(options.description)}"`);
  if (options.scope && options.scope.length > 0) parts.push(`scope="${quote(options.scope.join(' '))}"`);
  if (options.resourceMetadata) parts.push(`resource_metadata="${quote(options.resourceMetadata)}"`);
  return `Bearer ${parts.join(', ')}`;
}

function quote(value: string): string {
  // RFC 6750 limits error_description to %x20-21 / %x23-5B / %x5D-7E.
  return value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '');
}
