import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

import { createMetaTools } from '../codemode/meta-tools.js';
import { SandboxPool } from '../codemode/sandbox-pool.js';
import { resolveSandboxLimits } from '../codemode/settings.js';
import { createCodeModeTools, type GatewayToolSet } from '../codemode/tools.js';
import type { Mode } from '../config/schema.js';
import type { Gateway } from '../gateway.js';
import type { SandboxOutcome as SandboxMetricOutcome } from '../observability/metrics.js';
import type { ClientSession } from '../relay/client-session.js';
import type { ToolSurface } from '../relay/context.js';
import { createSessionHost } from './session-host.js';

export interface ToolSurfaces {
  /** The `toolSurfaceFactory` of a Gateway: code or meta tools for sessions not in direct mode. */
  factory(gateway: Gateway, session: ClientSession): ToolSurface | undefined;
  close(): Promise<void>;
}

/**
 * Builds each session's code-mode or meta-mode tools on first use and keeps them for the session's life.
 * One sandbox pool serves every session, created when the first code-mode session needs it.
 */
export function createToolSurfaces(): ToolSurfaces {
  let pool: SandboxPool | undefined;
  const sets = new WeakMap<ClientSession, { mode: Mode; set: GatewayToolSet }>();

  function poolFor(gateway: Gateway): SandboxPool {
    if (!pool) {
      const limits = resolveSandboxLimits(gateway.config.sandbox);
      pool = new SandboxPool({ maxConcurrent: limits.maxConcurrent, maxQueue: limits.maxQueue });
      // Every worker started now, each with an instance made ready: the first executions need not wait.
      pool.warm();
    }
    return pool;
  }

  function toolSet(gateway: Gateway, session: ClientSession, mode: Exclude<Mode, 'direct'>): GatewayToolSet {
    const existing = sets.get(session);
    if (existing?.mode === mode) return existing.set;
    void existing?.set.close();
    const host = createSessionHost(gateway, session);
    const set =
      mode === 'code'
        ? createCodeModeTools(host, {
            sandbox: session.scope.sandbox ?? gateway.config.sandbox,
            pool: poolFor(gateway),
          })
        : createMetaTools(host);
    sets.set(session, { mode, set });
    void session.whenClosed.then(() => set.close());
    return set;
  }

  return {
    factory(gateway, session) {
      const mode = session.scope.mode ?? gateway.config.mode;
      if (mode === 'direct') return undefined;
      const set = toolSet(gateway, session, mode);
      return {
        listTools: () => set.definitions,
        ...(set.instructions ? { instructions: set.instructions } : {}),
        async callTool(name, args, context) {
          const { progress } = context;
          const result = await set.call(name, args, {
            signal: context.signal,
            owner: fairShareOwner(session),
            ...(progress ? { progress: (update) => progress(update) } : {}),
          });
          if (name === 'execute') gateway.metrics?.sandboxExecuted(sandboxOutcome(result));
          return result as Record<string, unknown>;
        },
      };
    },
    async close() {
      await pool?.close();
      pool = undefined;
    },
  };
}

/**
 * Who an execution counts against in the sandbox pool's fair share: the session. (A session is one client; a
 * credential's sessions should share one share once sessions carry their owner.)
 */
/** Whose share of the sandbox pool a session draws on: its credential's, or (anonymous, local) its own. */
function fairShareOwner(session: ClientSession): string {
  const { group } = session.owner;
  return group.startsWith('credential:') ? group : `session:${session.id}`;
}

function sandboxOutcome(result: CallToolResult): SandboxMetricOutcome {
  if (!result.isError) return 'ok';
  const type = (result.structuredContent as { error?: { type?: string } } | undefined)?.error?.type;
  if (type === 'Timeout') return 'timeout';
  if (type === 'Busy') return 'rejected';
  if (type === 'MemoryLimit' || type === 'LimitExceeded') return 'limit';
  return 'error';
}
