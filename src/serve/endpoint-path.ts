import type { Endpoint } from '../access/policy.js';
import { NAMESPACE_NAME_PATTERN, SERVER_NAME_PATTERN } from '../config/schema.js';

/** An MCP transport path: Streamable HTTP, the SSE stream, or the SSE message path. */
export type TransportKind = 'mcp' | 'sse' | 'message';

export type EndpointPath =
  | { kind: 'endpoint'; transport: TransportKind; endpoint: Endpoint; path: string; messagePath: string }
  /** Not an MCP path: health, extra routes or 404. */
  | { kind: 'other'; pathname: string }
  | { kind: 'invalid'; status: 400 | 404; message: string };

/** Dot segments, backslashes and encoded slashes, dots or backslashes, anywhere in the raw path. */
const SUSPICIOUS_PATH = /(^|\/)\.{1,2}(\/|$)|\\|%2f|%5c|%2e|%00/i;

/**
 * Classifies a request's raw path (`req.url` before any normalisation, so `/ns/../mcp` is seen as sent):
 * - `/mcp`, `/sse`, `/message`: the gateway endpoint;
 * - `/ns/<namespace>/mcp`, `/ns/<namespace>/sse`, `/ns/<namespace>/message`: one namespace;
 * - `/mcp/<server>`: one server alone.
 * Names must be given literally (letters, digits, `_`, `-`); anything else is not found.
 *
 * @example parseEndpointPath('/ns/public/mcp') // { kind: 'endpoint', transport: 'mcp', endpoint: { kind: 'namespace', name: 'public' }, ... }
 */
export function parseEndpointPath(rawUrl: string): EndpointPath {
  const rawPath = rawUrl.split('?', 1)[0] ?? '';
  if (SUSPICIOUS_PATH.test(rawPath)) {
    return {
      kind: 'invalid',
      status: 400,
      message: 'Bad Request: dot segments and encoded slashes are not allowed in paths',
    };
  }
  const segments = rawPath.split('/').slice(1);
  const [first, second, third, ...rest] = segments;
  if (segments.length === 1 && isTransport(first)) {
    return endpoint(first, { kind: 'gateway' }, '');
  }
  if (first === 'mcp' && segments.length === 2 && second !== undefined && second !== '') {
    if (!SERVER_NAME_PATTERN.test(second))
      return { kind: 'invalid', status: 404, message: 'Not found: no such server' };
    return endpoint('mcp', { kind: 'server', name: second }, `/mcp/${second}`, `/mcp/${second}`);
  }
  if (first === 'ns') {
    if (second === undefined || !NAMESPACE_NAME_PATTERN.test(second)) {
      return { kind: 'invalid', status: 404, message: 'Not found: no such namespace' };
    }
    if (!isTransport(third) || rest.length > 0) {
      return { kind: 'invalid', status: 404, message: `Not found: use /ns/${second}/mcp or /ns/${second}/sse` };
    }
    return endpoint(third, { kind: 'namespace', name: second }, `/ns/${second}`);
  }
  return { kind: 'other', pathname: rawPath };
}

function isTransport(value: string | undefined): value is TransportKind {
  return value === 'mcp' || value === 'sse' || value === 'message';
}

function endpoint(
  transport: TransportKind,
  target: Endpoint,
  base: string,
  path = `${base}/${transport}`,
): EndpointPath {
  return { kind: 'endpoint', transport, endpoint: target, path, messagePath: `${base}/message` };
}
