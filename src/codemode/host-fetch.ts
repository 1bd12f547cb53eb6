import { GatewayError } from '../errors.js';

/** What `api.fetch` asks for; headers and body are plain strings. */
export interface FetchRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** What the guest gets back; `body` is the response text, cut off at the byte limit. */
export interface FetchAnswer {
  ok: boolean;
  status: number;
  statusText: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface FetchPolicy {
  enabled: boolean;
  /** Host names (`api.example.com`), `*.example.com` for any subdomain, or `host:port` to pin a port. */
  allowedHosts: string[];
  maxBytes: number;
  signal?: AbortSignal;
}

/**
 * Whether a URL's host is on the allow list. Matching is on the host name (and port, when the pattern has
 * one), case-insensitive; `*.example.com` matches subdomains but not `example.com` itself.
 *
 * @example
 * hostAllowed(new URL('https://api.github.com/x'), ['api.github.com']); // true
 */
export function hostAllowed(url: URL, allowedHosts: string[]): boolean {
  const host = url.hostname.toLowerCase();
  return allowedHosts.some((raw) => {
    const pattern = raw.trim().toLowerCase();
    if (pattern.includes(':') && !pattern.startsWith('[')) return url.host.toLowerCase() === pattern;
    if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
    return host === pattern;
  });
}

/**
 * The host side of `api.fetch`: the guest never opens a socket, the gateway does, and only to allowed hosts.
 * Redirects are not followed (the 3xx answer is returned), so an allowed host cannot bounce a request
 * elsewhere.
 */
export async function sandboxFetch(request: FetchRequest, policy: FetchPolicy): Promise<FetchAnswer> {
  if (!policy.enabled) {
    throw new GatewayError(
      'ACCESS_DENIED',
      'network access is disabled in this sandbox (sandbox.network.enabled is false)',
    );
  }
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    throw new GatewayError('INVALID_PARAMS', `not a valid URL: ${request.url}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new GatewayError('ACCESS_DENIED', `only http and https URLs may be fetched, not ${url.protocol}`);
  }
  if (!hostAllowed(url, policy.allowedHosts)) {
    throw new GatewayError(
      'ACCESS_DENIED',
      `host ${url.host} is not in sandbox.network.allowed_hosts (${policy.allowedHosts.join(', ') || 'empty'})`,
    );
  }
  const response = await fetch(url, {
    method: (request.method ?? 'GET').toUpperCase(),
    headers: request.headers,
    body: request.body,
    redirect: 'manual',
    signal: policy.signal,
  });
  return {
    ok: response.ok,
    status: response.status,
    statusText: response.statusText,
    url: url.href,
    headers: Object.fromEntries(response.headers),
    body: await readLimited(response, policy.maxBytes),
  };
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Bounded by maxBytes: the stream is cancelled as soon as the limit is reached.
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new GatewayError('SANDBOX_LIMIT', `the response body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
