import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';

import type { Catalog, ResourceRoute } from '../catalog/catalog.js';
import { closestNames } from '../catalog/naming.js';
import type { CatalogPrompt, CatalogTool } from '../catalog/types.js';
import type { Mode, SandboxSettings } from '../config/schema.js';

/**
 * What one session may see. Unscoped sessions see the whole catalog; a scope narrows it to a set of
 * servers (namespaces), to one server under its own names (`/mcp/<server>`), and by tool rules.
 */
export interface SessionScope {
  /** Servers visible to the session; all when absent. */
  servers?: ReadonlySet<string>;
  /** One server alone, its tools and prompts under their own, unprefixed names. */
  single?: string;
  /** Tool-level access rules (allow/deny lists); everything when absent. */
  allowTool?: (tool: CatalogTool) => boolean;
  /** How tools are exposed to this session, overriding the config's mode. */
  mode?: Mode;
  /** Name of the scope, for logs and errors (a namespace, `server:<name>`). */
  label?: string;
  /** Code Mode's sandbox settings for this session (its namespace's), instead of the config's. */
  sandbox?: SandboxSettings;
  /**
   * Observes each tool call the session makes on a server (direct, inside `execute`, `gateway_invoke`): called
   * when the call starts, the returned function when it ends with its outcome. Feeds the audit log.
   */
  onToolCall?: (server: string, tool: string) => (outcome: string) => void;
}

/** The catalog as one session sees it. Every list and lookup of a session goes through here. */
export class CatalogView {
  constructor(
    readonly catalog: Catalog,
    readonly scope: SessionScope = {},
  ) {}

  get unscoped(): boolean {
    const { servers, single, allowTool } = this.scope;
    return servers === undefined && single === undefined && allowTool === undefined;
  }

  hasServer(server: string): boolean {
    const { servers, single } = this.scope;
    if (single !== undefined) return server === single;
    return servers === undefined || servers.has(server);
  }

  /** Catalog entries of the visible tools (server and original names included). */
  toolEntries(): CatalogTool[] {
    if (this.unscoped) return this.catalog.tools;
    return this.catalog.tools.filter((tool) => this.canUse(tool));
  }

  tools(): Tool[] {
    const { single } = this.scope;
    if (single !== undefined) {
      return this.toolEntries().map((tool) => ({ ...tool.definition, name: tool.originalName }));
    }
    return this.toolEntries().map((tool) => tool.definition);
  }

  /** The tool a client names, if it may use it. */
  findTool(name: string): CatalogTool | undefined {
    const { single } = this.scope;
    const tool = single !== undefined ? this.catalog.findToolByOrigin(single, name) : this.catalog.findTool(name);
    return tool && this.canUse(tool) ? tool : undefined;
  }

  /** A visible tool by its server and original name (Code Mode addresses tools this way). */
  findToolByOrigin(server: string, originalName: string): CatalogTool | undefined {
    const tool = this.catalog.findToolByOrigin(server, originalName);
    return tool && this.canUse(tool) ? tool : undefined;
  }

  suggestTools(name: string): string[] {
    const { single } = this.scope;
    return closestNames(
      name,
      this.toolEntries().map((tool) => (single !== undefined ? tool.originalName : tool.publicName)),
    );
  }

  prompts(): Prompt[] {
    const { single } = this.scope;
    const visible = this.catalog.prompts.filter((prompt) => this.hasServer(prompt.server));
    if (single !== undefined) return visible.map((prompt) => ({ ...prompt.definition, name: prompt.originalName }));
    return visible.map((prompt) => prompt.definition);
  }

  findPrompt(name: string): CatalogPrompt | undefined {
    const { single } = this.scope;
    if (single !== undefined) {
      return this.catalog.prompts.find((prompt) => prompt.server === single && prompt.originalName === name);
    }
    const prompt = this.catalog.findPrompt(name);
    return prompt && this.hasServer(prompt.server) ? prompt : undefined;
  }

  suggestPrompts(name: string): string[] {
    return closestNames(
      name,
      this.prompts().map((prompt) => prompt.name),
    );
  }

  resources(): Resource[] {
    return this.catalog.resources.filter((r) => this.hasServer(r.server)).map((r) => r.definition);
  }

  templates(): ResourceTemplate[] {
    return this.catalog.templates.filter((t) => this.hasServer(t.server)).map((t) => t.definition);
  }

  templateServer(uriTemplate: string): string | undefined {
    const template = this.catalog.templates.find(
      (entry) => entry.definition.uriTemplate === uriTemplate && this.hasServer(entry.server),
    );
    return template?.server;
  }

  routeResource(uri: string): ResourceRoute | undefined {
    const { single } = this.scope;
    const route = this.catalog.routeResource(uri);
    if (route && this.hasServer(route.server)) return route;
    // One server alone: whatever it is asked for is its own.
    if (single !== undefined) return { server: single, originalUri: uri };
    return undefined;
  }

  private canUse(tool: CatalogTool): boolean {
    if (!this.hasServer(tool.server)) return false;
    return this.scope.allowTool === undefined || this.scope.allowTool(tool);
  }
}
