import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';

import { createToolFilter } from '../access/tool-filter.js';
import { DEFAULT_TOOL_NAMING, type ServerConfig } from '../config/model.js';
import type { ListKind, UpstreamLists } from '../upstream/instance-lists.js';
import { assignNames, closestNames, publicToolDefinition } from './naming.js';
import type { CatalogPrompt, CatalogResource, CatalogTemplate, CatalogTool } from './types.js';

/** Prefix of the URI a resource gets when two servers list the same URI (the first keeps the original). */
export const SHADOWED_URI_SCHEME = 'mcproxy://';

export interface ResourceRoute {
  server: string;
  originalUri: string;
}

/** States whose last known lists stay in the catalog: calls to them wait for the server instead of vanishing. */
const LISTED_STATES = new Set(['ready', 'idle', 'starting', 'restarting']);

/** What the catalog is built from: one server's lists as some instance of it last reported them. */
export interface ListSource {
  readonly name: string;
  readonly state: string;
  readonly config: Pick<ServerConfig, 'prefix' | 'tools' | 'naming'>;
  readonly lists: UpstreamLists;
}

/** Judges each tool the catalog would list (tool pinning); false keeps it out, as withheld. */
export type ToolAdmission = (server: string, tool: Tool) => boolean;

/** For each list kind that changed, the servers whose entries changed (added, removed, renamed or edited). */
export type CatalogChanges = Map<ListKind, Set<string>>;

/**
 * The merged view of every server's tools, prompts, resources and templates, rebuilt from the upstreams'
 * lists whenever one changes. Order is config order, then each server's own order, so names are stable.
 */
export class Catalog {
  tools: CatalogTool[] = [];
  prompts: CatalogPrompt[] = [];
  resources: CatalogResource[] = [];
  templates: CatalogTemplate[] = [];
  /** Renames made to settle collisions or invalid names, for the log. */
  renames: string[] = [];

  private toolsByName = new Map<string, CatalogTool>();
  /** Tools kept out by `admit`, under the names they would have. */
  private withheldByName = new Map<string, CatalogTool>();
  private toolCounts = new Map<string, number>();
  private promptsByName = new Map<string, CatalogPrompt>();
  private resourcesByUri = new Map<string, CatalogResource>();
  private compiledTemplates: { server: string; template: UriTemplate }[] = [];
  private signatures: Record<ListKind, Map<string, string>> = {
    tools: new Map(),
    prompts: new Map(),
    resources: new Map(),
  };

  constructor(private readonly admit?: ToolAdmission) {}

  /** Rebuilds from `sources` (in config order) and returns what changed, by kind and server. */
  rebuild(sources: readonly ListSource[]): CatalogChanges {
    const listed = sources.filter((source) => LISTED_STATES.has(source.state));
    this.renames = [];
    this.buildTools(listed);
    this.buildPrompts(listed);
    this.buildResources(listed);
    const next: Record<ListKind, Map<string, string>> = {
      tools: signaturesByServer(this.tools, (tool) => tool.definition),
      prompts: signaturesByServer(this.prompts, (prompt) => prompt.definition),
      resources: signaturesByServer(
        [
          ...this.resources.map((resource) => ({ server: resource.server, value: resource.publicUri as unknown })),
          ...this.templates.map((template) => ({ server: template.server, value: template.definition as unknown })),
        ],
        (entry) => entry.value,
      ),
    };
    const changed: CatalogChanges = new Map();
    for (const kind of ['tools', 'prompts', 'resources'] as const) {
      const servers = differingKeys(this.signatures[kind], next[kind]);
      if (servers.size > 0) changed.set(kind, servers);
    }
    this.signatures = next;
    return changed;
  }

  /** How many tools of a server the catalog holds (0 for a server it does not list). */
  toolCount(server: string): number {
    return this.toolCounts.get(server) ?? 0;
  }

  findTool(publicName: string): CatalogTool | undefined {
    return this.toolsByName.get(publicName);
  }

  /** A tool kept out by the admission check (its definition changed), by the name it would have. */
  findWithheldTool(publicName: string): CatalogTool | undefined {
    return this.withheldByName.get(publicName);
  }

  findToolByOrigin(server: string, originalName: string): CatalogTool | undefined {
    return this.tools.find((tool) => tool.server === server && tool.originalName === originalName);
  }

  /** A withheld tool by its server and original name (Code Mode calls tools so). */
  findWithheldByOrigin(server: string, originalName: string): CatalogTool | undefined {
    for (const tool of this.withheldByName.values()) {
      if (tool.server === server && tool.originalName === originalName) return tool;
    }
    return undefined;
  }

  suggestTools(name: string): string[] {
    return closestNames(name, this.toolsByName.keys());
  }

  findPrompt(publicName: string): CatalogPrompt | undefined {
    return this.promptsByName.get(publicName);
  }

  suggestPrompts(name: string): string[] {
    return closestNames(name, this.promptsByName.keys());
  }

  /**
   * Which server a resource URI belongs to: a listed URI (or its shadowed `mcproxy://server/…` form), else the
   * first template that matches, else the only server that lists URIs of the same scheme.
   */
  routeResource(uri: string): ResourceRoute | undefined {
    const listed = this.resourcesByUri.get(uri);
    if (listed) return { server: listed.server, originalUri: listed.originalUri };
    if (uri.startsWith(SHADOWED_URI_SCHEME)) {
      const rest = uri.slice(SHADOWED_URI_SCHEME.length);
      const slash = rest.indexOf('/');
      if (slash > 0) {
        try {
          return { server: rest.slice(0, slash), originalUri: decodeURIComponent(rest.slice(slash + 1)) };
        } catch {
          return undefined;
        }
      }
    }
    for (const { server, template } of this.compiledTemplates) {
      if (template.match(uri)) return { server, originalUri: uri };
    }
    const scheme = uri.split(':', 1)[0];
    const owners = new Set(
      this.resources.filter((r) => r.originalUri.split(':', 1)[0] === scheme).map((r) => r.server),
    );
    if (owners.size === 1) return { server: [...owners][0]!, originalUri: uri };
    return undefined;
  }

  /** The URI a client knows a server's resource by (the inverse of routeResource for listed resources). */
  publicUriOf(server: string, originalUri: string): string {
    const listed = this.resourcesByUri.get(originalUri);
    if (!listed || listed.server === server) return originalUri;
    return shadowedUri(server, originalUri);
  }

  private buildTools(upstreams: readonly ListSource[]): void {
    const claims = upstreams.flatMap((upstream) => {
      const allowed = createToolFilter(upstream.config.tools);
      return upstream.lists.tools
        .filter((tool) => allowed(tool.name))
        .map((tool) => ({
          server: upstream.name,
          prefix: upstream.config.prefix,
          original: tool.name,
          naming: upstream.config.naming ?? DEFAULT_TOOL_NAMING,
          tool,
        }));
    });
    const names = assignNames(claims);
    // Withheld tools take part in naming, so that approving one brings it back under the same name.
    const entries = names.map((assignment, i) => ({
      publicName: assignment.publicName,
      server: assignment.server,
      originalName: assignment.original,
      definition: publicToolDefinition(claims[i]!.tool, assignment),
      admitted: this.admit?.(assignment.server, claims[i]!.tool) ?? true,
    }));
    this.tools = entries.filter((entry) => entry.admitted).map(({ admitted: _, ...tool }) => tool);
    this.withheldByName = new Map(
      entries.filter((entry) => !entry.admitted).map(({ admitted: _, ...tool }) => [tool.publicName, tool]),
    );
    this.toolsByName = new Map(this.tools.map((tool) => [tool.publicName, tool]));
    this.toolCounts = new Map();
    for (const tool of this.tools) this.toolCounts.set(tool.server, (this.toolCounts.get(tool.server) ?? 0) + 1);
    this.collectRenames('tool', names);
  }

  private buildPrompts(upstreams: readonly ListSource[]): void {
    const claims = upstreams.flatMap((upstream) =>
      upstream.lists.prompts.map((prompt) => ({
        server: upstream.name,
        prefix: upstream.config.prefix,
        original: prompt.name,
        prompt,
      })),
    );
    const names = assignNames(claims);
    this.prompts = names.map((assignment, i) => ({
      publicName: assignment.publicName,
      server: assignment.server,
      originalName: assignment.original,
      definition: { ...claims[i]!.prompt, name: assignment.publicName },
    }));
    this.promptsByName = new Map(this.prompts.map((prompt) => [prompt.publicName, prompt]));
    this.collectRenames('prompt', names);
  }

  private buildResources(upstreams: readonly ListSource[]): void {
    const byUri = new Map<string, CatalogResource>();
    const resources: CatalogResource[] = [];
    for (const upstream of upstreams) {
      for (const resource of upstream.lists.resources) {
        const first = byUri.get(resource.uri);
        const publicUri =
          first && first.server !== upstream.name ? shadowedUri(upstream.name, resource.uri) : resource.uri;
        if (publicUri !== resource.uri) {
          this.renames.push(
            `resource "${resource.uri}" of server "${upstream.name}" is also listed by "${first?.server}"; exposed as "${publicUri}"`,
          );
        }
        const entry = {
          publicUri,
          server: upstream.name,
          originalUri: resource.uri,
          definition: { ...resource, uri: publicUri },
        };
        if (!byUri.has(publicUri)) {
          byUri.set(publicUri, entry);
          resources.push(entry);
        }
      }
    }
    this.resources = resources;
    this.resourcesByUri = byUri;
    this.templates = upstreams.flatMap((upstream) =>
      upstream.lists.templates.map((definition) => ({ server: upstream.name, definition })),
    );
    this.compiledTemplates = [];
    for (const entry of this.templates) {
      try {
        this.compiledTemplates.push({ server: entry.server, template: new UriTemplate(entry.definition.uriTemplate) });
      } catch {
        this.renames.push(`template "${entry.definition.uriTemplate}" of server "${entry.server}" cannot be parsed`);
      }
    }
  }

  private collectRenames(kind: string, names: readonly { server: string; renamed?: string }[]): void {
    for (const name of names)
      if (name.renamed) this.renames.push(`${kind} of server "${name.server}": ${name.renamed}`);
  }
}

function signaturesByServer<T extends { server: string }>(entries: readonly T[], pick: (entry: T) => unknown) {
  const parts = new Map<string, unknown[]>();
  for (const entry of entries) {
    let list = parts.get(entry.server);
    if (!list) parts.set(entry.server, (list = []));
    list.push(pick(entry));
  }
  return new Map([...parts].map(([server, list]) => [server, JSON.stringify(list)]));
}

function differingKeys(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): Set<string> {
  const keys = new Set<string>();
  for (const [key, value] of after) if (before.get(key) !== value) keys.add(key);
  for (const key of before.keys()) if (!after.has(key)) keys.add(key);
  return keys;
}

function shadowedUri(server: string, uri: string): string {
  return `${SHADOWED_URI_SCHEME}${server}/${encodeURIComponent(uri)}`;
}
