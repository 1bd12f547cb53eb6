import { z } from 'zod';

import { isAddressOrRange } from '../access/client-address.js';

/**
 * The config file's schema, the single source of the validator, the TypeScript types and the JSON Schema
 * (`mcproxy schema`). Field names are the file's own (snake_case, as in the seeds).
 */

export const SERVER_NAME_PATTERN = /^[A-Za-z0-9_-]+$/;
const serverName = z
  .string()
  .regex(SERVER_NAME_PATTERN, 'a server name may contain only letters, digits, "_" and "-"')
  .max(64);

/** Namespace names appear in endpoint paths (`/ns/<name>/mcp`), so they are as plain as server names. */
export const NAMESPACE_NAME_PATTERN = SERVER_NAME_PATTERN;
const namespaceName = z
  .string()
  .regex(NAMESPACE_NAME_PATTERN, 'a namespace name may contain only letters, digits, "_" and "-"')
  .max(64);

const stringMap = z.record(z.string(), z.string());
const seconds = z.number().positive();

export const ToolFilterSchema = z.strictObject({
  allow: z.array(z.string()).optional().describe('Glob patterns of tool names to expose; all when absent.'),
  deny: z.array(z.string()).optional().describe('Glob patterns of tool names to hide; applied after allow.'),
});

export const RestartPolicySchema = z.strictObject({
  max_attempts: z.number().int().min(0).optional().describe('Restarts before a server is marked failed (3).'),
  backoff_base: seconds.optional().describe('First restart delay in seconds (1).'),
  backoff_max: seconds.optional().describe('Largest restart delay in seconds (30).'),
  stable_after: seconds.optional().describe('Seconds of uptime after which the attempt count resets (60).'),
});

/** How many instances of a server there are: one for everyone, one per client session, or one per credential. */
export const ScopeSchema = z
  .enum(['shared', 'session', 'credential'])
  .describe(
    'Instances of the server: shared (one for all clients), session (one per client session) or credential (one per credential; anonymous clients form one group).',
  );

/** A root announced to a shared server, which has no single client to ask for its roots. */
export const RootSchema = z.strictObject({
  uri: z.string().min(1).describe('The root, usually a file:// URI.'),
  name: z.string().optional().describe('A name for the root.'),
});

/** A credential's own values for one server: laid over the server's env and headers in that user's instances. */
export const UpstreamIdentitySchema = z.strictObject({
  env: stringMap.optional().describe("Environment variables of this user's instances, over the server's env."),
  headers: stringMap.optional().describe("HTTP headers of this user's instances, over the server's headers."),
});

/** An https URL, or http on loopback only (OAuth metadata and tokens must not cross a network in clear text). */
const secureUrl = z.url({ protocol: /^https?$/ }).refine(
  (value) => {
    const url = new URL(value);
    return url.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  },
  { message: 'must be an https URL (http only for localhost or 127.0.0.1)' },
);
const scopeName = z
  .string()
  .regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'a scope is one word of printable ASCII, no quotes or backslashes');

/** How the gateway signs in to a remote server that asks for OAuth (see docs/security.md, "Upstream sign-in"). */
export const UpstreamOAuthSchema = z
  .strictObject({
    client_id: z
      .string()
      .min(1)
      .optional()
      .describe('A client registered at its authorization server; registered dynamically (RFC 7591) when absent.'),
    client_secret: z.string().min(1).optional().describe('Its secret, for a confidential client; use "${VAR}".'),
    scopes: z
      .array(scopeName)
      .optional()
      .describe("Scopes to ask for; those of the server's 401 challenge or its metadata when absent."),
  })
  .refine((value) => value.client_secret === undefined || value.client_id !== undefined, {
    message: 'client_secret needs client_id',
    path: ['client_secret'],
  });

export const ServerEntrySchema = z.strictObject({
  command: z.string().min(1).optional().describe('Executable of a local stdio server.'),
  args: z.array(z.string()).optional().describe('Arguments of the command.'),
  env: stringMap.optional().describe('Environment of the server, on top of a small default environment.'),
  cwd: z.string().optional().describe('Working directory of the server process.'),
  url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('URL of a remote server (Streamable HTTP or SSE).'),
  type: z
    .enum(['stdio', 'http', 'streamable-http', 'streamableHttp', 'sse'])
    .optional()
    .describe('Transport; inferred from command/url when absent (a url ending in /sse means SSE).'),
  era: z
    .enum(['auto', 'legacy'])
    .optional()
    .describe(
      'auto (default): 2026-07-28 clients reach a Streamable HTTP server that also speaks 2026-07-28 in that era; legacy: always in the legacy era, its requests to the client bridged as input_required.',
    ),
  headers: stringMap.optional().describe('HTTP headers sent to a remote server.'),
  timeout: seconds.optional().describe('Seconds allowed for start-up and initialisation (30).'),
  tool_timeout: seconds.optional().describe('Seconds allowed for one tool call before it is cancelled (60).'),
  enabled: z.boolean().optional().describe('Start this server (true).'),
  disabled: z.boolean().optional().describe('The opposite of enabled, as Cline and Roo write it.'),
  autoApprove: z
    .array(z.string())
    .optional()
    .describe('Accepted from pasted client configs; approval is the client’s job.'),
  alwaysAllow: z
    .array(z.string())
    .optional()
    .describe('Accepted from pasted client configs; approval is the client’s job.'),
  namespace: namespaceName.optional().describe('Namespace the server belongs to.'),
  description: z.string().optional().describe('What the server is for, shown in search and meta mode.'),
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9_.-]*$/, 'a prefix may contain only letters, digits, "_", "." and "-"')
    .optional()
    .describe('Prefix of tool and prompt names (the server name); empty for none.'),
  lazy: z.boolean().optional().describe('Start the server on first use instead of at start-up (false).'),
  idle_timeout: seconds.optional().describe('Stop the server after this many idle seconds (never).'),
  tools: ToolFilterSchema.optional(),
  restart: RestartPolicySchema.optional(),
  scope: ScopeSchema.optional().describe(
    'Instances of the server: shared, session or credential (inherited from its namespace and the top level; shared for stdio servers, session for remote ones).',
  ),
  max_instances: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Most instances of a session- or credential-scoped server at once (64).'),
  roots: z
    .array(RootSchema)
    .optional()
    .describe('Roots a shared server is given when it asks outside a client call (none).'),
  oauth: z
    .union([z.boolean(), UpstreamOAuthSchema])
    .optional()
    .describe(
      'OAuth sign-in to this remote server: false never; true or an object when it needs one from the start; when absent, once it answers 401 with a Bearer challenge.',
    ),
});

/** The seeds' v1 entry: the same fields plus its name. */
export const NamedServerEntrySchema = ServerEntrySchema.extend({ name: serverName });

export const SandboxSchema = z.strictObject({
  timeout_secs: seconds.optional().describe('Wall-clock limit of one execute call (30).'),
  memory_mb: z.number().int().min(8).max(4096).optional().describe('Memory limit of one execution (64).'),
  max_tool_calls: z.number().int().min(0).optional().describe('Tool calls allowed in one execution (50).'),
  max_code_bytes: z.number().int().positive().optional().describe('Largest accepted code, in bytes (65536).'),
  max_output_bytes: z.number().int().positive().optional().describe('Largest result plus logs, in bytes (1 MiB).'),
  max_concurrent: z.number().int().positive().optional().describe('Executions running at once (2).'),
  max_queue: z.number().int().min(0).optional().describe('Executions waiting for a slot before refusal (16).'),
  env_isolation: z.boolean().optional().describe('Kept for compatibility: the guest never sees the environment.'),
  network: z
    .strictObject({
      enabled: z.boolean().optional(),
      allowed_hosts: z.array(z.string()).optional(),
    })
    .optional()
    .describe('Host-side api.fetch, limited to allowed_hosts; off by default.'),
  filesystem: z
    .strictObject({
      read_only: z.array(z.string()).optional(),
      denied: z.array(z.string()).optional(),
    })
    .optional()
    .describe('Accepted for compatibility; the guest has no filesystem at all.'),
});

export const RateLimitSchema = z.strictObject({
  requests_per_minute: z
    .number()
    .int()
    .positive()
    .describe('Requests a client may make per minute (a token bucket: bursts up to this many).'),
});

export const NamingSchema = z.strictObject({
  max_length: z
    .number()
    .int()
    .min(16)
    .max(128)
    .optional()
    .describe('Longest tool name clients see (48: LLM APIs take 64, less a client prefix such as mcp__mcproxy__).'),
  allow_dots: z
    .boolean()
    .optional()
    .describe('Allow "." in tool names, as the protocol does (false: LLM APIs refuse it).'),
});

export const ModeSchema = z.enum(['direct', 'code', 'meta']);

const originList = z
  .array(z.string().min(1))
  .describe('Browser origins accepted: a full origin (https://app.example.com) or a host name (localhost).');

export const NamespaceObjectSchema = z.strictObject({
  servers: z.array(serverName).optional().describe('Servers of the namespace (besides those naming it themselves).'),
  extends: z
    .union([z.string(), z.array(z.string()), z.null()])
    .optional()
    .describe('Parent namespace(s): their servers are included and their settings inherited; null for none.'),
  isolated: z
    .boolean()
    .optional()
    .describe('Reachable only with a credential naming it; never extended, its servers in no other namespace.'),
  require_auth: z.boolean().optional().describe('Needs a credential (inherited; see auth.require_auth).'),
  allowed_origins: originList.optional(),
  rate_limit: RateLimitSchema.optional(),
  sandbox: SandboxSchema.optional(),
  mode: ModeSchema.optional(),
  tools: ToolFilterSchema.optional().describe('Tool allow/deny globs: "name" on any server, "server/name" on one.'),
  scope: ScopeSchema.optional().describe("Default scope of the namespace's servers (inherited)."),
});

export const NamespaceSchema = z.union([z.array(serverName), NamespaceObjectSchema]);

export const ManifestsSchema = z.strictObject({
  startup_dwell_secs: z.number().min(0).optional(),
  refresh_event_hooks: z
    .strictObject({
      pre_refresh: z.array(z.enum(['health_check_all', 'restart_failed'])).optional(),
      post_refresh: z.array(z.enum(['health_check_all', 'restart_failed'])).optional(),
    })
    .optional(),
  typed_stub_generation: z
    .strictObject({
      enabled: z.boolean().optional(),
      output_dir: z.string().optional(),
    })
    .optional(),
});

/** Roles a credential may hold; `admin` may act in the console (restart servers, approve changed tools). */
export const RolesSchema = z
  .array(z.enum(['admin']))
  .describe('Roles of the credential: "admin" may use the actions of the console at / (none).');

export const CredentialSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_.@-]+$/, 'an id may contain only letters, digits, "_", ".", "@" and "-"')
    .max(64)
    .describe('Name of the credential in logs and the audit log (never the secret itself).'),
  token: z
    .string()
    .min(16, 'a token must be at least 16 characters long')
    .describe('The secret, sent as "Authorization: Bearer <token>" or in the API-key header; use "${VAR}".'),
  namespaces: z
    .array(z.string())
    .optional()
    .describe('Namespaces this credential opens; every namespace except isolated ones when absent.'),
  tools: ToolFilterSchema.optional().describe('Tool allow/deny globs for this credential.'),
  rate_limit: RateLimitSchema.optional(),
  roles: RolesSchema.optional(),
  upstreams: z
    .record(serverName, UpstreamIdentitySchema)
    .optional()
    .describe(
      "This user's own env and headers per server (e.g. their own API token), used by the session- and credential-scoped instances started for them.",
    ),
});

export const OAuthIssuerSchema = z.strictObject({
  issuer: secureUrl.describe('Issuer identifier of an external authorization server (the `iss` of its tokens).'),
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'a name may contain only letters, digits, "_", "." and "-"')
    .max(64)
    .optional()
    .describe('Prefix of the credential ids of its users (`<name>:<subject>`); the issuer host name when absent.'),
  jwks_uri: secureUrl.optional().describe('Where its signing keys are; discovered from its metadata when absent.'),
  audiences: z
    .array(z.string().min(1))
    .optional()
    .describe("`aud` values accepted from this issuer besides the gateway's resource URLs (e.g. an API identifier)."),
  subject_claim: z.string().min(1).optional().describe('Claim that names the user (sub).'),
  introspection: z
    .strictObject({
      endpoint: secureUrl.optional().describe('RFC 7662 endpoint; discovered from the issuer metadata when absent.'),
      client_id: z.string().min(1).describe("The gateway's client id at the authorization server."),
      client_secret: z.string().min(1).describe('Its secret; use "${VAR}".'),
      cache_secs: z.number().min(0).optional().describe('Seconds an active answer is reused (30; 0 asks every time).'),
    })
    .optional()
    .describe('Check its tokens by introspection (opaque tokens, immediate revocation) instead of JWT signatures.'),
});

export const OAuthCredentialSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_.@-]+$/, 'an id may contain only letters, digits, "_", ".", "@" and "-"')
    .max(64)
    .describe("Name of the rule; a user's credential id is `<issuer name>:<subject>`."),
  scopes: z.array(scopeName).optional().describe('Scopes the token must all have (none: any token).'),
  claims: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .optional()
    .describe('Claims the token must have, with these values (a list claim must contain the value).'),
  issuers: z.array(z.string()).optional().describe('Names of the authorization servers whose tokens qualify (all).'),
  namespaces: z
    .array(z.string())
    .optional()
    .describe('Namespaces it opens; every namespace except isolated ones when absent.'),
  tools: ToolFilterSchema.optional().describe('Tool allow/deny globs.'),
  rate_limit: RateLimitSchema.optional(),
  roles: RolesSchema.optional(),
});

export const OAuthServerSchema = z.strictObject({
  enabled: z.boolean().optional().describe('Run the built-in authorization server (true when this block is present).'),
  owner_password: z
    .string()
    .min(12, 'the owner password must be at least 12 characters long')
    .describe('What the owner types on the consent page to sign in; use "${VAR}".'),
  access_token_ttl: seconds.optional().describe('Lifetime of an access token in seconds (3600).'),
  refresh_token_ttl: seconds.optional().describe('Lifetime of a refresh token in seconds (2592000, 30 days).'),
  scopes: z
    .array(scopeName)
    .optional()
    .describe('Scopes a client may ask for; the scopes of auth.oauth.credentials when absent.'),
  state_file: z
    .string()
    .min(1)
    .optional()
    .describe(
      'JSON file (mode 0600) keeping registered clients and refresh grants across restarts; memory only when absent.',
    ),
  max_clients: z.number().int().positive().optional().describe('Registered clients kept; the oldest go first (100).'),
});

export const OAuthSchema = z.strictObject({
  public_url: secureUrl
    .refine((value) => ['', '/'].includes(new URL(value).pathname), { message: 'must be an origin, with no path' })
    .optional()
    .describe(
      'The URL clients reach the gateway at (https://mcp.example.com); the listening URL on loopback when absent.',
    ),
  audiences: z
    .array(z.string().min(1))
    .optional()
    .describe("`aud` values accepted besides the gateway's own resource URLs."),
  clock_skew: z.number().min(0).max(600).optional().describe('Seconds of clock difference tolerated on exp/nbf (60).'),
  authorization_servers: z
    .array(OAuthIssuerSchema)
    .optional()
    .describe('External authorization servers whose access tokens are accepted.'),
  credentials: z
    .array(OAuthCredentialSchema)
    .optional()
    .describe("Rules from a token's scopes and claims to namespaces and tool rules; the first that matches applies."),
  server: OAuthServerSchema.optional().describe('The built-in authorization server, for a gateway with one owner.'),
});

export const AuthSchema = z.strictObject({
  tokens: z.array(CredentialSchema).optional().describe('Bearer tokens / API keys and what each may reach.'),
  api_key_header: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'a header name may contain only letters, digits and "-"')
    .optional()
    .describe('Header carrying an API key, as an alternative to Authorization: Bearer (x-api-key).'),
  require_auth: z
    .boolean()
    .optional()
    .describe('Default of require_auth for namespaces and servers in none (true when tokens or oauth are configured).'),
  oauth: OAuthSchema.optional().describe(
    'OAuth 2.1: access tokens from authorization servers, beside the static tokens.',
  ),
});

export const SessionsSchema = z.strictObject({
  max: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('HTTP sessions (/mcp and /sse) open at once, all clients together (1000).'),
  max_per_client: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('HTTP sessions one credential, or one address without a credential, may hold open (100).'),
  idle_timeout: seconds
    .optional()
    .describe('Seconds after which a session with no request in flight and no open stream is ended (600).'),
});

export const TlsSchema = z.strictObject({
  cert: z.string().min(1).describe('PEM certificate (chain) file; relative to the config file.'),
  key: z.string().min(1).describe('PEM private key file; relative to the config file.'),
});

export const StateSchema = z
  .strictObject({
    store: z
      .enum(['memory', 'redis'])
      .describe('memory: this process only (one machine); redis: shared by every replica behind a load balancer.'),
    url: z
      .url({ protocol: /^rediss?$/ })
      .optional()
      .describe('redis:// or rediss:// URL of the Redis (or Valkey) server; use "${VAR}" for a password.'),
    key_prefix: z
      .string()
      .max(64)
      .optional()
      .describe('Prefix of every key the gateway writes, to share one Redis (mcproxy:).'),
  })
  .refine((state) => state.store !== 'redis' || state.url !== undefined, {
    message: 'store "redis" needs a url',
    path: ['url'],
  });

export const AuditSchema = z.strictObject({
  path: z.string().min(1).describe('JSON-lines file every tool call is appended to; relative to the config file.'),
});

export const TracingSchema = z.strictObject({
  endpoint: z
    .url({ protocol: /^https?$/ })
    .describe('OTLP/HTTP traces endpoint of a collector (http://localhost:4318/v1/traces).'),
  headers: stringMap.optional().describe('HTTP headers sent with every export (an API key: use "${VAR}").'),
  service_name: z.string().min(1).optional().describe('service.name of the spans (mcproxy).'),
  sample_ratio: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe("Share of new traces recorded (1); a client's sampled flag is followed."),
});

export const PinningModeSchema = z
  .enum(['off', 'warn', 'strict'])
  .describe('off, warn (flag changed tools; the default) or strict (also withhold them until approved).');

export const PinningSchema = z.union([
  PinningModeSchema,
  z.strictObject({
    mode: PinningModeSchema.optional(),
    state_file: z
      .string()
      .min(1)
      .optional()
      .describe('JSON file of the pinned tool definitions; <config name>.pins.json beside the config when absent.'),
  }),
]);

export const UpstreamOAuthSettingsSchema = z.strictObject({
  state_file: z
    .string()
    .min(1)
    .optional()
    .describe(
      'File (mode 0600) keeping upstream sign-ins, encrypted with the key in MCPROXY_TOKEN_KEY; upstream-tokens.json beside the config when absent.',
    ),
  public_url: secureUrl
    .refine((value) => ['', '/'].includes(new URL(value).pathname), { message: 'must be an origin, with no path' })
    .optional()
    .describe(
      'The URL browsers reach the gateway at, for sign-in callbacks; auth.oauth.public_url, else the listening URL.',
    ),
});

export const ConfigFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    servers: z
      .union([z.array(NamedServerEntrySchema), z.record(serverName, ServerEntrySchema)])
      .optional()
      .describe('v1: a list of servers with names; v2: an object keyed by server name.'),
    mcpServers: z
      .record(serverName, ServerEntrySchema)
      .optional()
      .describe('The format of Claude Desktop, Cursor and VS Code, accepted as it is.'),
    mode: ModeSchema.optional().describe('How the catalog is exposed: direct (default), code or meta.'),
    page_size: z
      .number()
      .int()
      .positive()
      .max(100_000)
      .optional()
      .describe('Items per page of the tools, prompts, resources and templates lists the gateway answers (1000).'),
    scope: ScopeSchema.optional().describe('Default scope of every server (shared for stdio, session for remote).'),
    restart: RestartPolicySchema.optional().describe('Default restart policy of every server.'),
    naming: NamingSchema.optional().describe(
      'The budget of tool names: longer ones are cut and end in a short hash; the original name is kept in _meta.',
    ),
    namespaces: z
      .record(namespaceName, NamespaceSchema)
      .optional()
      .describe('Groups of servers with their own access rules, served at /ns/<name>/mcp and /ns/<name>/sse.'),
    sandbox: SandboxSchema.optional(),
    manifests: ManifestsSchema.optional(),
    auth: AuthSchema.optional().describe('Credentials of HTTP clients; stdio clients are local and need none.'),
    tls: TlsSchema.optional().describe('Serve HTTPS instead of HTTP.'),
    audit: AuditSchema.optional().describe('Audit log of tool calls.'),
    tracing: TracingSchema.optional().describe('OpenTelemetry traces of client requests and upstream calls (off).'),
    pinning: PinningSchema.optional().describe(
      "Tool pinning: each tool's definition is remembered when first seen, and a changed one is flagged (warn).",
    ),
    upstream_oauth: UpstreamOAuthSettingsSchema.optional().describe(
      'Where the sign-ins of the gateway and its users to OAuth-protected remote servers are kept.',
    ),
    rate_limit: RateLimitSchema.optional().describe('Default rate limit per client and namespace (none).'),
    sessions: SessionsSchema.optional().describe('Limits of client sessions over HTTP.'),
    state: StateSchema.optional().describe(
      'Where rate budgets and OAuth grants are kept: memory (default), or Redis shared by several replicas.',
    ),
    allowed_origins: originList.optional(),
    allowed_hosts: z
      .array(z.string().min(1))
      .optional()
      .describe('Host header names accepted besides loopback (DNS-rebinding protection of a loopback listener).'),
    trusted_proxies: z
      .array(
        z.string().refine(isAddressOrRange, 'must be an IP address or a CIDR range such as 10.0.0.0/8 or fd00::/8'),
      )
      .optional()
      .describe(
        'Reverse proxies (IP addresses or CIDR ranges) whose X-Forwarded-For names the client: used for rate limits, session shares and audit of clients without a credential. None: the header is ignored.',
      ),
  })
  .describe('mcproxy configuration');

export type ConfigFile = z.input<typeof ConfigFileSchema>;
export type ServerEntry = z.output<typeof ServerEntrySchema>;
export type SandboxSettings = z.output<typeof SandboxSchema>;
export type NamespaceEntry = z.output<typeof NamespaceSchema>;
export type ManifestsSettings = z.output<typeof ManifestsSchema>;
export type Mode = z.output<typeof ModeSchema>;
export type Scope = z.output<typeof ScopeSchema>;
export type PinningMode = z.output<typeof PinningModeSchema>;
export type Role = z.output<typeof RolesSchema>[number];
export type NamespaceObject = z.output<typeof NamespaceObjectSchema>;
