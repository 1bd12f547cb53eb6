import type { Prompt, Resource, ResourceTemplate, ServerCapabilities, Tool } from '@modelcontextprotocol/sdk/types.js';

import type { JsonRpcPeer } from './json-rpc-peer.js';
import { fetchAllPages } from './pagination.js';

export type ListKind = 'tools' | 'prompts' | 'resources';

/** What a server offers, as it last listed it. */
export interface UpstreamLists {
  tools: Tool[];
  prompts: Prompt[];
  resources: Resource[];
  templates: ResourceTemplate[];
}

export const EMPTY_LISTS: UpstreamLists = { tools: [], prompts: [], resources: [], templates: [] };

/** The list kind a server's `list_changed` notification is about. */
export const LIST_CHANGED: Record<string, ListKind | undefined> = {
  'notifications/tools/list_changed': 'tools',
  'notifications/prompts/list_changed': 'prompts',
  'notifications/resources/list_changed': 'resources',
};

/** Every list the server's capabilities promise, each followed to its last page, all at once. */
export async function fetchLists(
  peer: JsonRpcPeer<unknown>,
  capabilities: ServerCapabilities,
  timeoutMs: number,
): Promise<UpstreamLists> {
  const list = <T>(method: string, key: string, enabled: unknown) =>
    enabled ? fetchAllPages<T>(peer, method, key, timeoutMs) : Promise.resolve([] as T[]);
  const [tools, prompts, resources, templates] = await Promise.all([
    list<Tool>('tools/list', 'tools', capabilities.tools),
    list<Prompt>('prompts/list', 'prompts', capabilities.prompts),
    list<Resource>('resources/list', 'resources', capabilities.resources),
    list<ResourceTemplate>('resources/templates/list', 'resourceTemplates', capabilities.resources),
  ]);
  return { tools, prompts, resources, templates };
}

/** Re-lists one kind after the server said it changed; returns the lists with that kind replaced. */
export async function refetchKind(
  peer: JsonRpcPeer<unknown>,
  lists: UpstreamLists,
  kind: ListKind,
  timeoutMs: number,
): Promise<UpstreamLists> {
  if (kind === 'tools') return { ...lists, tools: await fetchAllPages<Tool>(peer, 'tools/list', 'tools', timeoutMs) };
  if (kind === 'prompts') {
    return { ...lists, prompts: await fetchAllPages<Prompt>(peer, 'prompts/list', 'prompts', timeoutMs) };
  }
  const [resources, templates] = await Promise.all([
    fetchAllPages<Resource>(peer, 'resources/list', 'resources', timeoutMs),
    fetchAllPages<ResourceTemplate>(peer, 'resources/templates/list', 'resourceTemplates', timeoutMs),
  ]);
  return { ...lists, resources, templates };
}
