import { createMetaTools } from '../codemode/meta-tools.js';
import { SandboxPool } from '../codemode/sandbox-pool.js';
import { resolveSandboxLimits } from '../codemode/settings.js';
import { createCodeModeTools, type GatewayToolSet } from '../codemode/tools.js';
import type { Gateway } from '../gateway.js';
import type { ClientSession } from '../relay/client-session.js';
import { createSessionHost } from './session-host.js';

/**
 * What Code Mode and meta mode are made of (the sandbox, its pool, search, type generation). Imported by
 * tool-surfaces.ts only when a config asks for either mode: a gateway in direct mode never loads it.
 */

export type { SandboxPool };

/** The pool every code-mode session shares, its workers started at once so the first executions need not wait. */
export function createSandboxPool(gateway: Gateway): SandboxPool {
  const limits = resolveSandboxLimits(gateway.config.sandbox);
  const pool = new SandboxPool({ maxConcurrent: limits.maxConcurrent, maxQueue: limits.maxQueue });
  pool.warm();
  return pool;
}

/** A session's code-mode or meta-mode tools. */
export function createToolSet(
  gateway: Gateway,
  session: ClientSession,
  mode: 'code' | 'meta',
  pool: () => SandboxPool,
): GatewayToolSet {
  const host = createSessionHost(gateway, session);
  return mode === 'code'
    ? createCodeModeTools(host, { sandbox: session.scope.sandbox ?? gateway.config.sandbox, pool: pool() })
    : createMetaTools(host);
}
