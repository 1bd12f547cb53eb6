import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import type { SandboxSettings } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import type { CodeModeHost } from './host.js';
import { codeModeInstructions } from './instructions.js';
import type { ProgressUpdate } from './run.js';
import { runExecution } from './run.js';
import { SandboxPool } from './sandbox-pool.js';
import { CatalogSearch } from './search.js';
import { MAX_NAME_CHARS, MAX_QUERY_CHARS, MAX_SEARCH_LIMIT } from './search-limits.js';
import { SessionState } from './session-state.js';
import { resolveSandboxLimits, type SandboxLimits } from './settings.js';

/** A set of gateway-made tools: what `tools/list` shows and how `tools/call` runs them. */
export interface GatewayToolSet {
  definitions: Tool[];
  /** Runs a tool of this set. Bad arguments give an `isError` result; an unknown name throws TOOL_NOT_FOUND. */
  call(name: string, args: Record<string, unknown> | undefined, options?: ToolCallOptions): Promise<CallToolResult>;
  /** What `initialize` tells the client about these tools, when the set has its own instructions. */
  instructions?(): string;
  /** Stops listening to the host; closes the pool only if this set created it. */
  close(): Promise<void>;
}

export interface ToolCallOptions {
  signal?: AbortSignal;
  /** Present when the client sent a progress token: console lines and inner progress go there. */
  progress?: (update: ProgressUpdate) => void;
  /** Whose call this is, for the sandbox pool's fair share. */
  owner?: string;
}

export interface CodeModeOptions {
  /** The config's `sandbox` block (defaults applied here). */
  sandbox?: SandboxSettings;
  /** A pool shared by every session; without one, the set creates (and closes) its own. */
  pool?: SandboxPool;
}

/*
 * Descriptions are the whole manual a model gets, and the two definitions together must stay under
 * 1,200 bytes of JSON (a test measures it), so every word has to earn its place.
 */
const SEARCH_DEFINITION: Tool = {
  name: 'search',
  description:
    'Find tools of the connected MCP servers. max_depth: 0 servers, 1 tool groups, 2 tools with summaries (default), 3 TypeScript signatures. Empty query lists all.',
  inputSchema: {
    type: 'object',
    properties: {
      query: { type: 'string' },
      namespace: { type: 'string' },
      max_depth: { type: 'integer', minimum: 0, maximum: 3 },
      limit: { type: 'integer', minimum: 1, maximum: MAX_SEARCH_LIMIT },
    },
  },
  annotations: { readOnlyHint: true },
};

const EXECUTE_DEFINITION: Tool = {
  name: 'execute',
  description:
    'Run JavaScript (an async function body) in a sandbox; returns {ok, result, logs}. Inside: await api.call_tool(server, tool, args), api.server(name).tool(args), api.parallel([{server, tool, args}]), api.search(query), api.manifest(). A tool result arrives as its structured content, else parsed JSON text, else text; failures throw ToolError. Return only what you need.',
  inputSchema: {
    type: 'object',
    properties: {
      code: { type: 'string' },
      namespace: { type: 'string' },
      timeout_secs: { type: 'number', exclusiveMinimum: 0 },
    },
    required: ['code'],
  },
};

const name = z.string().max(MAX_NAME_CHARS);

// Strict: a misspelt argument is an error that names the accepted ones, never silently ignored.
const SearchArgs = z
  .strictObject({
    query: z.string().max(MAX_QUERY_CHARS).optional(),
    namespace: name.optional(),
    max_depth: z.number().int().min(0).max(3).optional(),
    /** Accepted as another name of max_depth, as it is easy to write. */
    depth: z.number().int().min(0).max(3).optional(),
    limit: z.number().int().min(1).max(MAX_SEARCH_LIMIT).optional(),
  })
  .refine((args) => args.depth === undefined || args.max_depth === undefined || args.depth === args.max_depth, {
    message: 'depth and max_depth differ; give one',
  });

const ExecuteArgs = z.strictObject({
  code: z.string(),
  namespace: name.optional(),
  timeout_secs: z.number().positive().optional(),
});

/**
 * Code mode: two tools, `search` and `execute`, over a host's catalog.
 *
 * @example
 * const tools = createCodeModeTools(host, { sandbox: config.sandbox, pool });
 * const result = await tools.call('execute', { code: 'return 1 + 1' });
 */
export function createCodeModeTools(host: CodeModeHost, options: CodeModeOptions = {}): GatewayToolSet {
  const limits: SandboxLimits = resolveSandboxLimits(options.sandbox);
  const ownsPool = options.pool === undefined;
  const pool = options.pool ?? new SandboxPool({ maxConcurrent: limits.maxConcurrent, maxQueue: limits.maxQueue });
  const search = new CatalogSearch(host);
  const state = new SessionState();

  return {
    definitions: [SEARCH_DEFINITION, EXECUTE_DEFINITION],
    instructions: () => codeModeInstructions(host.listServers()),
    async call(name, args, callOptions = {}) {
      if (name === 'search') {
        const parsed = SearchArgs.safeParse(args ?? {});
        if (!parsed.success) return invalidArguments(name, parsed.error, ['query', 'namespace', 'max_depth', 'limit']);
        const { depth, ...options } = parsed.data;
        const query = { ...options, max_depth: options.max_depth ?? depth };
        return textResult(JSON.stringify(await search.searchWithMeaning(query, callOptions.signal)));
      }
      if (name === 'execute') {
        const parsed = ExecuteArgs.safeParse(args ?? {});
        if (!parsed.success) return invalidArguments(name, parsed.error, ['code', 'namespace', 'timeout_secs']);
        const answer = await runExecution(
          { host, pool, search, limits },
          {
            code: parsed.data.code,
            namespace: parsed.data.namespace,
            timeoutMs: parsed.data.timeout_secs === undefined ? undefined : parsed.data.timeout_secs * 1000,
            signal: callOptions.signal,
            state,
            ...(callOptions.progress ? { progress: callOptions.progress } : {}),
            ...(callOptions.owner === undefined ? {} : { owner: callOptions.owner }),
          },
        );
        return {
          content: [{ type: 'text', text: JSON.stringify(answer) }],
          structuredContent: answer as unknown as Record<string, unknown>,
          ...(answer.ok ? {} : { isError: true }),
        };
      }
      throw new GatewayError('TOOL_NOT_FOUND', `code mode has no tool "${name}" (it has search and execute)`);
    },
    async close() {
      search.close();
      if (ownsPool) await pool.close();
    },
  };
}

/** A plain text result. */
export function textResult(text: string, isError = false): CallToolResult {
  return { content: [{ type: 'text', text }], ...(isError ? { isError: true } : {}) };
}

/** An `isError` result naming the bad arguments, so that the model can correct its call. */
export function invalidArguments(tool: string, error: z.ZodError, accepted?: string[]): CallToolResult {
  const problems = error.issues.map((issue) => {
    const keys = (issue as { keys?: string[] }).keys;
    if (issue.code === 'unrecognized_keys' && keys) {
      const known = accepted ? `; ${tool} takes ${accepted.join(', ')}` : '';
      return `unknown argument ${keys.map((k) => `"${k.slice(0, 40)}"`).join(', ')}${known}`;
    }
    return `${issue.path.join('.') || '(arguments)'}: ${issue.message}`;
  });
  return textResult(`invalid arguments for ${tool}: ${problems.join('; ')}`, true);
}
