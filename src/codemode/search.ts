import MiniSearch from 'minisearch';

import type { CatalogServer, CatalogTool } from '../catalog/types.js';
import type { CodeModeHost } from './host.js';
import { toIdentifier, toolIdentifiers, toolSignature } from './typegen.js';

/** Arguments of `search` (and `api.search`). */
export interface SearchOptions {
  query?: string;
  namespace?: string;
  /** 0 servers; 1 servers with tool groups and counts; 2 tools with one-line descriptions; 3 signatures. */
  max_depth?: number;
  limit?: number;
}

export interface ServerEntry {
  name: string;
  description?: string;
  /** Depth 1: matching tools, and their groups (see {@link toolGroup}). */
  tools?: number;
  groups?: Array<{ name: string; count: number }>;
}

export interface ToolEntry {
  server: string;
  name: string;
  description?: string;
  /** Depth 3: the tool as a TypeScript method signature (input and output types). */
  signature?: string;
}

export interface SearchResult {
  query: string;
  depth: number;
  /** Matches before `limit` was applied. */
  total: number;
  servers?: ServerEntry[];
  tools?: ToolEntry[];
}

export const DEFAULT_SEARCH_LIMIT = 20;
export const MAX_SEARCH_LIMIT = 200;
const SUMMARY_CHARS = 120;

/** Lower-case words of a name or text: split on anything not a letter or digit, and on camelCase. */
export function splitWords(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/**
 * The group a tool belongs to at depth 1: the part before the first `.` or `/` when the name has one
 * (`repos.list` → `repos`), else its first word (`get_issue` → `get`, `listFiles` → `list`).
 */
export function toolGroup(name: string): string {
  const dotted = /^([^./]+)[./]/.exec(name);
  if (dotted?.[1]) return dotted[1].toLowerCase();
  return splitWords(name)[0] ?? name.toLowerCase();
}

interface Document {
  id: number;
  name: string;
  server: string;
  description: string;
  params: string;
}

interface Index {
  tools: CatalogTool[];
  engine: MiniSearch<Document>;
}

/**
 * A ranked index over the tools a host shows, one per namespace, rebuilt lazily after the host reports a
 * catalog change. Ranking: fields weighted name > server > parameter names > description, prefix and typo
 * tolerance, an exact tool-name match boosted; ties by server, then tool name.
 *
 * @example
 * const search = new CatalogSearch(host);
 * search.search({ query: 'echo', max_depth: 2 }).tools?.[0]; // { server: 'everything', name: 'echo', … }
 */
export class CatalogSearch {
  private readonly indexes = new Map<string, Index>();
  private readonly unsubscribe: () => void;

  constructor(private readonly host: CodeModeHost) {
    this.unsubscribe = host.onCatalogChanged(() => this.indexes.clear());
  }

  /** Stops listening to catalog changes. */
  close(): void {
    this.unsubscribe();
    this.indexes.clear();
  }

  /** Every matching tool, best first; the whole catalog in (server, name) order for an empty query. */
  rank(query: string, namespace?: string): CatalogTool[] {
    const index = this.index(namespace);
    const trimmed = query.trim();
    if (!trimmed) return [...index.tools].sort(byServerThenName);
    const exact = new Set(splitWords(trimmed));
    const wanted = trimmed.toLowerCase();
    const hits = index.engine.search(trimmed, {
      boostDocument: (id: number) => {
        const tool = index.tools[id];
        if (!tool) return 1;
        const name = tool.originalName.toLowerCase();
        if (name === wanted || tool.publicName.toLowerCase() === wanted) return 3;
        const words = splitWords(tool.originalName);
        return words.length > 0 && words.every((w) => exact.has(w)) ? 1.5 : 1;
      },
    });
    const scored = hits.map((hit) => ({ tool: index.tools[hit.id as number], score: hit.score }));
    return scored
      .filter((entry): entry is { tool: CatalogTool; score: number } => entry.tool !== undefined)
      .sort((a, b) => b.score - a.score || byServerThenName(a.tool, b.tool))
      .map((entry) => entry.tool);
  }

  /** Runs a search and shapes the answer for the requested depth. */
  search(options: SearchOptions = {}): SearchResult {
    const query = options.query ?? '';
    const depth = Math.min(3, Math.max(0, Math.trunc(options.max_depth ?? 2)));
    const limit = Math.min(MAX_SEARCH_LIMIT, Math.max(1, Math.trunc(options.limit ?? DEFAULT_SEARCH_LIMIT)));
    const ranked = this.rank(query, options.namespace);
    if (depth >= 2) {
      const identifiers = depth === 3 ? this.identifiers(options.namespace) : undefined;
      const tools = ranked.slice(0, limit).map((tool) => toolEntry(tool, identifiers));
      return { query, depth, total: ranked.length, tools };
    }
    const servers = this.serverOrder(query, ranked, options.namespace);
    const entries = servers.slice(0, limit).map(({ server, tools }) => {
      const entry: ServerEntry = { name: server.name };
      if (server.description) entry.description = server.description;
      if (depth === 1) {
        entry.tools = tools.length;
        entry.groups = groupCounts(tools);
      }
      return entry;
    });
    return { query, depth, total: servers.length, servers: entries };
  }

  /** Servers in the order of their best-ranked tool; every visible server, by name, for an empty query. */
  private serverOrder(
    query: string,
    ranked: CatalogTool[],
    namespace: string | undefined,
  ): Array<{ server: CatalogServer; tools: CatalogTool[] }> {
    const known = new Map(this.host.listServers(namespace).map((s) => [s.name, s]));
    const byServer = new Map<string, CatalogTool[]>();
    for (const tool of ranked) byServer.set(tool.server, [...(byServer.get(tool.server) ?? []), tool]);
    const names = query.trim()
      ? [...byServer.keys()]
      : [...new Set([...known.keys(), ...byServer.keys()])].sort(compareStrings);
    return names.map((name) => ({
      server: known.get(name) ?? { name, state: 'unknown', toolCount: byServer.get(name)?.length ?? 0 },
      tools: byServer.get(name) ?? [],
    }));
  }

  /** Per server, tool name → method name on `api.server(name)` (the same map the stubs use). */
  private identifiers(namespace: string | undefined): Map<string, Map<string, string>> {
    const byServer = new Map<string, string[]>();
    for (const tool of this.index(namespace).tools) {
      byServer.set(tool.server, [...(byServer.get(tool.server) ?? []), tool.originalName]);
    }
    const result = new Map<string, Map<string, string>>();
    for (const [server, names] of byServer) {
      result.set(server, new Map([...toolIdentifiers(names)].map(([identifier, name]) => [name, identifier])));
    }
    return result;
  }

  private index(namespace: string | undefined): Index {
    const key = namespace ?? '';
    const cached = this.indexes.get(key);
    if (cached) return cached;
    const tools = this.host.listTools(namespace);
    const engine = new MiniSearch<Document>({
      fields: ['name', 'server', 'description', 'params'],
      tokenize: splitWords,
      processTerm: (term) => term.toLowerCase(),
      searchOptions: {
        boost: { name: 4, server: 2, params: 1.5, description: 1 },
        prefix: (term) => term.length >= 2,
        // One typo from four letters on, two from eight: enough for slips, not so loose that short words drift.
        fuzzy: (term) => (term.length >= 8 ? 2 : term.length >= 4 ? 1 : false),
      },
    });
    engine.addAll(tools.map((tool, id) => toDocument(tool, id)));
    const index = { tools, engine };
    this.indexes.set(key, index);
    return index;
  }
}

function toDocument(tool: CatalogTool, id: number): Document {
  const properties = tool.definition.inputSchema.properties;
  const params = properties && typeof properties === 'object' ? Object.keys(properties) : [];
  return {
    id,
    name: `${tool.originalName} ${tool.definition.title ?? ''}`,
    server: tool.server,
    description: tool.definition.description ?? '',
    params: params.join(' '),
  };
}

function toolEntry(tool: CatalogTool, identifiers: Map<string, Map<string, string>> | undefined): ToolEntry {
  const entry: ToolEntry = { server: tool.server, name: tool.originalName };
  const description = tool.definition.description?.trim();
  if (identifiers) {
    if (description) entry.description = description;
    const identifier = identifiers.get(tool.server)?.get(tool.originalName) ?? toIdentifier(tool.originalName);
    // The description is already in the entry; the signature carries only the types.
    entry.signature = toolSignature(
      { ...tool.definition, name: tool.originalName, description: undefined },
      identifier,
    );
  } else if (description) {
    entry.description = summary(description);
  }
  return entry;
}

/** The first line (or sentence), at most SUMMARY_CHARS characters. */
export function summary(description: string): string {
  const line = description.split('\n')[0]?.trim() ?? '';
  const sentence = /^(.+?[.!?])(\s|$)/.exec(line)?.[1] ?? line;
  return sentence.length <= SUMMARY_CHARS ? sentence : `${sentence.slice(0, SUMMARY_CHARS - 1)}…`;
}

function groupCounts(tools: CatalogTool[]): Array<{ name: string; count: number }> {
  const counts = new Map<string, number>();
  for (const tool of tools) {
    const group = toolGroup(tool.originalName);
    counts.set(group, (counts.get(group) ?? 0) + 1);
  }
  return [...counts]
    .map(([name, count]) => ({ name, count }))
    .sort((a, b) => b.count - a.count || compareStrings(a.name, b.name));
}

function byServerThenName(a: CatalogTool, b: CatalogTool): number {
  return compareStrings(a.server, b.server) || compareStrings(a.originalName, b.originalName);
}

/** Code-unit order, not locale order: the same on every machine. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
