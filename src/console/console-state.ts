import type { Gateway } from '../gateway.js';
import type { ServerHealth } from '../observability/health.js';
import type { ChangedTool } from '../pinning/tool-pinning.js';
import { CatalogView } from '../relay/catalog-view.js';
import { describeInstanceKey } from '../relay/owner.js';
import { requestTracer } from '../tracing/tracing.js';
import { consoleNeedsCredential, type Viewer } from './console-access.js';
import type { ActionView, ConsoleActions } from './console-actions.js';
import type { ReloadEntry, ReloadHistory } from './reload-history.js';

/** What the console shows of the gateway, for one viewer; pushed whenever it changes. */
export interface ConsoleState {
  gateway: {
    version: string;
    status: 'ok' | 'degraded';
    startedAt: number;
    pinning: string;
    tracing: boolean;
    /** Whether reading needs a credential (else anonymous visitors read too). */
    credentialRequired: boolean;
  };
  viewer: { label: string; admin: boolean };
  servers: (ServerHealth & { name: string; description?: string; actions: ActionView[] })[];
  sessions: ConsoleSession[];
  reloads: ReloadEntry[];
  changedTools: ChangedTool[];
}

/** A client session: never its id (a bearer secret of its client), only the digest logs and /health use. */
export interface ConsoleSession {
  id: string;
  transport: string;
  credential: string;
  client?: string;
  openedAt: number;
  /** The session's own instances of session- and credential-scoped servers. */
  instances: { server: string; owner: string; state: string; pid?: number }[];
}

/** The catalog as the viewer's own MCP session would see it: what the search box searches, what try-it calls. */
export interface ConsoleCatalog {
  tools: { name: string; server: string; title?: string; description?: string; inputSchema?: unknown }[];
  prompts: { name: string; server: string; description?: string; arguments?: unknown }[];
  resources: { uri: string; server: string; name?: string; description?: string; mimeType?: string }[];
  templates: { uriTemplate: string; server: string; name?: string; description?: string }[];
}

export interface ConsoleSources {
  gateway: Gateway;
  actions: ConsoleActions;
  history?: ReloadHistory;
}

/** The state snapshot for `viewer`. */
export function consoleState(sources: ConsoleSources, viewer: Viewer): ConsoleState {
  const { gateway, actions } = sources;
  const health = gateway.health();
  const servers = gateway.listServers().map((server) => ({
    name: server.name,
    ...(server.config.description === undefined ? {} : { description: server.config.description }),
    ...health.servers[server.name]!,
    actions: actions.forServer(server, viewer),
  }));
  const sessions = [...gateway.sessions.values()].map((session): ConsoleSession => {
    const group = session.owner.group;
    const instances = gateway.listServers().flatMap((server) => {
      if (server.scope === 'shared') return [];
      const instance = server.existingInstance(session.owner);
      if (!instance) return [];
      return [
        {
          server: server.name,
          owner: describeInstanceKey(instance.key),
          state: instance.state,
          ...(instance.pid === undefined ? {} : { pid: instance.pid }),
        },
      ];
    });
    return {
      id: describeInstanceKey(`session:${session.id}`),
      transport: session.transportKind,
      credential: group.startsWith('credential:') ? group.slice('credential:'.length) : group,
      ...(session.clientName === undefined ? {} : { client: session.clientName }),
      openedAt: session.openedAt,
      instances,
    };
  });
  return {
    gateway: {
      version: health.version,
      status: health.status,
      startedAt: gateway.startedAt,
      pinning: gateway.config.pinning?.mode ?? 'warn',
      tracing: requestTracer() !== undefined,
      credentialRequired: consoleNeedsCredential(gateway.config),
    },
    viewer: { label: viewer.label, admin: viewer.admin },
    servers,
    sessions: sessions.sort((a, b) => a.openedAt - b.openedAt),
    reloads: sources.history?.entries() ?? [],
    changedTools: gateway.pinning.changed(),
  };
}

/** The catalog the viewer's grant reaches (nothing when its credential opens no namespace). */
export function consoleCatalog(gateway: Gateway, viewer: Viewer): ConsoleCatalog {
  if (!viewer.grant) return { tools: [], prompts: [], resources: [], templates: [] };
  const view = new CatalogView(gateway.catalog, viewer.grant.scope);
  return {
    tools: view.toolEntries().map(({ publicName, server, definition }) => ({
      name: publicName,
      server,
      ...(definition.title === undefined ? {} : { title: definition.title }),
      ...(definition.description === undefined ? {} : { description: definition.description }),
      inputSchema: definition.inputSchema,
    })),
    prompts: gateway.catalog.prompts
      .filter((prompt) => view.hasServer(prompt.server))
      .map(({ publicName, server, definition }) => ({
        name: publicName,
        server,
        ...(definition.description === undefined ? {} : { description: definition.description }),
        ...(definition.arguments === undefined ? {} : { arguments: definition.arguments }),
      })),
    resources: gateway.catalog.resources
      .filter((resource) => view.hasServer(resource.server))
      .map(({ publicUri, server, definition }) => ({
        uri: publicUri,
        server,
        ...(definition.name === undefined ? {} : { name: definition.name }),
        ...(definition.description === undefined ? {} : { description: definition.description }),
        ...(definition.mimeType === undefined ? {} : { mimeType: definition.mimeType }),
      })),
    templates: gateway.catalog.templates
      .filter((template) => view.hasServer(template.server))
      .map(({ server, definition }) => ({
        uriTemplate: definition.uriTemplate,
        server,
        ...(definition.name === undefined ? {} : { name: definition.name }),
        ...(definition.description === undefined ? {} : { description: definition.description }),
      })),
  };
}
