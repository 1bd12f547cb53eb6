import type { ManifestsSettings, Mode, NamespaceEntry, SandboxSettings } from './schema.js';

/**
 * The one internal model every accepted config shape (v1 list, v2 object, `mcpServers`) is normalised to.
 * Defaults are applied here, so nothing downstream needs to know them. Durations are in milliseconds.
 */

export type ServerTransport = 'stdio' | 'http' | 'sse';

export interface RestartPolicy {
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  stableAfterMs: number;
}

export interface ServerConfig {
  name: string;
  transport: ServerTransport;
  command?: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  url?: string;
  headers: Record<string, string>;
  startTimeoutMs: number;
  toolTimeoutMs: number;
  enabled: boolean;
  namespace?: string;
  description?: string;
  /** Prefix of tool and prompt names; '' for none. */
  prefix: string;
  lazy: boolean;
  idleTimeoutMs?: number;
  tools: { allow?: string[]; deny?: string[] };
  restart: RestartPolicy;
}

export interface GatewayConfig {
  /** In file order, which decides collisions deterministically. Disabled servers are included. */
  servers: ServerConfig[];
  mode: Mode;
  namespaces: Record<string, NamespaceEntry>;
  sandbox: SandboxSettings;
  manifests: ManifestsSettings;
  /** Where the config came from, for error messages and reload. */
  source: { path?: string; shape: 'v1' | 'v2' | 'mcpServers' | 'empty' };
}

export const DEFAULT_START_TIMEOUT_MS = 30_000;
export const DEFAULT_TOOL_TIMEOUT_MS = 60_000;
export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxAttempts: 3,
  backoffBaseMs: 1_000,
  backoffMaxMs: 30_000,
  stableAfterMs: 60_000,
};
