import { z } from 'zod';

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
    .describe('Default of require_auth for namespaces and servers in none (true when tokens are configured).'),
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

export const AuditSchema = z.strictObject({
  path: z.string().min(1).describe('JSON-lines file every tool call is appended to; relative to the config file.'),
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
    restart: RestartPolicySchema.optional().describe('Default restart policy of every server.'),
    namespaces: z
      .record(namespaceName, NamespaceSchema)
      .optional()
      .describe('Groups of servers with their own access rules, served at /ns/<name>/mcp and /ns/<name>/sse.'),
    sandbox: SandboxSchema.optional(),
    manifests: ManifestsSchema.optional(),
    auth: AuthSchema.optional().describe('Credentials of HTTP clients; stdio clients are local and need none.'),
    tls: TlsSchema.optional().describe('Serve HTTPS instead of HTTP.'),
    audit: AuditSchema.optional().describe('Audit log of tool calls.'),
    rate_limit: RateLimitSchema.optional().describe('Default rate limit per client and namespace (none).'),
    sessions: SessionsSchema.optional().describe('Limits of client sessions over HTTP.'),
    allowed_origins: originList.optional(),
    allowed_hosts: z
      .array(z.string().min(1))
      .optional()
      .describe('Host header names accepted besides loopback (DNS-rebinding protection of a loopback listener).'),
  })
  .describe('mcproxy configuration');

export type ConfigFile = z.input<typeof ConfigFileSchema>;
export type ServerEntry = z.output<typeof ServerEntrySchema>;
export type SandboxSettings = z.output<typeof SandboxSchema>;
export type NamespaceEntry = z.output<typeof NamespaceSchema>;
export type ManifestsSettings = z.output<typeof ManifestsSchema>;
export type Mode = z.output<typeof ModeSchema>;
export type NamespaceObject = z.output<typeof NamespaceObjectSchema>;
