import type { ManifestsSettings, Mode, NamespaceEntry, PinningMode, Role, SandboxSettings, Scope } from './schema.js';

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

/** The budget of public tool names (`naming` in the file). */
export interface NamingPolicy {
  /** Longest public name. */
  maxLength: number;
  /** Whether `.` may appear (the protocol allows it; LLM APIs do not). */
  allowDots: boolean;
}

/** 64 characters (what LLM APIs take) minus 16 for a client's own prefix (`mcp__mcproxy__` is 14); no dots. */
export const DEFAULT_TOOL_NAMING: NamingPolicy = { maxLength: 48, allowDots: false };

/** How many instances of a server run: one for all clients, one per client session, or one per credential. */
export type ServerScope = Scope;

/**
 * Supplies the `Authorization` header of every request to a remote server, for a sign-in the gateway holds
 * (src/auth/upstream): a string when a token is at hand, a promise when it must be refreshed first.
 */
export interface UpstreamAuthorization {
  header(): string | undefined | Promise<string | undefined>;
  /**
   * The server answered 401 to a request sent with `sent`: resolves true once a new token is at hand (the
   * request is sent once more), false when the answer is no OAuth challenge; rejects with
   * UPSTREAM_AUTH_REQUIRED when someone must sign in.
   */
  unauthorized(response: Response, sent: string | undefined): Promise<boolean>;
}

/** Values laid over a server's `env` and `headers` in the instances started for one credential. */
export interface UpstreamIdentity {
  env: Record<string, string>;
  headers: Record<string, string>;
  /** The sign-in whose tokens this instance sends (a remote server that asks for OAuth). */
  authorization?: UpstreamAuthorization;
}

/** A server entry's `oauth`: how the gateway signs in to it. */
export interface UpstreamOAuthConfig {
  /** false: never sign in (a 401 is an error like any other). */
  enabled: boolean;
  clientId?: string;
  clientSecret?: string;
  scopes?: string[];
}

export interface ServerRoot {
  uri: string;
  name?: string;
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
  /** The budget of its tool names (the config's `naming`); DEFAULT_TOOL_NAMING when absent. */
  naming?: NamingPolicy;
  lazy: boolean;
  idleTimeoutMs?: number;
  tools: { allow?: string[]; deny?: string[] };
  restart: RestartPolicy;
  /** Resolved: the server's own, else its namespaces', else the top level's, else by transport. */
  scope: ServerScope;
  /** Most instances at once of a session- or credential-scoped server. */
  maxInstances: number;
  /** Roots given to a shared server that asks outside any client's call. */
  roots: ServerRoot[];
  /** How to sign in to a remote server; absent: once it answers 401 with a Bearer challenge. */
  oauth?: UpstreamOAuthConfig;
  /** `legacy`: never reached in 2026-07-28 beside the legacy era, even when it speaks both (absent: auto). */
  era?: 'legacy';
}

/** One credential of `auth.tokens`. `token` is the secret itself, read from the environment. */
export interface CredentialConfig {
  id: string;
  token: string;
  /** Namespaces it opens; absent means every namespace except isolated ones. */
  namespaces?: string[];
  tools: { allow?: string[]; deny?: string[] };
  rateLimitPerMinute?: number;
  /** Roles it holds: `admin` may act in the console. None when absent. */
  roles?: Role[];
  /** This credential's own env and headers, by server name. */
  upstreams: Record<string, UpstreamIdentity>;
}

/** What a credential grants, whoever holds it: a static token's entry, or an OAuth rule. */
export type CredentialGrantConfig = Omit<CredentialConfig, 'token'>;

/** An external authorization server whose access tokens are accepted. */
export interface OAuthIssuerConfig {
  /** Prefix of its users' credential ids. */
  name: string;
  issuer: string;
  jwksUri?: string;
  /** `aud` values accepted from it besides the gateway's resource URLs. */
  audiences: string[];
  subjectClaim: string;
  introspection?: { endpoint?: string; clientId: string; clientSecret: string; cacheMs: number };
}

/** A rule of `auth.oauth.credentials`: which tokens it matches, and what they then grant. */
export interface OAuthCredentialRule extends CredentialGrantConfig {
  scopes: string[];
  claims: Record<string, string | number | boolean>;
  /** Names of the issuers whose tokens qualify; all when absent. */
  issuers?: string[];
}

/** The built-in authorization server. */
export interface OAuthServerConfig {
  ownerPassword: string;
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  scopes: string[];
  /** Absolute path of the state file; memory only when absent. */
  stateFile?: string;
  maxClients: number;
}

export interface OAuthConfig {
  /** The origin clients reach the gateway at; the listening URL when absent (loopback only). */
  publicUrl?: string;
  audiences: string[];
  clockSkewMs: number;
  authorizationServers: OAuthIssuerConfig[];
  /** Empty: every valid token opens what a credential without `namespaces` opens. */
  credentials: OAuthCredentialRule[];
  server?: OAuthServerConfig;
}

/** The name of the built-in authorization server in credential ids (`mcproxy:owner`). */
export const BUILT_IN_ISSUER_NAME = 'mcproxy';

export interface AuthConfig {
  tokens: CredentialConfig[];
  /** OAuth 2.1 access tokens; absent when the file has no `auth.oauth` block. */
  oauth?: OAuthConfig;
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
  /** Upstream sign-ins: where they are kept (absolute), and the URL browsers reach the gateway at. */
  upstreamOAuth?: { stateFile?: string; publicUrl?: string };
  /** Default rate limit per client and namespace, in requests per minute. */
  rateLimitPerMinute?: number;
  /** Limits of HTTP client sessions; defaults where absent. */
  sessions?: { max?: number; maxPerClient?: number; idleTimeoutMs?: number };
  /** The shared state store of several replicas; in-process memory when absent. */
  state?: StateConfig;
  /** Origins accepted besides loopback and the addressed host (entries are origins or host names). */
  allowedOrigins?: string[];
  /** Host header names accepted besides loopback. */
  allowedHosts?: string[];
  /** Reverse proxies whose X-Forwarded-For names the client (addresses or CIDR ranges); the header is ignored without. */
  trustedProxies?: string[];
  /** OpenTelemetry export; absent (off) unless the file has a `tracing` block. */
  tracing?: TracingConfig;
  /** Tool pinning; `warn` in memory only when absent (a config built by hand). */
  pinning?: PinningConfig;
  /** Items per page of the lists the gateway answers itself (tools, prompts, resources, templates). */
  pageSize?: number;
  /** Where the config came from, for error messages and reload. */
  source: { path?: string; shape: 'v1' | 'v2' | 'mcpServers' | 'empty' };
}

export type StateConfig = { store: 'memory' } | { store: 'redis'; url: string; keyPrefix: string };

export interface TracingConfig {
  /** OTLP/HTTP traces URL. */
  endpoint: string;
  headers: Record<string, string>;
  serviceName: string;
  sampleRatio: number;
}

export interface PinningConfig {
  mode: PinningMode;
  /** Absolute path of the state file; memory only when absent (a config without a file). */
  stateFile?: string;
}

export const DEFAULT_START_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_INSTANCES = 64;
export const DEFAULT_TOOL_TIMEOUT_MS = 60_000;
export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxAttempts: 3,
  backoffBaseMs: 1_000,
  backoffMaxMs: 30_000,
  stableAfterMs: 60_000,
};
