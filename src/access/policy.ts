import type { CatalogTool } from '../catalog/types.js';
import type { GatewayConfig } from '../config/model.js';
import type { Mode, SandboxSettings } from '../config/schema.js';
import type { SessionScope } from '../relay/catalog-view.js';
import type { AuditLog } from './audit.js';
import { type Credential, credentialsOf } from './credentials.js';
import { DEFAULT_NAMESPACE, type ResolvedNamespace, resolveNamespaces } from './namespaces.js';
import { createServerToolFilter } from './tool-filter.js';

/** Who is asking. A local (stdio) client may use everything; HTTP clients are anonymous or hold a credential. */
export type Principal =
  | { kind: 'local' }
  | { kind: 'anonymous'; address?: string }
  | { kind: 'credential'; credential: Credential; address?: string };

/** Where the client connected: the gateway endpoint, a namespace's, or one server's. */
export type Endpoint = { kind: 'gateway' } | { kind: 'namespace'; name: string } | { kind: 'server'; name: string };

export interface GrantRequest {
  principal: Principal;
  endpoint: Endpoint;
  /** Whether the request's origin passes a namespace's `allowed_origins` (HTTP only; all pass when absent). */
  originAllowed?: (allowedOrigins: readonly string[] | undefined) => boolean;
  /** The endpoint path or "stdio", for the audit log. */
  via: string;
  audit?: AuditLog;
}

/** What a client gets: the scope of its session, whom the session belongs to and its rate limit. */
export interface AccessGrant {
  scope: SessionScope;
  /** Requests on the session must come from the same owner: `anonymous`, `local` or `credential:<id>`. */
  owner: string;
  credential?: Credential;
  /** The names of the namespaces granted (`""` for the servers in none). */
  namespaces: string[];
  rateLimit?: { key: string; perMinute: number };
}

export type GrantResult = { ok: true; grant: AccessGrant } | { ok: false; status: 401 | 403 | 404; message: string };

/**
 * Decides what a client may see, from its credential and the endpoint only (a tool's `namespace` argument can
 * narrow the result later, never widen it):
 * - anonymous: the namespaces that do not require auth (servers in none count as one);
 * - a credential: its `namespaces` (all but isolated ones when absent) plus what anonymous clients get;
 * - local (stdio): everything;
 * - a namespace endpoint narrows to that namespace, a server endpoint to that server;
 * - a namespace whose `allowed_origins` refuse the request's Origin drops out.
 *
 * @example
 * const result = grantAccess(config, { principal: { kind: 'anonymous' }, endpoint: { kind: 'gateway' }, via: '/mcp' });
 * if (result.ok) gateway.createSession('streamable-http', result.grant.scope);
 */
export function grantAccess(config: GatewayConfig, request: GrantRequest): GrantResult {
  const table = resolveNamespaces(config);
  const { principal, endpoint } = request;
  const all = [...table.byName.values()];
  const open = all.filter((ns) => !ns.requireAuth);
  let allowed: ResolvedNamespace[];
  if (principal.kind === 'local') allowed = all;
  else if (principal.kind === 'anonymous') allowed = open;
  else {
    const named = principal.credential.config.namespaces;
    const own = named === undefined ? all.filter((ns) => !ns.isolated) : all.filter((ns) => named.includes(ns.name));
    allowed = all.filter((ns) => own.includes(ns) || open.includes(ns));
  }

  let candidates: ResolvedNamespace[];
  if (endpoint.kind === 'namespace') {
    const target = endpoint.name === DEFAULT_NAMESPACE ? undefined : table.byName.get(endpoint.name);
    if (!target) return { ok: false, status: 404, message: `Not found: no namespace "${endpoint.name}"` };
    if (!allowed.includes(target)) return refuse(principal, `namespace "${endpoint.name}"`);
    candidates = [target];
  } else if (endpoint.kind === 'server') {
    if (!config.servers.some((server) => server.name === endpoint.name && server.enabled)) {
      return { ok: false, status: 404, message: `Not found: no server "${endpoint.name}"` };
    }
    candidates = allowed.filter((ns) => ns.servers.has(endpoint.name));
    if (candidates.length === 0) return refuse(principal, `server "${endpoint.name}"`);
  } else {
    candidates = allowed;
    if (candidates.length === 0) return refuse(principal, 'this gateway');
  }

  const { originAllowed } = request;
  const granted = originAllowed ? candidates.filter((ns) => originAllowed(ns.allowedOrigins)) : candidates;
  if (granted.length === 0) {
    const where = endpoint.kind === 'gateway' ? 'this gateway' : `${endpoint.kind} "${endpoint.name}"`;
    return { ok: false, status: 403, message: `Forbidden: this Origin may not use ${where}` };
  }

  const credential = principal.kind === 'credential' ? principal.credential : undefined;
  const scope = scopeOf(config, granted, endpoint, credential);
  const owner = principal.kind === 'credential' ? `credential:${principal.credential.id}` : principal.kind;
  if (request.audit) scope.onToolCall = auditHook(request, granted, credential);
  const grant: AccessGrant = {
    scope,
    owner,
    namespaces: granted.map((ns) => ns.name),
    ...(credential ? { credential } : {}),
  };
  const perMinute = minimum([credential?.config.rateLimitPerMinute, ...granted.map((ns) => ns.rateLimitPerMinute)]);
  if (perMinute !== undefined && principal.kind !== 'local') {
    // One budget per credential (or client address) across every endpoint: more endpoints give no more requests.
    const who = credential ? `credential:${credential.id}` : `address:${principal.address ?? 'unknown'}`;
    grant.rateLimit = { key: who, perMinute };
  }
  return { ok: true, grant };
}

/**
 * The same request judged again under a reloaded config: a credential is looked up anew by its id and token
 * (its namespaces and rules may have changed; a credential that is gone is 401). Open sessions follow reloads
 * through this, so a narrowed credential loses access at once.
 *
 * @example const again = regrantAccess(nextConfig, request); if (!again.ok) session.close();
 */
export function regrantAccess(config: GatewayConfig, request: GrantRequest): GrantResult {
  const { principal } = request;
  if (principal.kind !== 'credential') return grantAccess(config, request);
  const credential = credentialsOf(config).find(principal.credential);
  if (!credential)
    return { ok: false, status: 401, message: `credential "${principal.credential.id}" is no longer valid` };
  return grantAccess(config, { ...request, principal: { ...principal, credential } });
}

/** A regrant as a session takes it: its new scope, or why it has none left. */
export function reauthorization(
  result: GrantResult,
): { ok: true; scope: SessionScope } | { ok: false; message: string } {
  return result.ok ? { ok: true, scope: result.grant.scope } : { ok: false, message: result.message };
}

/** A one-line description of a grant for logs: `alice → public, crypto`. */
export function describeGrant(grant: AccessGrant): string {
  const names = grant.namespaces.map((name) => (name === DEFAULT_NAMESPACE ? '(no namespace)' : name));
  return `${grant.credential ? grant.credential.id : grant.owner} → ${names.join(', ')}`;
}

function refuse(principal: Principal, what: string): GrantResult {
  if (principal.kind === 'credential') {
    return {
      ok: false,
      status: 403,
      message: `Forbidden: credential "${principal.credential.id}" may not use ${what}`,
    };
  }
  return {
    ok: false,
    status: 401,
    message: `Unauthorized: ${what} needs a credential (Authorization: Bearer <token>)`,
  };
}

function scopeOf(
  config: GatewayConfig,
  granted: ResolvedNamespace[],
  endpoint: Endpoint,
  credential: Credential | undefined,
): SessionScope {
  const servers = new Set<string>();
  for (const ns of granted) for (const server of ns.servers) servers.add(server);
  const hasRules = credential?.config.tools.allow || credential?.config.tools.deny || granted.some((ns) => ns.tools);
  const scope: SessionScope = {};
  const everything = config.servers.every((server) => servers.has(server.name));
  if (!everything || endpoint.kind === 'server') scope.servers = servers;
  if (hasRules) scope.allowTool = toolRule(granted, credential);
  if (endpoint.kind === 'server') {
    scope.single = endpoint.name;
    scope.servers = new Set([endpoint.name]);
    scope.mode = 'direct';
    scope.label = `server:${endpoint.name}`;
    return scope;
  }
  const mode = common(granted.map((ns) => ns.mode));
  if (mode !== undefined) scope.mode = mode;
  // Only a namespace's own sandbox is pinned; otherwise Code Mode reads the config's, reloads included.
  const sandbox = commonSandbox(granted.map((ns) => ns.sandbox));
  if (sandbox !== undefined && JSON.stringify(sandbox) !== JSON.stringify(config.sandbox)) scope.sandbox = sandbox;
  const named = granted.filter((ns) => ns.name !== DEFAULT_NAMESPACE);
  if (endpoint.kind === 'namespace') scope.label = endpoint.name;
  else if (granted.length === 1 && named.length === 1) scope.label = named[0]!.name;
  return scope;
}

/** A tool is usable when the credential's rules allow it and so do those of a granted namespace holding its server. */
function toolRule(granted: ResolvedNamespace[], credential: Credential | undefined): (tool: CatalogTool) => boolean {
  const byCredential = createServerToolFilter(credential?.config.tools);
  const byNamespace = granted.map((ns) => ({ servers: ns.servers, allows: createServerToolFilter(ns.tools) }));
  return function isToolGranted(tool: CatalogTool): boolean {
    const { server, originalName } = tool;
    if (!byCredential(server, originalName)) return false;
    return byNamespace.some((ns) => ns.servers.has(server) && ns.allows(server, originalName));
  };
}

function auditHook(
  request: GrantRequest,
  granted: ResolvedNamespace[],
  credential: Credential | undefined,
): NonNullable<SessionScope['onToolCall']> {
  const { audit, principal, via } = request;
  const address = principal.kind === 'local' ? undefined : principal.address;
  return function auditToolCall(server, tool) {
    const started = performance.now();
    const namespace = granted.find((ns) => ns.servers.has(server))?.name;
    return (outcome) =>
      audit?.record({
        time: new Date().toISOString(),
        credential: credential?.id ?? null,
        namespace: namespace === undefined || namespace === DEFAULT_NAMESPACE ? null : namespace,
        server,
        tool,
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
        outcome,
        endpoint: via,
        ...(address === undefined ? {} : { address }),
        ...(credential?.oauth?.clientId === undefined ? {} : { client_id: credential.oauth.clientId }),
      });
  };
}

function common(values: (Mode | undefined)[]): Mode | undefined {
  const first = values[0];
  return first !== undefined && values.every((value) => value === first) ? first : undefined;
}

function commonSandbox(values: SandboxSettings[]): SandboxSettings | undefined {
  const first = values[0];
  if (first === undefined) return undefined;
  const text = JSON.stringify(first);
  return values.every((value) => JSON.stringify(value) === text) ? first : undefined;
}

function minimum(values: (number | undefined)[]): number | undefined {
  const defined = values.filter((value): value is number => value !== undefined);
  return defined.length === 0 ? undefined : Math.min(...defined);
}
