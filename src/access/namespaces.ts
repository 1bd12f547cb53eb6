import type { GatewayConfig } from '../config/model.js';
import type { Mode, NamespaceObject, SandboxSettings, Scope } from '../config/schema.js';
import type { ToolFilterRules } from './tool-filter.js';

/** The servers in no namespace, as a namespace of their own; no configured name can be empty. */
export const DEFAULT_NAMESPACE = '';

/**
 * One namespace with inheritance applied. Settings come from the namespace itself, then its parents nearest
 * first (an `extends` list in its order, breadth first), then the defaults (top-level settings, `auth`).
 */
export interface ResolvedNamespace {
  name: string;
  /** Its own servers: those it lists and those naming it in their `namespace`. */
  own: ReadonlySet<string>;
  /** Its own servers and every ancestor's. */
  servers: ReadonlySet<string>;
  /** Itself, then its ancestors nearest first. */
  lineage: readonly string[];
  isolated: boolean;
  /** Needs a credential; always true when isolated; see `requiresAuth` for inheritance. */
  requireAuth: boolean;
  /** Origins accepted; absent: the gateway's rule (loopback, the addressed host, top-level `allowed_origins`). */
  allowedOrigins?: readonly string[];
  rateLimitPerMinute?: number;
  /** The top-level sandbox with every level's fields laid over it. */
  sandbox: SandboxSettings;
  /** Absent: the gateway's mode. */
  mode?: Mode;
  tools?: ToolFilterRules;
  /** Default scope of its servers; absent: the top level's. */
  scope?: Scope;
}

export interface NamespaceTable {
  /** Every namespace by name, the default namespace (servers in none) included under `DEFAULT_NAMESPACE`. */
  readonly byName: ReadonlyMap<string, ResolvedNamespace>;
  /** Configured namespaces, in file order (declared, then those only servers name). */
  readonly names: readonly string[];
}

const tables = new WeakMap<GatewayConfig, NamespaceTable>();

/**
 * Resolves every namespace of a config (cached per config object). Expects a validated config: unknown
 * parents are ignored and a cycle cannot occur (both are config errors).
 *
 * @example resolveNamespaces(config).byName.get('crypto')?.servers // Set { 'covalent', 'playwright', ... }
 */
export function resolveNamespaces(config: GatewayConfig): NamespaceTable {
  const cached = tables.get(config);
  if (cached) return cached;
  const entries = new Map<string, NamespaceObject>();
  for (const [name, entry] of Object.entries(config.namespaces)) {
    entries.set(name, Array.isArray(entry) ? { servers: entry } : entry);
  }
  for (const server of config.servers) {
    if (server.namespace !== undefined && !entries.has(server.namespace)) entries.set(server.namespace, {});
  }
  const own = new Map<string, Set<string>>([...entries.keys()].map((name) => [name, new Set<string>()]));
  const assigned = new Set<string>();
  for (const [name, entry] of entries) {
    for (const server of entry.servers ?? []) {
      own.get(name)?.add(server);
      assigned.add(server);
    }
  }
  for (const server of config.servers) {
    if (server.namespace === undefined) continue;
    own.get(server.namespace)?.add(server.name);
    assigned.add(server.name);
  }
  const defaults: Defaults = {
    requireAuth: config.auth?.requireAuth ?? false,
    sandbox: config.sandbox,
    ...(config.rateLimitPerMinute === undefined ? {} : { rateLimitPerMinute: config.rateLimitPerMinute }),
  };

  const byName = new Map<string, ResolvedNamespace>();
  for (const name of entries.keys()) byName.set(name, resolveOne(name, entries, own, defaults));
  byName.set(DEFAULT_NAMESPACE, {
    name: DEFAULT_NAMESPACE,
    own: new Set(config.servers.map((server) => server.name).filter((server) => !assigned.has(server))),
    servers: new Set(config.servers.map((server) => server.name).filter((server) => !assigned.has(server))),
    lineage: [DEFAULT_NAMESPACE],
    isolated: false,
    requireAuth: defaults.requireAuth,
    sandbox: defaults.sandbox,
    ...(defaults.rateLimitPerMinute === undefined ? {} : { rateLimitPerMinute: defaults.rateLimitPerMinute }),
  });
  const table = { byName, names: [...entries.keys()] };
  tables.set(config, table);
  return table;
}

/**
 * Servers of a namespace: its own and its ancestors'. An unknown namespace has no servers.
 *
 * @example serversOfNamespace(config, 'crypto').has('wikipedia') // true when crypto extends public
 */
export function serversOfNamespace(config: GatewayConfig, namespace: string): Set<string> {
  if (namespace === DEFAULT_NAMESPACE) return new Set();
  return new Set(resolveNamespaces(config).byName.get(namespace)?.servers ?? []);
}

/** Whether a namespace of this name is configured (declared, or named by a server). */
export function hasNamespace(config: GatewayConfig, namespace: string): boolean {
  return namespace !== DEFAULT_NAMESPACE && resolveNamespaces(config).byName.has(namespace);
}

interface Defaults {
  requireAuth: boolean;
  sandbox: SandboxSettings;
  rateLimitPerMinute?: number;
}

function parentsOf(entry: NamespaceObject | undefined): string[] {
  const value = entry?.extends;
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value : [];
}

function resolveOne(
  name: string,
  entries: Map<string, NamespaceObject>,
  own: Map<string, Set<string>>,
  defaults: Defaults,
): ResolvedNamespace {
  // Breadth first: a parent's settings win over a grandparent's, and `extends: [a, b]` prefers a over b.
  const lineage: string[] = [];
  const queue = [name];
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (lineage.includes(next) || !entries.has(next)) continue;
    lineage.push(next);
    queue.push(...parentsOf(entries.get(next)));
  }
  const levels = lineage.map((level) => entries.get(level) ?? {});
  const first = <K extends keyof NamespaceObject>(key: K): NamespaceObject[K] =>
    levels.find((level) => level[key] !== undefined)?.[key];

  const servers = new Set<string>();
  for (const level of lineage) for (const server of own.get(level) ?? []) servers.add(server);
  const isolated = entries.get(name)?.isolated === true;
  const rateLimit = first('rate_limit')?.requests_per_minute ?? defaults.rateLimitPerMinute;
  const allowedOrigins = first('allowed_origins');
  const mode = first('mode');
  const tools = first('tools');
  const scope = first('scope');
  return {
    name,
    own: own.get(name) ?? new Set(),
    servers,
    lineage,
    isolated,
    requireAuth: isolated || requiresAuth(levels, defaults.requireAuth),
    sandbox: mergeSandbox(defaults.sandbox, [...levels].reverse()),
    ...(allowedOrigins === undefined ? {} : { allowedOrigins }),
    ...(rateLimit === undefined ? {} : { rateLimitPerMinute: rateLimit }),
    ...(mode === undefined ? {} : { mode }),
    ...(tools === undefined ? {} : { tools }),
    ...(scope === undefined ? {} : { scope }),
  };
}

/**
 * `require_auth` of a namespace: its own value when it sets one, else true when an ancestor requires auth,
 * else the default. A parent can close its children but never open them: `require_auth: false` opens only
 * the namespace that says so, so extending an open namespace does not make a private one public.
 */
function requiresAuth(levels: NamespaceObject[], fallback: boolean): boolean {
  const [own, ...ancestors] = levels;
  if (own?.require_auth !== undefined) return own.require_auth;
  if (ancestors.some((level) => level.require_auth === true)) return true;
  return fallback;
}

/** Lays each level's sandbox fields over the previous ones, farthest ancestor first; `network` field by field. */
function mergeSandbox(base: SandboxSettings, farthestFirst: NamespaceObject[]): SandboxSettings {
  let merged: SandboxSettings = { ...base };
  for (const level of farthestFirst) {
    const sandbox = level.sandbox;
    if (!sandbox) continue;
    const network = merged.network || sandbox.network ? { ...merged.network, ...sandbox.network } : undefined;
    merged = { ...merged, ...sandbox, ...(network ? { network } : {}) };
  }
  return merged;
}
