import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

import { serversOfNamespace } from '../access/namespaces.js';
import type { CatalogServer, CatalogTool } from '../catalog/types.js';
import type { CodeModeHost } from '../codemode/host.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { withheldError } from '../pinning/tool-pinning.js';
import type { ClientSession } from '../relay/client-session.js';
import { recordedToolCall } from '../relay/recorded-call.js';
import { requestWithInput } from '../relay/upstream-call.js';

/**
 * Code Mode's and meta mode's window on the gateway for one session: everything it lists or calls goes
 * through the session's catalog view, so a `namespace` argument can only narrow what the session may see.
 */
export function createSessionHost(gateway: Gateway, session: ClientSession): CodeModeHost {
  const narrowed = (namespace: string | undefined): ((server: string) => boolean) => {
    const view = session.view;
    if (namespace === undefined || namespace === '') return (server) => view.hasServer(server);
    const members = serversOfNamespace(gateway.config, namespace);
    return (server) => members.has(server) && view.hasServer(server);
  };

  const withheldTool = (server: string, tool: string, namespace?: string): GatewayError | undefined => {
    if (!narrowed(namespace)(server)) return undefined;
    const held = session.view.catalog.findWithheldByOrigin(server, tool);
    return held ? withheldError(held.publicName, server, tool) : undefined;
  };

  return {
    listServers(namespace?: string): CatalogServer[] {
      const visible = narrowed(namespace);
      const tools = session.view.toolEntries();
      return gateway
        .listServers()
        .filter((server) => server.config.enabled && visible(server.name))
        .map((server) => ({
          name: server.name,
          ...(server.config.description ? { description: server.config.description } : {}),
          ...(server.config.namespace ? { namespace: server.config.namespace } : {}),
          state: server.state,
          toolCount: tools.filter((tool) => tool.server === server.name).length,
        }));
    },

    listTools(namespace?: string): CatalogTool[] {
      const visible = narrowed(namespace);
      return session.view.toolEntries().filter((tool) => visible(tool.server));
    },

    async callTool(server, tool, args, options): Promise<CallToolResult> {
      const view = session.view;
      const entry = narrowed(options.namespace)(server) ? view.findToolByOrigin(server, tool) : undefined;
      if (!entry) {
        const withheld = withheldTool(server, tool, options.namespace);
        if (withheld) throw withheld;
        // A tool that exists but is hidden from this session: an attempt the audit log should show.
        if (view.catalog.findToolByOrigin(server, tool)) session.scope.onToolCall?.(server, tool)('denied');
        throw unknownTool(view.toolEntries(), server, tool, options.namespace);
      }
      const origin = session.origin;
      const signIn = gateway.signInGate(server, origin, options.signal ?? new AbortController().signal);
      if (signIn) await signIn;
      const instance = gateway.instanceFor(server, origin);
      const record = { metrics: gateway.metrics, scope: session.scope, server, tool };
      return recordedToolCall(record, async () => {
        const result = await requestWithInput(
          instance,
          'tools/call',
          { name: tool, arguments: args },
          {
            signal: options.signal,
            origin,
            ...(options.onProgress ? { onProgress: options.onProgress } : {}),
            timeoutMs: instance.config.toolTimeoutMs,
            describe: `tool "${tool}" on server "${server}"`,
          },
        );
        return result as CallToolResult;
      });
    },

    withheldTool,

    onCatalogChanged(listener: () => void): () => void {
      return gateway.onCatalogChanged(listener);
    },
  };
}

function unknownTool(visible: CatalogTool[], server: string, tool: string, namespace?: string): GatewayError {
  const onServer = visible.filter((entry) => entry.server === server);
  const where = namespace ? ` in namespace "${namespace}"` : '';
  if (onServer.length === 0) {
    const servers = [...new Set(visible.map((entry) => entry.server))];
    return new GatewayError(
      'TOOL_NOT_FOUND',
      `unknown server "${server}"${where}; servers: ${servers.join(', ') || 'none'}`,
    );
  }
  return new GatewayError('TOOL_NOT_FOUND', `unknown tool "${tool}" on server "${server}"${where}`, {
    data: { available: onServer.map((entry) => entry.originalName).slice(0, 50) },
  });
}
