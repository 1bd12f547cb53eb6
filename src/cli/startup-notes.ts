import { isIP } from 'node:net';

import { DEFAULT_NAMESPACE, resolveNamespaces } from '../access/namespaces.js';
import type { GatewayConfig } from '../config/model.js';
import type { Gateway } from '../gateway.js';
import type { Logger } from '../observability/log.js';

/** The first "still starting" note comes after this long, then one every STARTUP_NOTE_EVERY_MS. */
const STARTUP_NOTE_AFTER_MS = 5_000;
const STARTUP_NOTE_EVERY_MS = 10_000;

/**
 * A warning when the gateway listens beyond loopback and some endpoint needs no credential, naming those
 * endpoints; undefined when the address is loopback or every namespace requires auth.
 *
 * @example exposureWarning('0.0.0.0', configWithoutAuth) // 'listening on 0.0.0.0 without authentication: …'
 */
export function exposureWarning(host: string, config: GatewayConfig): string | undefined {
  if (isLoopback(host)) return undefined;
  const open = [...resolveNamespaces(config).byName.values()].filter((namespace) => !namespace.requireAuth);
  if (open.length === 0) return undefined;
  const endpoints = open.map((namespace) =>
    namespace.name === DEFAULT_NAMESPACE ? '/mcp and /sse' : `/ns/${namespace.name}/mcp`,
  );
  return (
    `listening on ${host} without authentication: anyone who can reach this address can use ` +
    `${endpoints.join(', ')} and every tool behind them; set auth.tokens in the config (docs/security.md), ` +
    `or bind 127.0.0.1`
  );
}

/**
 * While the servers start, says every few seconds which are still starting: a cold `npx -y` download can take
 * many seconds, and silence looks like a hang. Stops when `startup` settles; the timer never holds the process.
 */
export function watchStartup(gateway: Gateway, startup: Promise<unknown>, log: Logger): void {
  const startedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const note = () => {
    const waiting = gateway.listServers().filter((upstream) => upstream.state === 'starting');
    if (waiting.length > 0) {
      const seconds = Math.round((Date.now() - startedAt) / 1000);
      const names = waiting.map((upstream) => `${upstream.name} (up to ${upstream.config.startTimeoutMs / 1000} s)`);
      const npx = waiting.some((upstream) => /(^|\/)(npx|uvx|bunx|pnpx)$/.test(upstream.config.command ?? ''));
      log.info(
        { notice: true },
        `still starting after ${seconds} s: ${names.join(', ')}${npx ? '; a first npx/uvx run downloads the package' : ''}`,
      );
    }
    timer = setTimeout(note, STARTUP_NOTE_EVERY_MS);
    timer.unref();
  };
  timer = setTimeout(note, STARTUP_NOTE_AFTER_MS);
  timer.unref();
  void startup.finally(() => clearTimeout(timer)).catch(() => {});
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}
