import type { GatewayConfig } from '../config/model.js';

/**
 * Servers of a namespace: those it lists (shorthand list or `servers`) and those whose own `namespace`
 * names it. An unknown namespace has no servers.
 */
export function serversOfNamespace(config: GatewayConfig, namespace: string): Set<string> {
  const servers = new Set<string>();
  const entry = config.namespaces[namespace];
  const listed = Array.isArray(entry) ? entry : (entry?.servers ?? []);
  for (const name of listed) servers.add(name);
  for (const server of config.servers) if (server.namespace === namespace) servers.add(server.name);
  return servers;
}
