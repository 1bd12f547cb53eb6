import type { ClientCapabilities, LoggingLevel } from '@modelcontextprotocol/sdk/types.js';

import { LOG_LEVELS } from '../relay/log-levels.js';

/**
 * The stateless era of MCP (2026-07-28 and later): no `initialize`, no sessions; every request carries its
 * protocol version and the client's capabilities in `_meta`; server-to-client requests become
 * `input_required` results answered by a retry. The gateway serves it beside the legacy era on the same URLs.
 */
export const MODERN_VERSION = '2026-07-28';
export const MODERN_VERSIONS: readonly string[] = [MODERN_VERSION];

export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/** Error codes the 2026-07-28 revision defines (the MCP-reserved sub-range). */
export const HEADER_MISMATCH = -32020;
export const MISSING_REQUIRED_CLIENT_CAPABILITY = -32021;
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;

/** Methods a modern client may call on the gateway. */
export const MODERN_METHODS: ReadonlySet<string> = new Set([
  'server/discover',
  'tools/list',
  'tools/call',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'completion/complete',
  'subscriptions/listen',
]);

/** Methods whose results carry caching hints (`ttlMs`, `cacheScope`). */
export const CACHEABLE_METHODS: ReadonlySet<string> = new Set([
  'server/discover',
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
]);

/** Methods that may answer with `input_required` (multi round-trip requests). */
export const INPUT_REQUIRED_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** Methods whose target is named in the `Mcp-Name` header, and where it sits in `params`. */
export const NAMED_METHODS: Readonly<Record<string, 'name' | 'uri'>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

/** What a modern request says about itself in `_meta`. */
export interface RequestMeta {
  protocolVersion: string;
  clientCapabilities: ClientCapabilities;
  clientInfo?: { name: string; version: string };
  logLevel?: LoggingLevel;
}

export type MetaReading =
  { ok: true; meta: RequestMeta } | { ok: false; code: number; message: string; data?: unknown };

/**
 * Whether a message opens the modern era: a request (not `initialize`) whose `_meta` names a protocol version,
 * or any single message sent with a 2026-07-28 `MCP-Protocol-Version` header, so that a modern request with a
 * broken `_meta` (or a removed method such as `initialize`) gets the modern era's answer rather than the legacy
 * era's "no session". Anything else on a session-less POST is the legacy era's opening (or a bare request of
 * the seeds' shortcut).
 */
export function isModernMessage(message: unknown, protocolHeader?: string | string[]): boolean {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return false;
  if (typeof protocolHeader === 'string' && MODERN_VERSIONS.includes(protocolHeader)) return true;
  const { method, params } = message as { method?: unknown; params?: { _meta?: Record<string, unknown> } };
  if (typeof method !== 'string' || method === 'initialize') return false;
  return typeof params?._meta?.[META.protocolVersion] === 'string';
}

/** Reads and checks the per-request fields of `_meta`: version supported, capabilities present. */
export function readRequestMeta(params: Record<string, unknown> | undefined): MetaReading {
  const meta = (params?._meta ?? {}) as Record<string, unknown>;
  const version = meta[META.protocolVersion];
  if (typeof version !== 'string' || version === '') {
    return { ok: false, code: -32602, message: `_meta["${META.protocolVersion}"] is required` };
  }
  if (!MODERN_VERSIONS.includes(version)) {
    return {
      ok: false,
      code: UNSUPPORTED_PROTOCOL_VERSION,
      message: `Unsupported protocol version: ${version}`,
      data: { supported: [...MODERN_VERSIONS], requested: version },
    };
  }
  const capabilities = meta[META.clientCapabilities];
  if (typeof capabilities !== 'object' || capabilities === null || Array.isArray(capabilities)) {
    return { ok: false, code: -32602, message: `_meta["${META.clientCapabilities}"] is required (an object)` };
  }
  const reading: RequestMeta = { protocolVersion: version, clientCapabilities: capabilities as ClientCapabilities };
  const info = meta[META.clientInfo] as { name?: unknown; version?: unknown } | undefined;
  if (info && typeof info.name === 'string')
    reading.clientInfo = { name: info.name, version: String(info.version ?? '') };
  const level = meta[META.logLevel];
  if (level !== undefined) {
    if (typeof level !== 'string' || !LOG_LEVELS.includes(level as LoggingLevel)) {
      return { ok: false, code: -32602, message: `_meta["${META.logLevel}"] must be one of ${LOG_LEVELS.join(', ')}` };
    }
    reading.logLevel = level as LoggingLevel;
  }
  return { ok: true, meta: reading };
}

/** A request's params without the 2026-07-28 envelope in `_meta` (and without `_meta` if nothing else is left). */
export function withoutEnvelope(params: Record<string, unknown>): Record<string, unknown> {
  const meta = params._meta as Record<string, unknown> | undefined;
  if (typeof meta !== 'object' || meta === null) return params;
  const envelope = new Set<string>([META.protocolVersion, META.clientInfo, META.clientCapabilities, META.logLevel]);
  const kept = Object.fromEntries(Object.entries(meta).filter(([key]) => !envelope.has(key)));
  const { _meta: _omitted, ...rest } = params;
  return Object.keys(kept).length > 0 ? { ...rest, _meta: kept } : rest;
}

/**
 * Checks the mirrored headers of a modern POST against its body: `MCP-Protocol-Version` against `_meta`,
 * `Mcp-Method` against `method`, and `Mcp-Name` against `params.name`/`params.uri` (Base64 sentinel decoded).
 * Returns why they disagree, or undefined.
 */
export function headerMismatch(
  headers: Record<string, string | string[] | undefined>,
  message: { method: string; params?: Record<string, unknown> },
  version: string,
): string | undefined {
  const header = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(',') : value;
  };
  const protocol = header('mcp-protocol-version');
  if (protocol === undefined) return 'the MCP-Protocol-Version header is missing';
  if (protocol !== version) return `MCP-Protocol-Version "${protocol}" does not match _meta's "${version}"`;
  const method = header('mcp-method');
  if (method === undefined) return 'the Mcp-Method header is missing';
  if (method !== message.method) return `Mcp-Method "${method}" does not match the body's method "${message.method}"`;
  const field = NAMED_METHODS[message.method];
  if (field === undefined) return undefined;
  const raw = header('mcp-name');
  if (raw === undefined) return 'the Mcp-Name header is missing';
  const name = decodeHeaderValue(raw);
  if (name === undefined) return 'the Mcp-Name header is not validly encoded';
  const body = message.params?.[field];
  if (name !== body) return `Mcp-Name "${name}" does not match the body's ${field} "${String(body)}"`;
  return undefined;
}

const SENTINEL = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/;

/** A header value as sent: plain visible ASCII, or `=?base64?…?=` for anything else. */
export function decodeHeaderValue(value: string): string | undefined {
  const encoded = SENTINEL.exec(value);
  if (!encoded) return /^[\x20-\x7e\t]*$/.test(value) ? value : undefined;
  if (encoded[1]!.length % 4 !== 0) return undefined; // unpadded Base64 is invalid, not leniently decoded
  const decoded = Buffer.from(encoded[1]!, 'base64').toString('utf8');
  return Buffer.from(decoded, 'utf8').toString('base64').replace(/=+$/, '') === encoded[1]!.replace(/=+$/, '')
    ? decoded
    : undefined;
}

/** The header form of a value (for requests the gateway sends to modern upstreams). */
export function encodeHeaderValue(value: string): string {
  const plain = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(value) && !SENTINEL.test(value);
  return plain ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/**
 * The headers a request to a 2026-07-28 server mirrors from its body: `Mcp-Method`, `Mcp-Name` for named
 * methods, and `Mcp-Param-{Name}` for each `x-mcp-header` argument of the tool's input schema.
 */
export function mirroredHeaders(
  message: { method: string; params?: Record<string, unknown> },
  inputSchema?: unknown,
): Record<string, string> {
  const headers: Record<string, string> = { 'mcp-method': message.method };
  const field = NAMED_METHODS[message.method];
  const named = field === undefined ? undefined : message.params?.[field];
  if (typeof named === 'string') headers['mcp-name'] = encodeHeaderValue(named);
  if (message.method === 'tools/call' && inputSchema !== undefined) {
    for (const [name, value] of paramHeaders(inputSchema, message.params?.arguments)) {
      headers[`mcp-param-${name.toLowerCase()}`] = encodeHeaderValue(value);
    }
  }
  return headers;
}

/**
 * Checks the `Mcp-Param-{Name}` headers of a modern `tools/call` against its arguments: each argument the
 * tool's schema marks `x-mcp-header` must be mirrored, validly encoded and equal. Returns why not, or undefined.
 */
export function paramHeaderMismatch(
  headers: Record<string, string | string[] | undefined>,
  inputSchema: unknown,
  args: unknown,
): string | undefined {
  for (const [name, value] of paramHeaders(inputSchema, args)) {
    const raw = headers[`mcp-param-${name.toLowerCase()}`];
    if (raw === undefined) return `the Mcp-Param-${name} header is missing`;
    const decoded = decodeHeaderValue(Array.isArray(raw) ? raw.join(',') : raw);
    if (decoded === undefined) return `the Mcp-Param-${name} header is not validly encoded`;
    if (decoded !== value) return `Mcp-Param-${name} "${decoded}" does not match the argument's "${value}"`;
  }
  return undefined;
}

/** `x-mcp-header` annotations reachable through `properties` alone, with the argument value at each path. */
function paramHeaders(schema: unknown, args: unknown): [string, string][] {
  const found: [string, string][] = [];
  const walk = (node: unknown, value: unknown, depth: number) => {
    if (depth > 16 || typeof node !== 'object' || node === null) return;
    const properties = (node as { properties?: Record<string, unknown> }).properties;
    if (typeof properties !== 'object' || properties === null) return;
    for (const [key, child] of Object.entries(properties)) {
      const childValue =
        typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
      const header = (child as { 'x-mcp-header'?: unknown } | null)?.['x-mcp-header'];
      if (typeof header === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
        if (typeof childValue === 'string') found.push([header, childValue]);
        else if (
          typeof childValue === 'boolean' ||
          (typeof childValue === 'number' && Number.isSafeInteger(childValue))
        ) {
          found.push([header, String(childValue)]);
        }
      } else {
        walk(child, childValue, depth + 1);
      }
    }
  };
  walk(schema, args, 0);
  return found;
}
