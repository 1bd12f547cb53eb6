import { basename, dirname, extname, isAbsolute, join, resolve as resolvePath } from 'node:path';

import type { z } from 'zod';

import { resolveNamespaces } from '../access/namespaces.js';
import { toOAuthConfig } from '../auth/oauth-config.js';
import { checkAccessSemantics } from './check-access.js';
import { type ConfigIssue, formatPath, isRecord, type PathSegment, suggest } from './issues.js';
import {
  type AuthConfig,
  DEFAULT_API_KEY_HEADER,
  DEFAULT_MAX_INSTANCES,
  DEFAULT_RESTART_POLICY,
  DEFAULT_START_TIMEOUT_MS,
  DEFAULT_TOOL_NAMING,
  DEFAULT_TOOL_TIMEOUT_MS,
  type GatewayConfig,
  type PinningConfig,
  type RestartPolicy,
  type ServerConfig,
  type ServerScope,
  type ServerTransport,
  type UpstreamOAuthConfig,
} from './model.js';
import { type ConfigFileSchema, NamedServerEntrySchema, type ServerEntry } from './schema.js';

export type ParsedConfigFile = z.output<typeof ConfigFileSchema>;
type RestartSettings = NonNullable<ParsedConfigFile['restart']>;

/** One server entry wherever it sits in the file: `servers` (list or object) or `mcpServers`. */
interface EntryRef {
  name: string;
  segments: PathSegment[];
  entry: unknown;
}

/**
 * The server entries of a config in a fixed order: `servers` first, then `mcpServers`, each in file order.
 * Works on unvalidated data too (entries that are not objects, or v1 entries without a name, are skipped),
 * so that the semantic checks can run alongside schema validation and report everything at once.
 */
export function listServerEntries(data: unknown): EntryRef[] {
  if (!isRecord(data)) return [];
  const refs: EntryRef[] = [];
  const { servers, mcpServers } = data;
  if (Array.isArray(servers)) {
    servers.forEach((entry, index) => {
      if (isRecord(entry) && typeof entry['name'] === 'string') {
        refs.push({ name: entry['name'], segments: ['servers', index], entry });
      }
    });
  } else if (isRecord(servers)) {
    for (const [name, entry] of Object.entries(servers)) refs.push({ name, segments: ['servers', name], entry });
  }
  if (isRecord(mcpServers)) {
    for (const [name, entry] of Object.entries(mcpServers)) refs.push({ name, segments: ['mcpServers', name], entry });
  }
  return refs;
}

/** What the schema cannot say: command xor url, a type that fits, unique names, namespace references. */
export function checkConfigSemantics(data: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const at = (segments: PathSegment[], message: string): void => {
    issues.push({ path: formatPath(segments, data), message });
  };
  const seen = new Map<string, PathSegment[]>();
  for (const ref of listServerEntries(data)) {
    const first = seen.get(ref.name);
    if (first) at(ref.segments, `duplicate server name "${ref.name}" (also at ${formatPath(first, data)})`);
    else seen.set(ref.name, ref.segments);
    if (!isRecord(ref.entry)) continue;
    const hasCommand = ref.entry['command'] !== undefined;
    const hasUrl = ref.entry['url'] !== undefined;
    const type = ref.entry['type'];
    if (hasCommand && hasUrl) {
      at(ref.segments, 'has both "command" and "url"; a server is either local (command) or remote (url)');
    } else if (!hasCommand && !hasUrl && !hasTypoOf(ref.entry, ['command', 'url'])) {
      // With a typo (`comand`) the unknown-field issue already says what is wrong; saying it twice is noise.
      at(ref.segments, 'needs "command" (a local stdio server) or "url" (a remote server)');
    } else if (type === 'stdio' && hasUrl) {
      at([...ref.segments, 'type'], 'type "stdio" needs "command", not "url"');
    } else if (typeof type === 'string' && type !== 'stdio' && hasCommand) {
      at([...ref.segments, 'type'], `type "${type}" needs "url", not "command"`);
    } else if (ref.entry['oauth'] !== undefined && ref.entry['oauth'] !== false && hasUrl) {
      if (inferTransport(ref.entry as ServerEntry) === 'sse') {
        at([...ref.segments, 'oauth'], 'OAuth sign-in needs a Streamable HTTP server; this one speaks SSE');
      }
    }
    if (ref.entry['oauth'] !== undefined && hasCommand && !hasUrl) {
      at([...ref.segments, 'oauth'], 'oauth is for remote servers (url); a stdio server gets its tokens from env');
    }
  }
  issues.push(...checkAccessSemantics(data, listServerEntries(data)));
  return issues;
}

function hasTypoOf(entry: Record<string, unknown>, fields: string[]): boolean {
  return Object.keys(entry).some((key) => !(key in NamedServerEntrySchema.shape) && suggest(key, fields) !== undefined);
}

/**
 * Maps a validated file (whichever of the three shapes) to the internal model, applying every default.
 * It expects `checkConfigSemantics` to have passed. `cwd` is left unset when absent: relative `command`,
 * `args` and `cwd` then resolve against the gateway's working directory, as they would in a shell.
 *
 * @example normalizeConfig({ mcpServers: { fs: { command: 'npx' } } }).servers[0]?.transport // 'stdio'
 */
export function normalizeConfig(file: ParsedConfigFile, path?: string): GatewayConfig {
  const refs = listServerEntries(file);
  const servers = refs.map((ref) => toServerConfig(ref.name, ref.entry as ServerEntry, file.restart, file.naming));
  const shape = Array.isArray(file.servers)
    ? 'v1'
    : file.servers !== undefined
      ? 'v2'
      : file.mcpServers !== undefined
        ? 'mcpServers'
        : 'empty';
  const config: GatewayConfig = {
    servers,
    mode: file.mode ?? 'direct',
    namespaces: file.namespaces ?? {},
    sandbox: file.sandbox ?? {},
    manifests: file.manifests ?? {},
    pinning: toPinningConfig(file.pinning, path),
    source: path === undefined ? { shape } : { path, shape },
  };
  // Access settings are only set when present, so a plain config normalises to exactly what it did before.
  if (file.auth !== undefined) config.auth = toAuthConfig(file.auth, path);
  if (file.tls !== undefined) {
    config.tls = { certPath: besideConfig(file.tls.cert, path), keyPath: besideConfig(file.tls.key, path) };
  }
  if (file.audit !== undefined) config.audit = { path: besideConfig(file.audit.path, path) };
  if (file.upstream_oauth !== undefined) config.upstreamOAuth = toUpstreamOAuthSettings(file.upstream_oauth, path);
  if (file.rate_limit !== undefined) config.rateLimitPerMinute = file.rate_limit.requests_per_minute;
  if (file.sessions !== undefined) config.sessions = toSessionLimits(file.sessions);
  if (file.state !== undefined) {
    config.state =
      file.state.store === 'redis'
        ? { store: 'redis', url: file.state.url!, keyPrefix: file.state.key_prefix ?? 'mcproxy:' }
        : { store: 'memory' };
  }
  if (file.allowed_origins !== undefined) config.allowedOrigins = file.allowed_origins;
  if (file.allowed_hosts !== undefined) config.allowedHosts = file.allowed_hosts;
  if (file.trusted_proxies !== undefined) config.trustedProxies = file.trusted_proxies;
  if (file.tracing !== undefined) {
    config.tracing = {
      endpoint: file.tracing.endpoint,
      headers: file.tracing.headers ?? {},
      serviceName: file.tracing.service_name ?? 'mcproxy',
      sampleRatio: file.tracing.sample_ratio ?? 1,
    };
  }
  if (file.page_size !== undefined) config.pageSize = file.page_size;
  resolveScopes(
    config,
    refs.map((ref) => (ref.entry as ServerEntry).scope),
    file.scope,
  );
  return config;
}

/** How separate each scope keeps clients, for a server whose namespaces disagree: the most separate wins. */
const SEPARATION: Record<ServerScope, number> = { shared: 0, credential: 1, session: 2 };

/**
 * A server's scope: its own, else the scope its namespaces set (inherited along `extends`; when several of
 * its namespaces disagree, the most separate), else the top-level `scope`, else `shared` for a stdio server
 * and `session` for a remote one, which then keeps one upstream MCP session per client session.
 */
function resolveScopes(config: GatewayConfig, own: (ServerScope | undefined)[], top: ServerScope | undefined): void {
  const table = resolveNamespaces(config);
  config.servers.forEach((server, index) => {
    const explicit = own[index];
    if (explicit !== undefined) {
      server.scope = explicit;
      return;
    }
    const fromNamespaces = [...table.byName.values()]
      .filter((ns) => ns.own.has(server.name) && ns.scope !== undefined)
      .map((ns) => ns.scope!)
      .sort((a, b) => SEPARATION[b] - SEPARATION[a])[0];
    server.scope = fromNamespaces ?? top ?? (server.transport === 'stdio' ? 'shared' : 'session');
  });
}

function toSessionLimits(sessions: NonNullable<ParsedConfigFile['sessions']>): NonNullable<GatewayConfig['sessions']> {
  return {
    ...(sessions.max === undefined ? {} : { max: sessions.max }),
    ...(sessions.max_per_client === undefined ? {} : { maxPerClient: sessions.max_per_client }),
    ...(sessions.idle_timeout === undefined ? {} : { idleTimeoutMs: sessions.idle_timeout * 1000 }),
  };
}

function toAuthConfig(auth: NonNullable<ParsedConfigFile['auth']>, path: string | undefined): AuthConfig {
  const tokens = (auth.tokens ?? []).map((entry) => ({
    id: entry.id,
    token: entry.token,
    ...(entry.namespaces === undefined ? {} : { namespaces: entry.namespaces }),
    tools: { ...entry.tools },
    ...(entry.rate_limit === undefined ? {} : { rateLimitPerMinute: entry.rate_limit.requests_per_minute }),
    ...(entry.roles === undefined ? {} : { roles: entry.roles }),
    upstreams: Object.fromEntries(
      Object.entries(entry.upstreams ?? {}).map(([server, identity]) => [
        server,
        { env: identity.env ?? {}, headers: identity.headers ?? {} },
      ]),
    ),
  }));
  return {
    tokens,
    apiKeyHeader: (auth.api_key_header ?? DEFAULT_API_KEY_HEADER).toLowerCase(),
    // Configuring credentials closes the gateway unless a namespace (or this flag) opens it again.
    requireAuth: auth.require_auth ?? (tokens.length > 0 || auth.oauth !== undefined),
    ...(auth.oauth === undefined ? {} : { oauth: toOAuthConfig(auth.oauth, (file) => besideConfig(file, path)) }),
  };
}

/**
 * Pinning is on (`warn`) by default; its state file sits beside the config as `<config name>.pins.json`, so a
 * config without a file (embedding) keeps its pins in memory only.
 */
function toPinningConfig(file: ParsedConfigFile['pinning'], path: string | undefined): PinningConfig {
  const entry = typeof file === 'string' ? { mode: file } : (file ?? {});
  const mode = entry.mode ?? 'warn';
  if (mode === 'off') return { mode };
  if (entry.state_file !== undefined) return { mode, stateFile: besideConfig(entry.state_file, path) };
  if (path === undefined) return { mode };
  const name = basename(path, extname(path));
  return { mode, stateFile: join(dirname(resolvePath(path)), `${name}.pins.json`) };
}

/** Files named by the config (TLS, audit) are found beside it, so a service finds them whatever its cwd. */
function besideConfig(file: string, configPath: string | undefined): string {
  if (isAbsolute(file)) return file;
  return configPath === undefined ? resolvePath(file) : resolvePath(dirname(configPath), file);
}

function toServerConfig(
  name: string,
  entry: ServerEntry,
  topRestart: RestartSettings | undefined,
  naming: ParsedConfigFile['naming'],
): ServerConfig {
  const server: ServerConfig = {
    name,
    transport: inferTransport(entry),
    args: entry.args ?? [],
    env: entry.env ?? {},
    headers: entry.headers ?? {},
    startTimeoutMs: toMs(entry.timeout) ?? DEFAULT_START_TIMEOUT_MS,
    toolTimeoutMs: toMs(entry.tool_timeout) ?? DEFAULT_TOOL_TIMEOUT_MS,
    enabled: entry.enabled ?? (entry.disabled === undefined ? true : !entry.disabled),
    prefix: entry.prefix ?? name,
    lazy: entry.lazy ?? false,
    tools: {},
    restart: restartPolicy(entry.restart, topRestart),
    // Resolved with the namespaces once every server is known (resolveScopes).
    scope: 'shared',
    maxInstances: entry.max_instances ?? DEFAULT_MAX_INSTANCES,
    roots: (entry.roots ?? []).map((root) => ({
      uri: root.uri,
      ...(root.name === undefined ? {} : { name: root.name }),
    })),
  };
  // Optional fields are only set when present, so a normalised config compares and prints cleanly.
  if (entry.command !== undefined) server.command = entry.command;
  if (entry.cwd !== undefined) server.cwd = entry.cwd;
  if (entry.url !== undefined) server.url = entry.url;
  if (entry.namespace !== undefined) server.namespace = entry.namespace;
  if (entry.description !== undefined) server.description = entry.description;
  if (entry.idle_timeout !== undefined) server.idleTimeoutMs = toMs(entry.idle_timeout);
  if (entry.tools?.allow !== undefined) server.tools.allow = entry.tools.allow;
  if (entry.tools?.deny !== undefined) server.tools.deny = entry.tools.deny;
  if (naming !== undefined) {
    server.naming = {
      maxLength: naming.max_length ?? DEFAULT_TOOL_NAMING.maxLength,
      allowDots: naming.allow_dots ?? DEFAULT_TOOL_NAMING.allowDots,
    };
  }
  if (entry.oauth !== undefined) server.oauth = toUpstreamOAuth(entry.oauth);
  if (entry.era === 'legacy') server.era = 'legacy';
  return server;
}

function toUpstreamOAuth(oauth: NonNullable<ServerEntry['oauth']>): UpstreamOAuthConfig {
  if (typeof oauth === 'boolean') return { enabled: oauth };
  return {
    enabled: true,
    ...(oauth.client_id === undefined ? {} : { clientId: oauth.client_id }),
    ...(oauth.client_secret === undefined ? {} : { clientSecret: oauth.client_secret }),
    ...(oauth.scopes === undefined ? {} : { scopes: oauth.scopes }),
  };
}

function toUpstreamOAuthSettings(
  settings: NonNullable<ParsedConfigFile['upstream_oauth']>,
  path: string | undefined,
): NonNullable<GatewayConfig['upstreamOAuth']> {
  return {
    ...(settings.state_file === undefined ? {} : { stateFile: besideConfig(settings.state_file, path) }),
    ...(settings.public_url === undefined ? {} : { publicUrl: new URL(settings.public_url).origin }),
  };
}

/** `command` means stdio; a url means Streamable HTTP unless the type says SSE or the path ends in `/sse`. */
export function inferTransport(entry: Pick<ServerEntry, 'command' | 'url' | 'type'>): ServerTransport {
  if (entry.type === 'sse') return 'sse';
  if (entry.type === 'stdio' || (entry.type === undefined && entry.command !== undefined)) return 'stdio';
  if (entry.type === undefined && entry.url !== undefined && isSsePath(entry.url)) return 'sse';
  return 'http';
}

function isSsePath(url: string): boolean {
  try {
    return new URL(url).pathname.replace(/\/+$/, '').endsWith('/sse');
  } catch {
    return false;
  }
}

function restartPolicy(own: RestartSettings | undefined, top: RestartSettings | undefined): RestartPolicy {
  return {
    maxAttempts: own?.max_attempts ?? top?.max_attempts ?? DEFAULT_RESTART_POLICY.maxAttempts,
    backoffBaseMs: toMs(own?.backoff_base ?? top?.backoff_base) ?? DEFAULT_RESTART_POLICY.backoffBaseMs,
    backoffMaxMs: toMs(own?.backoff_max ?? top?.backoff_max) ?? DEFAULT_RESTART_POLICY.backoffMaxMs,
    stableAfterMs: toMs(own?.stable_after ?? top?.stable_after) ?? DEFAULT_RESTART_POLICY.stableAfterMs,
  };
}

function toMs<T extends number | undefined>(seconds: T): T extends number ? number : number | undefined;
function toMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : Math.round(seconds * 1000);
}
