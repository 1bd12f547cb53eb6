import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import type { SandboxSettings } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import type { CodeModeHost } from './host.js';
import { runExecution } from './run.js';
import { SandboxPool } from './sandbox-pool.js';
import { CatalogSearch } from './search.js';
import { resolveSandboxLimits, type SandboxLimits } from './settings.js';

/** A set of gateway-made tools: what `tools/list` shows and how `tools/call` runs them. */
export interface GatewayToolSet {
  definitions: Tool[];
  /** Runs a tool of this set. Bad arguments give an `isError` result; an unknown name throws TOOL_NOT_FOUND. */
  call(
    name: string,
    args: Record<string, unknown> | undefined,
    options?: { signal?: AbortSignal },
  ): Promise<CallToolResult>;
  /** Stops listening to the host; closes the pool only if this set created it. */
  close(): Promise<void>;
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
      limit: { type: 'integer', minimum: 1 },
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

const SearchArgs = z.object({
  query: z.string().optional(),
  namespace: z.string().optional(),
  max_depth: z.number().int().min(0).max(3).optional(),
  limit: z.number().int().min(1).optional(),
});

const ExecuteArgs = z.object({
  code: z.string(),
  namespace: z.string().optional(),
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

  return {
    definitions: [SEARCH_DEFINITION, EXECUTE_DEFINITION],
    async call(name, args, callOptions = {}) {
      if (name === 'search') {
        const parsed = SearchArgs.safeParse(args ?? {});
        if (!parsed.success) return invalidArguments(name, parsed.error);
        return textResult(JSON.stringify(search.search(parsed.data)));
      }
      if (name === 'execute') {
        const parsed = ExecuteArgs.safeParse(args ?? {});
        if (!parsed.success) return invalidArguments(name, parsed.error);
        const answer = await runExecution(
          { host, pool, search, limits },
          {
            code: parsed.data.code,
            namespace: parsed.data.namespace,
            timeoutMs: parsed.data.timeout_secs === undefined ? undefined : parsed.data.timeout_secs * 1000,
            signal: callOptions.signal,
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
export function invalidArguments(tool: string, error: z.ZodError): CallToolResult {
  const problems = error.issues.map((issue) => `${issue.path.join('.') || '(arguments)'}: ${issue.message}`);
  return textResult(`invalid arguments for ${tool}: ${problems.join('; ')}`, true);
}
