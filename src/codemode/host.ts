import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

import type { CatalogServer, CatalogTool } from '../catalog/types.js';

/**
 * What Code Mode and meta mode need from the gateway. The gateway implements it per client session, so
 * every list and call is already limited to what that session may see; Code Mode never checks access
 * itself but also never bypasses this interface.
 */
export interface CodeModeHost {
  /** Servers visible to the session (optionally narrowed to one namespace). */
  listServers(namespace?: string): CatalogServer[];
  /** Tools visible to the session (optionally narrowed to one namespace). */
  listTools(namespace?: string): CatalogTool[];
  /**
   * Calls a tool by server and original tool name. Rejects with a GatewayError (TOOL_NOT_FOUND,
   * ACCESS_DENIED, UPSTREAM_*) or an UpstreamRpcError; a tool's own failure is a result with isError.
   */
  callTool(
    server: string,
    tool: string,
    args: Record<string, unknown>,
    options: {
      signal?: AbortSignal;
      namespace?: string;
      /** Receives the tool's progress notifications while it runs. */
      onProgress?: (progress: { progress: number; total?: number; message?: string }) => void;
    },
  ): Promise<CallToolResult>;
  /**
   * The error for a tool the session could call but that tool pinning withholds (its definition changed since
   * it was approved), so that a call to it says so rather than "unknown tool"; undefined for any other name.
   */
  withheldTool?(server: string, tool: string, namespace?: string): Error | undefined;
  /** Subscribe to catalog changes (to rebuild a search index); returns an unsubscribe function. */
  onCatalogChanged(listener: () => void): () => void;
}
