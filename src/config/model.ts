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

/** One credential of `auth.tokens`. `token` is the secret itself, read from the environment. */
export interface CredentialConfig {
  id: string;
  token: string;
  /** Namespaces it opens; absent means every namespace except isolated ones. */
  namespaces?: string[];
  tools: { allow?: string[]; deny?: string[] };
  rateLimitPerMinute?: number;
}

export interface AuthConfig {
  tokens: CredentialConfig[];
  /** Lower-case name of the API-key header. */
  apiKeyHeader: string;
  /** Default of `require_auth` for namespaces and for servers in no namespace. */
  requireAuth: boolean;
}

export const DEFAULT_API_KEY_HEADER = 'x-api-key';

export interface GatewayConfig {
  /** In file order, which decides collisions deterministically. Disabled servers are included. */
  servers: ServerConfig[];
  mode: Mode;
  namespaces: Record<string, NamespaceEntry>;
  sandbox: SandboxSettings;
  manifests: ManifestsSettings;
  /** Credentials of HTTP clients; absent when the file has no `auth` block. */
  auth?: AuthConfig;
  /** Absolute paths of the certificate and key; HTTPS when present. */
  tls?: { certPath: string; keyPath: string };
  /** Audit log of tool calls; the path is absolute. */
  audit?: { path: string };
  /** Default rate limit per client and namespace, in requests per minute. */
  rateLimitPerMinute?: number;
  /** Limits of HTTP client sessions; defaults where absent. */
  sessions?: { max?: number; maxPerClient?: number; idleTimeoutMs?: number };
  /** Origins accepted besides loopback and the addressed host (entries are origins or host names). */
  allowedOrigins?: string[];
  /** Host header names accepted besides loopback. */
  allowedHosts?: string[];
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
