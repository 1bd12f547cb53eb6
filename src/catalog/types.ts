import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';

/** One tool of the merged catalog: the upstream's definition plus where it came from. */
export interface CatalogTool {
  /** Name clients see, e.g. `everything__echo`. */
  publicName: string;
  /** Server (config name) that owns the tool. */
  server: string;
  /** The tool's own name on its server. */
  originalName: string;
  /** The upstream's definition with `name` replaced by `publicName`; everything else unchanged. */
  definition: Tool;
}

export interface CatalogPrompt {
  publicName: string;
  server: string;
  originalName: string;
  definition: Prompt;
}

export interface CatalogResource {
  /** URI clients see: the original, or `mcproxy://<server>/<encoded original>` when two servers share it. */
  publicUri: string;
  server: string;
  originalUri: string;
  definition: Resource;
}

export interface CatalogTemplate {
  server: string;
  definition: ResourceTemplate;
}

/** A server as the catalog describes it to search, meta mode and /health. */
export interface CatalogServer {
  name: string;
  description?: string;
  namespace?: string;
  state: string;
  toolCount: number;
}
