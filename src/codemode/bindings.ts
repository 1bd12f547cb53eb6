import type { CatalogTool } from '../catalog/types.js';
import { errorMessage } from '../errors.js';
import type { CodeModeHost } from './host.js';
import { type FetchRequest, sandboxFetch } from './host-fetch.js';
import type { HostOp, SandboxErrorInfo } from './protocol.js';
import { errorReply, isJsonDepthError, isNestedTooDeep, MAX_JSON_DEPTH, okReply, safeJsonParse } from './safe-json.js';
import type { CatalogSearch, SearchOptions } from './search.js';
import { MAX_NAME_CHARS } from './search-limits.js';
import type { SandboxLimits } from './settings.js';
import { suggestNames } from './suggest.js';
import { normalizeName } from './text.js';
import { hostErrorPayload, toolErrorMessage, type ToolErrorPayload, toolResultValue } from './tool-result.js';
import { toolIdentifiers } from './typegen.js';

/** Tool calls `api.parallel` runs at once unless the code asks for fewer. */
export const PARALLEL_CONCURRENCY = 8;
/** Largest tool result handed into the guest; a bigger one becomes a ToolError instead. */
export const MAX_REPLY_BYTES = 8 * 1024 * 1024;
/**
 * Most bytes of tool results and fetched bodies (as JSON) handed into the guest in one execution. A quarter of the
 * default guest memory (64 MiB), since a reply costs the guest about three times its size while it is parsed, and
 * 16 times the default output limit: room to read and reduce, not to hoard. Without it, 20 calls of 7 MB grew the
 * gateway by 760 MB.
 */
export const MAX_TOOL_RESULT_BYTES_PER_EXECUTION = 16 * 1024 * 1024;

type CallOutcome = { ok: true; value: unknown } | { ok: false; error: ToolErrorPayload };

export interface BindingsOptions {
  host: CodeModeHost;
  search: CatalogSearch;
  limits: SandboxLimits;
  namespace?: string;
  /** Aborted when the execution ends: in-flight tool calls and fetches are cancelled with it. */
  signal: AbortSignal;
  /** Receives the progress that tools report while they run, as one line each. */
  onProgress?: (message: string) => void;
}

/**
 * The host side of `api.*` for one execution. Every request arrives as a JSON string and is parsed with
 * `safeJsonParse`; every tool call goes through `host.callTool`, which decides access. What is checked here
 * is only what belongs to the execution: the tool-call budget, and friendly errors for unknown names.
 */
export class HostBindings {
  /** Tool calls and fetches made so far (they share the `max_tool_calls` budget). */
  calls = 0;
  /** Bytes of tool results and fetched bodies handed to the guest; MAX_TOOL_RESULT_BYTES_PER_EXECUTION once past it. */
  private resultBytes = 0;
  /** Tool calls in flight: what a timeout names. */
  private readonly inFlight = new Map<number, { label: string; started: number }>();
  private nextCall = 1;

  constructor(private readonly options: BindingsOptions) {}

  /** The calls still running, longest first. */
  pendingCalls(): Array<{ label: string; ms: number }> {
    const now = performance.now();
    return [...this.inFlight.values()].map((call) => ({ label: call.label, ms: now - call.started }));
  }

  /** Answers one guest request; never rejects. */
  async handle(op: HostOp, json: string): Promise<{ json: string; fatal?: SandboxErrorInfo }> {
    let payload: Record<string, unknown>;
    try {
      const parsed = safeJsonParse(json);
      payload = isRecord(parsed) ? parsed : {};
    } catch (error) {
      if (isJsonDepthError(error)) {
        return { json: errorReply({ name: 'RangeError', message: `the arguments are ${error.message}` }) };
      }
      return { json: errorReply({ name: 'TypeError', message: 'the request is not valid JSON' }) };
    }
    try {
      switch (op) {
        case 'call_tool':
          return await this.callTool(payload);
        case 'parallel':
          return await this.parallel(payload);
        case 'manifest':
          return { json: okReply(this.manifest()) };
        case 'search':
          return { json: okReply(await this.search(payload)) };
        case 'fetch':
          return await this.fetch(payload);
      }
    } catch (error) {
      return { json: errorReply({ name: 'Error', message: errorMessage(error) }) };
    }
  }

  private budget(count: number): SandboxErrorInfo | undefined {
    this.calls += count;
    if (this.calls <= this.options.limits.maxToolCalls) return undefined;
    return {
      type: 'LimitExceeded',
      message: `more than ${this.options.limits.maxToolCalls} tool calls in one execution`,
    };
  }

  private async callTool(payload: Record<string, unknown>): Promise<{ json: string; fatal?: SandboxErrorInfo }> {
    const fatal = this.budget(1);
    if (fatal) return { json: errorReply({ name: 'LimitExceeded', message: fatal.message }), fatal };
    let { server, tool } = payload;
    if (typeof payload.name === 'string') {
      const target = this.byPublicName(payload.name);
      if ('error' in target) return { json: errorReply(target.error) };
      ({ server, tool } = target);
    }
    const outcome = await this.callOne(server, tool, payload.args);
    return { json: outcome.ok ? okReply(outcome.value) : errorReply(outcome.error) };
  }

  private async parallel(payload: Record<string, unknown>): Promise<{ json: string; fatal?: SandboxErrorInfo }> {
    const calls = Array.isArray(payload.calls) ? payload.calls : [];
    const fatal = this.budget(calls.length);
    if (fatal) return { json: errorReply({ name: 'LimitExceeded', message: fatal.message }), fatal };
    const requested = typeof payload.concurrency === 'number' ? Math.trunc(payload.concurrency) : PARALLEL_CONCURRENCY;
    const width = Math.min(PARALLEL_CONCURRENCY, Math.max(1, requested));
    const results: CallOutcome[] = new Array<CallOutcome>(calls.length);
    let next = 0;
    const lane = async (): Promise<void> => {
      // Each lane takes the next call until none is left: at most calls.length iterations in all.
      while (next < calls.length) {
        const index = next++;
        const call: unknown = calls[index];
        results[index] = isRecord(call)
          ? await this.callOne(call.server, call.tool, call.args)
          : { ok: false, error: toolError('', '', 'each call must be an object {server, tool, args}') };
      }
    };
    await Promise.all(Array.from({ length: Math.min(width, calls.length) }, lane));
    return { json: okReply(results) };
  }

  /** `server__tool`, the name tools/list shows in direct mode, as a server and a tool. */
  private byPublicName(name: string): { server: string; tool: string } | { error: ToolErrorPayload } {
    if (name.length > MAX_NAME_CHARS) {
      return { error: toolError('', '', `the name is ${name.length} characters; at most ${MAX_NAME_CHARS}`) };
    }
    const found = this.options.host.listTools(this.options.namespace).find((t) => t.publicName === name);
    if (found) return { server: found.server, tool: found.originalName };
    const at = name.indexOf('__');
    return { server: name.slice(0, at), tool: name.slice(at + 2) };
  }

  private async callOne(server: unknown, tool: unknown, args: unknown): Promise<CallOutcome> {
    if (typeof server !== 'string' || typeof tool !== 'string') {
      return { ok: false, error: toolError(String(server), String(tool), 'server and tool must be strings') };
    }
    // Checked before anything looks at the names: a huge one must cost nothing (no suggestions, no lookup).
    if (server.length > MAX_NAME_CHARS || tool.length > MAX_NAME_CHARS) {
      const which = server.length > MAX_NAME_CHARS ? 'server' : 'tool';
      const length = Math.max(server.length, tool.length);
      return {
        ok: false,
        error: toolError(
          server.slice(0, 40),
          tool.slice(0, 40),
          `the ${which} name is ${length} characters; at most ${MAX_NAME_CHARS}`,
        ),
      };
    }
    if (args !== undefined && args !== null && !isRecord(args)) {
      return { ok: false, error: toolError(server, tool, 'args must be an object') };
    }
    const resolved = this.resolve(server, tool);
    if ('error' in resolved) {
      const withheld = this.options.host.withheldTool?.(server, tool, this.options.namespace);
      if (withheld) return { ok: false, error: hostErrorPayload(server, tool, withheld) };
      return { ok: false, error: toolError(server, tool, resolved.error, 'TOOL_NOT_FOUND') };
    }
    // Once past the limit, no further result can be handed over: the call is not even made.
    if (this.resultBytes >= MAX_TOOL_RESULT_BYTES_PER_EXECUTION) {
      return { ok: false, error: toolError(server, resolved.name, resultLimitMessage(), 'SANDBOX_LIMIT') };
    }
    const callId = this.nextCall++;
    const label = `${server}/${resolved.name}`;
    this.inFlight.set(callId, { label, started: performance.now() });
    const { onProgress } = this.options;
    try {
      const result = await this.options.host.callTool(server, resolved.name, isRecord(args) ? args : {}, {
        signal: this.options.signal,
        namespace: this.options.namespace,
        ...(onProgress
          ? {
              onProgress: (progress: { progress: number; total?: number; message?: string }) =>
                onProgress(
                  `${label}: ${progress.progress}${progress.total === undefined ? '' : `/${progress.total}`}${progress.message ? ` ${progress.message}` : ''}`,
                ),
            }
          : {}),
      });
      if (result.isError) return { ok: false, error: toolError(server, resolved.name, toolErrorMessage(result)) };
      const value = toolResultValue(result);
      if (isNestedTooDeep(value)) {
        const message = `the result is nested deeper than ${MAX_JSON_DEPTH} levels`;
        return { ok: false, error: toolError(server, resolved.name, message) };
      }
      const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
      if (bytes > MAX_REPLY_BYTES) {
        return { ok: false, error: toolError(server, resolved.name, `the result exceeds ${MAX_REPLY_BYTES} bytes`) };
      }
      if (!this.takeResultBytes(bytes)) {
        return { ok: false, error: toolError(server, resolved.name, resultLimitMessage(), 'SANDBOX_LIMIT') };
      }
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error: hostErrorPayload(server, resolved.name, error) };
    } finally {
      this.inFlight.delete(callId);
    }
  }

  /** Counts a result about to be handed over; false (and nothing more is handed over) when it would pass the limit. */
  private takeResultBytes(bytes: number): boolean {
    if (this.resultBytes + bytes > MAX_TOOL_RESULT_BYTES_PER_EXECUTION) {
      this.resultBytes = MAX_TOOL_RESULT_BYTES_PER_EXECUTION;
      return false;
    }
    this.resultBytes += bytes;
    return true;
  }

  /**
   * The tool's real name: exact, or the method name the stubs give it (`get-sum` is `get_sum`). An unknown
   * name gets suggestions; the host still makes the access decision when the call is made.
   */
  private resolve(server: string, tool: string): { name: string } | { error: string } {
    const visible = this.options.host.listTools(this.options.namespace);
    const onServer = visible.filter((t) => t.server === server);
    if (onServer.length === 0) {
      const servers = [...new Set(visible.map((t) => t.server))];
      const close = suggestNames(server, servers);
      const hint = close.length > 0 ? ` Did you mean ${quoteList(close)}?` : ` Servers: ${quoteList(servers.sort())}.`;
      return { error: `unknown server "${server}".${hint}` };
    }
    if (onServer.some((t) => t.originalName === tool)) return { name: tool };
    const names = onServer.map((t) => t.originalName);
    const byIdentifier = toolIdentifiers(names).get(tool);
    if (byIdentifier !== undefined) return { name: byIdentifier };
    // Aliases: the public name (`everything__echo`), or any spelling of the same words (`getSum` for `get-sum`).
    if (tool.startsWith(`${server}__`) && names.includes(tool.slice(server.length + 2))) {
      return { name: tool.slice(server.length + 2) };
    }
    const wanted = normalizeName(tool);
    const sameWords = names.filter((name) => normalizeName(name) === wanted);
    if (sameWords.length === 1 && sameWords[0] !== undefined) return { name: sameWords[0] };
    const close = suggestNames(
      tool,
      onServer.map((t) => t.originalName),
    );
    const elsewhere = visible.filter((t) => t.originalName === tool).map((t) => t.server);
    let message = `unknown tool "${tool}" on server "${server}".`;
    if (close.length > 0) message += ` Did you mean ${quoteList(close)}?`;
    if (elsewhere.length > 0) message += ` A tool of that name is on ${quoteList(elsewhere)}.`;
    if (close.length === 0 && elsewhere.length === 0) message += ' Use api.search() to find tools.';
    return { error: message };
  }

  private manifest(): unknown {
    const { host, namespace } = this.options;
    const tools = host.listTools(namespace);
    return {
      servers: host.listServers(namespace).map((server) => ({
        name: server.name,
        ...(server.description ? { description: server.description } : {}),
        tools: tools.filter((t: CatalogTool) => t.server === server.name).map(manifestTool),
      })),
    };
  }

  private search(payload: Record<string, unknown>): Promise<unknown> {
    if (typeof payload.namespace === 'string' && payload.namespace.length > MAX_NAME_CHARS) {
      throw new Error(`the namespace is ${payload.namespace.length} characters; at most ${MAX_NAME_CHARS}`);
    }
    const options: SearchOptions = {
      query: typeof payload.query === 'string' ? payload.query : '',
      // The execution's namespace wins: code cannot widen its own view.
      namespace: this.options.namespace ?? (typeof payload.namespace === 'string' ? payload.namespace : undefined),
      max_depth: typeof payload.max_depth === 'number' ? payload.max_depth : 2,
      limit: typeof payload.limit === 'number' ? payload.limit : undefined,
    };
    return this.options.search.searchWithMeaning(options, this.options.signal);
  }

  private async fetch(payload: Record<string, unknown>): Promise<{ json: string; fatal?: SandboxErrorInfo }> {
    const { limits, signal } = this.options;
    if (!limits.network.enabled) {
      return {
        json: errorReply({
          name: 'NetworkDisabled',
          message: 'network access is disabled in this sandbox (sandbox.network.enabled is false)',
        }),
      };
    }
    const fatal = this.budget(1);
    if (fatal) return { json: errorReply({ name: 'LimitExceeded', message: fatal.message }), fatal };
    if (this.resultBytes >= MAX_TOOL_RESULT_BYTES_PER_EXECUTION) {
      return { json: errorReply({ name: 'LimitExceeded', message: resultLimitMessage() }) };
    }
    const request: FetchRequest = {
      url: typeof payload.url === 'string' ? payload.url : '',
      method: typeof payload.method === 'string' ? payload.method : undefined,
      headers: isRecord(payload.headers) ? stringRecord(payload.headers) : undefined,
      body: typeof payload.body === 'string' ? payload.body : undefined,
    };
    try {
      const answer = await sandboxFetch(request, {
        enabled: true,
        allowedHosts: limits.network.allowedHosts,
        maxBytes: limits.maxOutputBytes,
        signal,
      });
      if (!this.takeResultBytes(Buffer.byteLength(answer.body))) {
        return { json: errorReply({ name: 'LimitExceeded', message: resultLimitMessage() }) };
      }
      return { json: okReply(answer) };
    } catch (error) {
      return { json: errorReply({ name: 'NetworkError', message: errorMessage(error) }) };
    }
  }
}

function manifestTool(tool: CatalogTool): Record<string, unknown> {
  return {
    name: tool.originalName,
    ...(tool.definition.description ? { description: tool.definition.description } : {}),
    inputSchema: tool.definition.inputSchema,
    ...(tool.definition.outputSchema ? { outputSchema: tool.definition.outputSchema } : {}),
  };
}

function resultLimitMessage(): string {
  return `the tool results of this execution passed ${MAX_TOOL_RESULT_BYTES_PER_EXECUTION} bytes, the limit per execution; work with the results you have, or ask the tools for less`;
}

function toolError(server: string, tool: string, message: string, code?: string): ToolErrorPayload {
  return { name: 'ToolError', message, server, tool, ...(code ? { code } : {}) };
}

function quoteList(names: string[]): string {
  return names.map((n) => `"${n}"`).join(', ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringRecord(value: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) if (typeof v === 'string') out[key] = v;
  return out;
}
