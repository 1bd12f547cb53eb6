import type { CatalogServer } from '../catalog/types.js';

/** Servers named in the instructions; a longer list is summarised, `search` finds the rest. */
const MAX_LISTED_SERVERS = 12;
const MAX_DESCRIPTION_CHARS = 60;

/**
 * What `initialize` tells a client in code mode: the two tools, in the order a model should use them, and the
 * servers this session can reach. A few hundred bytes: it is read on every conversation.
 *
 * @example
 * codeModeInstructions([{ name: 'github', state: 'ready', toolCount: 26 }]);
 */
export function codeModeInstructions(servers: CatalogServer[]): string {
  const listed = servers
    .slice(0, MAX_LISTED_SERVERS)
    .map((server) => (server.description ? `${server.name} (${clip(server.description)})` : server.name));
  const more = servers.length > MAX_LISTED_SERVERS ? ` and ${servers.length - MAX_LISTED_SERVERS} more` : '';
  const reach = listed.length > 0 ? `Servers: ${listed.join(', ')}${more}.` : 'No servers are available to you now.';
  return [
    'mcproxy gateway in code mode: the tools of several MCP servers behind two tools.',
    '1. search {query} finds tools; max_depth 3 gives their TypeScript signatures.',
    '2. execute {code} runs JavaScript: `return await api.call_tool("server", "tool", {…})`, or',
    'api.server("server").tool({…}); api.parallel([...]) runs calls at once; api.state keeps data between runs.',
    reach,
  ].join('\n');
}

function clip(text: string): string {
  const line = text.split('\n')[0]?.trim() ?? '';
  return line.length <= MAX_DESCRIPTION_CHARS ? line : `${line.slice(0, MAX_DESCRIPTION_CHARS - 1)}…`;
}
