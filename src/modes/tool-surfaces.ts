import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

import type { GatewayToolSet } from '../codemode/tools.js';
import type { GatewayConfig } from '../config/model.js';
import type { Mode } from '../config/schema.js';
import type { Gateway } from '../gateway.js';
import type { SandboxOutcome as SandboxMetricOutcome } from '../observability/metrics.js';
import type { ClientSession } from '../relay/client-session.js';
import type { ToolSurface } from '../relay/context.js';
import type * as CodeToolSets from './code-tool-sets.js';
import type { SandboxPool } from './code-tool-sets.js';

export interface ToolSurfaces {
  /** The `toolSurfaceFactory` of a Gateway: code or meta tools for sessions not in direct mode. */
  factory(gateway: Gateway, session: ClientSession): ToolSurface | undefined;
  /**
   * Loads Code Mode and meta mode when `config` uses either (a direct-mode gateway never loads them). Call it
   * with every config before the gateway takes it: at start and before each reload is applied.
   */
  prepare(config: GatewayConfig): Promise<void>;
  close(): Promise<void>;
}

/** Whether any session under `config` may be in code or meta mode. */
export function usesToolSurfaces(config: GatewayConfig): boolean {
  return (
    config.mode !== 'direct' ||
    Object.values(config.namespaces).some(
      (namespace) => !Array.isArray(namespace) && namespace.mode !== undefined && namespace.mode !== 'direct',
    )
  );
}

/**
 * Builds each session's code-mode or meta-mode tools on first use and keeps them for the session's life.
 * One sandbox pool serves every session, created when the first code-mode session needs it.
 */
export function createToolSurfaces(): ToolSurfaces {
  let pool: SandboxPool | undefined;
  let modules: typeof CodeToolSets | undefined;
  const sets = new WeakMap<ClientSession, { mode: Mode; set: GatewayToolSet }>();

  function toolSet(gateway: Gateway, session: ClientSession, mode: Exclude<Mode, 'direct'>): GatewayToolSet {
    const existing = sets.get(session);
    if (existing?.mode === mode) return existing.set;
    void existing?.set.close();
    // prepare() loads the modules for every config that can lead here; a session in code mode never falls back
    // to direct tools, so a missing prepare() is an error, not a silent change of what the session sees.
    if (!modules) throw new Error(`${mode} mode is not loaded: ToolSurfaces.prepare() was not given this config`);
    const { createSandboxPool, createToolSet } = modules;
    const set = createToolSet(gateway, session, mode, () => (pool ??= createSandboxPool(gateway)));
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
    async prepare(config) {
      if (usesToolSurfaces(config)) modules ??= await import('./code-tool-sets.js');
    },
    async close() {
      await pool?.close();
      pool = undefined;
    },
  };
}

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
