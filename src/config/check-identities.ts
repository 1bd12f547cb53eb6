import { type ConfigIssue, formatPath } from './issues.js';
import type { GatewayConfig } from './model.js';

/**
 * A credential's own values for a server (`auth.tokens[].upstreams`) are used by the instances started for that
 * credential, so they need a server that exists and whose scope starts instances per user: a shared server has
 * one instance for everyone, and one user's token in it would serve every other user.
 */
export function checkUpstreamIdentities(config: GatewayConfig, data: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const servers = new Map(config.servers.map((server) => [server.name, server]));
  config.auth?.tokens.forEach((credential, index) => {
    for (const name of Object.keys(credential.upstreams)) {
      const path = formatPath(['auth', 'tokens', index, 'upstreams', name], data);
      const server = servers.get(name);
      if (!server) {
        issues.push({ path, message: `unknown server "${name}"` });
      } else if (server.scope === 'shared') {
        issues.push({
          path,
          message: `server "${name}" is shared by every client, so it cannot use one credential's values; give it scope "credential" or "session"`,
        });
      }
    }
  });
  return issues;
}
