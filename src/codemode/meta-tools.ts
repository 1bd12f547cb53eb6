import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import { errorMessage, GatewayError } from '../errors.js';
import type { CodeModeHost } from './host.js';
import { CatalogSearch } from './search.js';
import { MAX_NAME_CHARS, MAX_QUERY_CHARS, MAX_SEARCH_LIMIT } from './search-limits.js';
import { suggestNames } from './suggest.js';
import { type GatewayToolSet, invalidArguments, textResult } from './tools.js';

const namespaceProperty = { type: 'string', description: 'Limit to one namespace.' } as const;

const DEFINITIONS: Tool[] = [
  {
    name: 'gateway_list_servers',
    description: 'List the MCP servers behind this gateway, with their state and tool counts.',
    inputSchema: { type: 'object', properties: { namespace: namespaceProperty } },
    annotations: { readOnlyHint: true },
  },
  {
    name: 'gateway_list_tools',
    description: "List one server's tools with their input schemas.",
    inputSchema: {
      type: 'object',
      properties: { server: { type: 'string' }, namespace: namespaceProperty },
      required: ['server'],
    },
    annotations: { readOnlyHint: true },
  },
  {
    name: 'gateway_search_tools',
    description: 'Search tools across all servers by keyword; best matches first.',
    inputSchema: {
      type: 'object',
      properties: { query: { type: 'string' }, namespace: namespaceProperty, limit: { type: 'integer', minimum: 1 } },
      required: ['query'],
    },
    annotations: { readOnlyHint: true },
  },
  {
    name: 'gateway_invoke',
    description: "Call a tool of a server by name; returns that tool's own result.",
    inputSchema: {
      type: 'object',
      properties: {
        server: { type: 'string' },
        tool: { type: 'string' },
        arguments: { type: 'object', description: "The tool's arguments." },
        namespace: namespaceProperty,
      },
      required: ['server', 'tool'],
    },
  },
];

const name = z.string().max(MAX_NAME_CHARS);
const ListServersArgs = z.object({ namespace: name.optional() });
const ListToolsArgs = z.object({ server: name, namespace: name.optional() });
const SearchToolsArgs = z.object({
  query: z.string().max(MAX_QUERY_CHARS),
  namespace: name.optional(),
  limit: z.number().int().min(1).max(MAX_SEARCH_LIMIT).optional(),
});
const InvokeArgs = z.object({
  server: name,
  tool: name,
  arguments: z.record(z.string(), z.unknown()).optional(),
  namespace: name.optional(),
});

/**
 * Meta mode: four tools to list, search and invoke the catalog's tools (the seeds' Meta-MCP mode).
 *
 * @example
 * const meta = createMetaTools(host);
 * await meta.call('gateway_invoke', { server: 'everything', tool: 'echo', arguments: { message: 'hi' } });
 */
export function createMetaTools(host: CodeModeHost): GatewayToolSet {
  const search = new CatalogSearch(host);

  function unknownServer(server: string, namespace: string | undefined): CallToolResult {
    const names = host.listServers(namespace).map((s) => s.name);
    const close = suggestNames(server, names);
    const hint = close.length > 0 ? ` Did you mean ${close.join(', ')}?` : ` Servers: ${names.join(', ') || 'none'}.`;
    return textResult(`unknown server "${server}".${hint}`, true);
  }

  return {
    definitions: DEFINITIONS,
    async call(name, args, options = {}) {
      switch (name) {
        case 'gateway_list_servers': {
          const parsed = ListServersArgs.safeParse(args ?? {});
          if (!parsed.success) return invalidArguments(name, parsed.error);
          const servers = host.listServers(parsed.data.namespace).map((s) => ({
            name: s.name,
            ...(s.description ? { description: s.description } : {}),
            ...(s.namespace ? { namespace: s.namespace } : {}),
            state: s.state,
            tools: s.toolCount,
          }));
          return textResult(JSON.stringify({ servers }));
        }
        case 'gateway_list_tools': {
          const parsed = ListToolsArgs.safeParse(args ?? {});
          if (!parsed.success) return invalidArguments(name, parsed.error);
          const { server, namespace } = parsed.data;
          if (!host.listServers(namespace).some((s) => s.name === server)) return unknownServer(server, namespace);
          const tools = host
            .listTools(namespace)
            .filter((t) => t.server === server)
            .map((t) => ({
              name: t.originalName,
              ...(t.definition.description ? { description: t.definition.description } : {}),
              inputSchema: t.definition.inputSchema,
            }));
          return textResult(JSON.stringify({ server, tools }));
        }
        case 'gateway_search_tools': {
          const parsed = SearchToolsArgs.safeParse(args ?? {});
          if (!parsed.success) return invalidArguments(name, parsed.error);
          const result = await search.searchWithMeaning({ ...parsed.data, max_depth: 2 }, options.signal);
          return textResult(JSON.stringify({ query: result.query, total: result.total, tools: result.tools ?? [] }));
        }
        case 'gateway_invoke': {
          const parsed = InvokeArgs.safeParse(args ?? {});
          if (!parsed.success) return invalidArguments(name, parsed.error);
          const { server, tool, namespace } = parsed.data;
          const withheld = host.withheldTool?.(server, tool, namespace);
          if (withheld) return textResult(`${server}/${tool} failed: ${withheld.message}`, true);
          const visible = host.listTools(namespace);
          if (!visible.some((t) => t.server === server)) return unknownServer(server, namespace);
          if (!visible.some((t) => t.server === server && t.originalName === tool)) {
            const close = suggestNames(
              tool,
              visible.filter((t) => t.server === server).map((t) => t.originalName),
            );
            const hint = close.length > 0 ? ` Did you mean ${close.join(', ')}?` : '';
            return textResult(`unknown tool "${tool}" on server "${server}".${hint}`, true);
          }
          try {
            return await host.callTool(server, tool, parsed.data.arguments ?? {}, {
              signal: options.signal,
              namespace,
            });
          } catch (error) {
            return textResult(`${server}/${tool} failed: ${errorMessage(error)}`, true);
          }
        }
        default:
          throw new GatewayError('TOOL_NOT_FOUND', `meta mode has no tool "${name}"`);
      }
    },
    close() {
      search.close();
      return Promise.resolve();
    },
  };
}
