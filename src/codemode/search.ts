import type { CatalogServer, CatalogTool } from '../catalog/types.js';
import { errorMessage, GatewayError } from '../errors.js';
import { EMBEDDING_WEIGHT, EmbeddingClient, type EmbeddingSettings, embeddingSettingsFromEnv } from './embeddings.js';
import type { CodeModeHost } from './host.js';
import { MeaningIndex } from './meaning.js';
import { type RankedDocument, RankingIndex } from './ranking.js';
import { MAX_QUERY_CHARS, MAX_SEARCH_LIMIT } from './search-limits.js';
import { describeQuoted, queryWords, splitWords } from './text.js';
import { toIdentifier, toolIdentifiers, toolSignature } from './typegen.js';
import { sharedWordVectors } from './word-vectors.js';
import { WordNet } from './wordnet.js';

export { MAX_QUERY_CHARS, MAX_SEARCH_LIMIT } from './search-limits.js';
export { splitWords } from './text.js';

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
  /** What was left out of this answer and how to get it, when anything was. */
  cut?: string;
  /** Set when the configured embedding endpoint could not be used: the answer is the lexical ranking alone. */
  note?: string;
}

/** Default `limit` per depth: servers at 0 and 1, tools with summaries at 2, signatures at 3. */
export const DEFAULT_SEARCH_LIMITS = [20, 20, 10, 5] as const;
const SUMMARY_CHARS = 120;
/** Depth 3 keeps descriptions to this many characters; signatures carry the rest of what a call needs. */
const DEPTH3_DESCRIPTION_CHARS = 240;
/** At depths 0 and 1 a server is listed when one of its tools scores at least this share of the best tool. */
const SERVER_RELEVANCE_FLOOR = 0.35;
/** How much the word vectors' similarity counts beside the lexical score, both scaled to the best tool's. */
const MEANING_WEIGHT = 0.5;
/**
 * A tool with no word of the query is listed when its similarity is at least this share of the closest tool's,
 * and at least MEANING_ONLY_MINIMUM: a query about something no tool does (`weather` here) still finds nothing.
 */
const MEANING_ONLY_FLOOR = 0.75;
const MEANING_ONLY_MINIMUM = 0.5;

/**
 * The group a tool belongs to at depth 1: the part before the first `.` or `/` when the name has one
 * (`repos.list` → `repos`), else its first word (`get_issue` → `get`, `listFiles` → `list`).
 */
export function toolGroup(name: string): string {
  const dotted = /^([^./]+)[./]/.exec(name);
  if (dotted?.[1]) return dotted[1].toLowerCase();
  return splitWords(name)[0] ?? name.toLowerCase();
}

interface Index {
  tools: CatalogTool[];
  ranking: RankingIndex;
  /** Built at the first query that needs it, when word vectors are in use. */
  meaning?: MeaningIndex;
}

interface RankedTool {
  tool: CatalogTool;
  score: number;
}

/** One WordNet reader for the process: its files are opened once and its lookups cached. */
let sharedWordNet: WordNet | undefined;
/** One client (and vector cache) per embedding endpoint and model, shared by every session. */
const embeddingClients = new Map<string, EmbeddingClient>();

function embeddingClient(settings: EmbeddingSettings): EmbeddingClient {
  const key = `${settings.url}|${settings.model}`;
  let client = embeddingClients.get(key);
  if (!client) embeddingClients.set(key, (client = new EmbeddingClient(settings)));
  return client;
}

/**
 * A ranked index over the tools a host shows, one per namespace, rebuilt lazily after the host reports a
 * catalog change. Ranking: field-weighted BM25 with stemming, stop words and WordNet synonyms (see
 * {@link RankingIndex}); ties by server, then tool name.
 *
 * @example
 * const search = new CatalogSearch(host);
 * search.search({ query: 'echo', max_depth: 2 }).tools?.[0]; // { server: 'everything', name: 'echo', … }
 */
export class CatalogSearch {
  private readonly indexes = new Map<string, Index>();
  private readonly unsubscribe: () => void;
  private readonly wordnet: WordNet | undefined;
  private readonly embeddings: EmbeddingClient | undefined;
  private readonly vectors: boolean;

  /**
   * `synonyms: false` leaves WordNet out; `vectors: false` the word vectors (used when their optional package
   * is installed); `embeddings` (else the MCPROXY_EMBEDDINGS_* environment, else none) adds an embedding
   * model's similarity as a further signal in {@link searchWithMeaning}.
   */
  constructor(
    private readonly host: CodeModeHost,
    options: { synonyms?: boolean; vectors?: boolean; embeddings?: EmbeddingSettings | false } = {},
  ) {
    this.unsubscribe = host.onCatalogChanged(() => this.indexes.clear());
    this.wordnet = options.synonyms === false ? undefined : (sharedWordNet ??= new WordNet());
    this.vectors = options.vectors !== false;
    const settings = options.embeddings === false ? undefined : (options.embeddings ?? embeddingSettingsFromEnv());
    this.embeddings = settings ? embeddingClient(settings) : undefined;
  }

  /** Stops listening to catalog changes. */
  close(): void {
    this.unsubscribe();
    this.indexes.clear();
  }

  /** Every matching tool, best first; the whole catalog in (server, name) order for an empty query. */
  rank(query: string, namespace?: string): CatalogTool[] {
    return this.ranked(query, namespace).map((entry) => entry.tool);
  }

  /** Runs a search and shapes the answer for the requested depth (the lexical ranking alone). */
  search(options: SearchOptions = {}): SearchResult {
    return this.answer(options, (query) => this.ranked(query, options.namespace));
  }

  /**
   * As {@link search}, with the embedding model's similarity added when an endpoint is configured; when it
   * fails, the lexical answer with a note saying why.
   */
  async searchWithMeaning(options: SearchOptions = {}, signal?: AbortSignal): Promise<SearchResult> {
    const embeddings = this.embeddings;
    const query = options.query ?? '';
    if (!embeddings || !query.trim() || query.length > MAX_QUERY_CHARS) return this.search(options);
    const index = this.index(options.namespace);
    let similarities: number[];
    try {
      similarities = await embeddings.similarities(query, index.tools.map(embeddingText), signal);
    } catch (error) {
      return { ...this.search(options), note: `embeddings not used: ${errorMessage(error)}` };
    }
    const lexical = new Map(this.ranked(query, options.namespace).map((entry) => [entry.tool, entry.score]));
    const best = Math.max(0, ...lexical.values());
    const closest = Math.max(0, ...similarities);
    const combined = index.tools
      .map((tool, i) => ({ tool, lexical: lexical.get(tool) ?? 0, meaning: Math.max(0, similarities[i] ?? 0) }))
      .filter((entry) => entry.lexical > 0 || (closest > 0 && entry.meaning >= closest * 0.75))
      .map((entry) => ({
        tool: entry.tool,
        score: (best > 0 ? entry.lexical / best : 0) + EMBEDDING_WEIGHT * (closest > 0 ? entry.meaning / closest : 0),
      }))
      .sort((a, b) => b.score - a.score || byServerThenName(a.tool, b.tool));
    return this.answer(options, () => combined);
  }

  private answer(options: SearchOptions, rank: (query: string) => RankedTool[]): SearchResult {
    const query = options.query ?? '';
    if (query.length > MAX_QUERY_CHARS) {
      throw new GatewayError('INVALID_PARAMS', `the query is ${query.length} characters; at most ${MAX_QUERY_CHARS}`);
    }
    const depth = Math.min(3, Math.max(0, Math.trunc(options.max_depth ?? 2)));
    const limit = Math.min(
      MAX_SEARCH_LIMIT,
      Math.max(1, Math.trunc(options.limit ?? DEFAULT_SEARCH_LIMITS[depth as 0 | 1 | 2 | 3])),
    );
    const ranked = rank(query);
    if (depth >= 2) return this.toolAnswer(query, depth, limit, ranked, options.namespace);
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
    const result: SearchResult = { query, depth, total: servers.length, servers: entries };
    if (servers.length > limit) result.cut = `${servers.length - limit} more servers match; raise limit to see them`;
    return result;
  }

  private toolAnswer(
    query: string,
    depth: number,
    limit: number,
    ranked: RankedTool[],
    namespace: string | undefined,
  ): SearchResult {
    const identifiers = depth === 3 ? this.identifiers(namespace) : undefined;
    let shortened = 0;
    const tools = ranked.slice(0, limit).map(({ tool }) => {
      const entry = toolEntry(tool, identifiers);
      if (entry.shortened) shortened++;
      return entry.entry;
    });
    const result: SearchResult = { query, depth, total: ranked.length, tools };
    const cuts: string[] = [];
    if (ranked.length > limit) cuts.push(`${ranked.length - limit} more tools match (raise limit)`);
    if (shortened > 0) {
      cuts.push(
        `${shortened} descriptions shortened to ${DEPTH3_DESCRIPTION_CHARS} characters (api.manifest() has them whole)`,
      );
    }
    if (cuts.length > 0) result.cut = cuts.join('; ');
    return result;
  }

  private ranked(query: string, namespace: string | undefined): RankedTool[] {
    const index = this.index(namespace);
    if (!query.trim()) return [...index.tools].sort(byServerThenName).map((tool) => ({ tool, score: 0 }));
    const lexical = index.ranking.score(query);
    const meaning = this.meaning(index);
    if (!meaning) {
      return lexical
        .map(({ id, score }) => ({ tool: index.tools[id], score }))
        .filter((entry): entry is RankedTool => entry.tool !== undefined);
    }
    return fuse(index.tools, lexical, meaning.similarities(queryWords(describeQuoted(query), () => false)));
  }

  private meaning(index: Index): MeaningIndex | undefined {
    if (!this.vectors) return undefined;
    if (index.meaning) return index.meaning;
    const vectors = sharedWordVectors();
    if (!vectors) return undefined;
    const documents = index.tools.map((tool) => ({
      name: tool.originalName,
      title: toolTitle(tool),
      description: tool.definition.description ?? '',
    }));
    return (index.meaning = new MeaningIndex(documents, vectors));
  }

  /**
   * Servers in the order of their best-ranked tool, each with its tools that score near the best match (so a
   * typical query names a few servers, not all); every visible server, by name, for an empty query.
   */
  private serverOrder(
    query: string,
    ranked: RankedTool[],
    namespace: string | undefined,
  ): Array<{ server: CatalogServer; tools: CatalogTool[] }> {
    const known = new Map(this.host.listServers(namespace).map((s) => [s.name, s]));
    // With word vectors a score is a lexical share plus up to MEANING_WEIGHT, which most tools get a good part of.
    const share = this.index(namespace).meaning
      ? (SERVER_RELEVANCE_FLOOR + MEANING_WEIGHT) / (1 + MEANING_WEIGHT)
      : SERVER_RELEVANCE_FLOOR;
    const floor = (ranked[0]?.score ?? 0) * share;
    const byServer = new Map<string, CatalogTool[]>();
    for (const { tool, score } of ranked) {
      if (query.trim() && score < floor) continue;
      byServer.set(tool.server, [...(byServer.get(tool.server) ?? []), tool]);
    }
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
    // Sorted first, so that equal scores come out in (server, name) order.
    const tools = [...this.host.listTools(namespace)].sort(byServerThenName);
    const servers = new Map(this.host.listServers(namespace).map((s) => [s.name, s]));
    const ranking = new RankingIndex(
      tools.map((tool) => toDocument(tool, servers.get(tool.server))),
      this.wordnet,
    );
    const index = { tools, ranking };
    this.indexes.set(key, index);
    return index;
  }
}

/**
 * The lexical score and the word vectors' similarity, each scaled to its best tool's and added (the similarity
 * weighted {@link MEANING_WEIGHT}); a tool the lexical ranking missed is kept when it is close in meaning.
 */
function fuse(
  tools: CatalogTool[],
  lexical: Array<{ id: number; score: number }>,
  meaning: Float64Array,
): RankedTool[] {
  const best = lexical[0]?.score ?? 0;
  const closest = Math.max(0, ...meaning);
  const scores = new Map<number, number>();
  for (const { id, score } of lexical) scores.set(id, best > 0 ? score / best : 0);
  if (closest > 0) {
    for (const [id, similarity] of meaning.entries()) {
      if (!scores.has(id) && (similarity < closest * MEANING_ONLY_FLOOR || similarity < MEANING_ONLY_MINIMUM)) continue;
      scores.set(id, (scores.get(id) ?? 0) + (MEANING_WEIGHT * similarity) / closest);
    }
  }
  return [...scores]
    .map(([id, score]) => ({ tool: tools[id]!, score }))
    .sort((a, b) => b.score - a.score || byServerThenName(a.tool, b.tool));
}

function embeddingText(tool: CatalogTool): string {
  return `${tool.originalName}: ${tool.definition.title ?? ''} ${tool.definition.description ?? ''}`;
}

function toDocument(tool: CatalogTool, server: CatalogServer | undefined): RankedDocument {
  const properties = tool.definition.inputSchema.properties;
  const paramNames: string[] = [];
  const paramText: string[] = [];
  if (properties && typeof properties === 'object') {
    for (const [name, schema] of Object.entries(properties)) {
      paramNames.push(name);
      const description = (schema as { description?: unknown } | null)?.description;
      if (typeof description === 'string') paramText.push(description);
      paramText.push(...enumValues(schema));
    }
  }
  return {
    name: tool.originalName,
    title: tool.definition.title ?? '',
    description: tool.definition.description ?? '',
    paramNames,
    paramText: paramText.join(' '),
    server: `${tool.server} ${server?.description ?? ''}`,
    serverName: tool.server,
    exactNames: [tool.originalName, tool.publicName],
  };
}

/**
 * The string values an argument (or its array's items) is limited to: what they name is part of what the tool
 * does (`state: open | closed` on update_issue, `action: list | new | close | select` on browser_tabs).
 */
function enumValues(schema: unknown): string[] {
  if (!schema || typeof schema !== 'object') return [];
  const { enum: values, items } = schema as { enum?: unknown; items?: unknown };
  const own = Array.isArray(values) ? values.filter((value): value is string => typeof value === 'string') : [];
  return items && typeof items === 'object' && !Array.isArray(items) ? [...own, ...enumValues(items)] : own;
}

/** The tool's title, else the one in its annotations (where @playwright/mcp puts `Drag mouse`, `Go back`). */
function toolTitle(tool: CatalogTool): string {
  const annotated = tool.definition.annotations?.title;
  return tool.definition.title ?? (typeof annotated === 'string' ? annotated : '');
}

function toolEntry(
  tool: CatalogTool,
  identifiers: Map<string, Map<string, string>> | undefined,
): { entry: ToolEntry; shortened: boolean } {
  const entry: ToolEntry = { server: tool.server, name: tool.originalName };
  const description = tool.definition.description?.trim();
  let shortened = false;
  if (identifiers) {
    if (description) {
      shortened = description.length > DEPTH3_DESCRIPTION_CHARS;
      entry.description = shortened ? `${description.slice(0, DEPTH3_DESCRIPTION_CHARS - 1)}…` : description;
    }
    const identifier = identifiers.get(tool.server)?.get(tool.originalName) ?? toIdentifier(tool.originalName);
    // The description is already in the entry; the signature carries only the types.
    entry.signature = toolSignature(
      { ...tool.definition, name: tool.originalName, description: undefined },
      identifier,
    );
  } else if (description) {
    entry.description = summary(description);
  }
  return { entry, shortened };
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
