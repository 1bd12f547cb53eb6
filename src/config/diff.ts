import type { GatewayConfig, ServerConfig } from './model.js';

export interface ConfigDiff {
  /** In the new config only, in its order. */
  added: ServerConfig[];
  /** In the old config only (the old entries), in its order. */
  removed: ServerConfig[];
  /** A field that needs a new process or connection differs (`RESTART_FIELDS`); the new entries. */
  changed: ServerConfig[];
  /** Only fields that apply without a restart differ (filters, timeouts, prefix...); the new entries. */
  reconfigured: ServerConfig[];
  /** Identical in both; the new entries. */
  unchanged: ServerConfig[];
  /** Top-level sections that differ, in a fixed order. */
  globalChanged: GlobalSection[];
}

export type GlobalSection =
  | 'mode'
  | 'namespaces'
  | 'sandbox'
  | 'manifests'
  | 'auth'
  | 'tls'
  | 'audit'
  | 'rateLimitPerMinute'
  | 'sessions'
  | 'allowedOrigins'
  | 'allowedHosts'
  | 'trustedProxies'
  | 'pageSize'
  | 'tracing'
  | 'pinning'
  | 'state';

const GLOBAL_SECTIONS: readonly GlobalSection[] = [
  'mode',
  'namespaces',
  'sandbox',
  'manifests',
  'auth',
  'tls',
  'audit',
  'rateLimitPerMinute',
  'sessions',
  'allowedOrigins',
  'allowedHosts',
  'trustedProxies',
  'pageSize',
  'tracing',
  'pinning',
  'state',
];

/**
 * What the running process or connection of a server was made from. `enabled`, `lazy` and `scope` are here
 * because changing them means starting or stopping instances, which the supervisor does on the restart path.
 */
export const RESTART_FIELDS: readonly (keyof ServerConfig)[] = [
  'transport',
  'command',
  'args',
  'env',
  'cwd',
  'url',
  'headers',
  'enabled',
  'lazy',
  'scope',
  'era',
];

/**
 * Compares two configs server by server (by name) and section by section. Pure; the result lists the new
 * `ServerConfig` objects for everything still present, so the caller can swap them in.
 *
 * @example diffConfigs(old, next).changed.map((server) => server.name) // ['github']
 */
export function diffConfigs(old: GatewayConfig, next: GatewayConfig): ConfigDiff {
  const oldByName = new Map(old.servers.map((server) => [server.name, server]));
  const nextNames = new Set(next.servers.map((server) => server.name));
  const diff: ConfigDiff = { added: [], removed: [], changed: [], reconfigured: [], unchanged: [], globalChanged: [] };
  for (const server of next.servers) {
    const before = oldByName.get(server.name);
    if (before === undefined) diff.added.push(server);
    else if (RESTART_FIELDS.some((field) => !isDeepEqual(before[field], server[field]))) diff.changed.push(server);
    else if (!isDeepEqual(before, server)) diff.reconfigured.push(server);
    else diff.unchanged.push(server);
  }
  diff.removed = old.servers.filter((server) => !nextNames.has(server.name));
  diff.globalChanged = GLOBAL_SECTIONS.filter((section) => !isDeepEqual(old[section], next[section]));
  return diff;
}

/** True when a diff has nothing to apply. */
export function isEmptyDiff(diff: ConfigDiff): boolean {
  return (
    diff.added.length + diff.removed.length + diff.changed.length + diff.reconfigured.length === 0 &&
    diff.globalChanged.length === 0
  );
}

/** Structural equality of JSON-like values. Key order is ignored and a key set to undefined counts as absent. */
export function isDeepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => isDeepEqual(item, b[index]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  for (const key of keys) if (!isDeepEqual(left[key], right[key])) return false;
  return true;
}
