import type { ServerNotification } from '@modelcontextprotocol/sdk/types.js';

import { Catalog, type CatalogChanges, type ListSource, type ToolAdmission } from '../catalog/catalog.js';
import type { ListKind } from '../upstream/instance-lists.js';
import type { UpstreamServer } from '../upstream/upstream-server.js';
import type { Owner } from './owner.js';

/** What list notifications need of a session. */
export interface ListingSession {
  readonly id: string;
  readonly owner: Owner;
  canSee(server: string): boolean;
  notify(notification: ServerNotification): void;
}

const LIST_CHANGED_METHOD: Record<ListKind, ServerNotification['method']> = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
};

/** States in which an instance's own lists are shown (the catalog keeps the same set for servers). */
const SHOWN_STATES = new Set(['ready', 'idle', 'starting', 'restarting']);

/**
 * The catalogs of sessions that have instances of their own. A session- or credential-scoped server lists,
 * for a session without its instance yet, what its start-up probe listed (the gateway's catalog); once the
 * session's own instance has listed, the session sees that instance's lists instead — its tools may depend
 * on who is asking (the client's capabilities, the user's own token). Other sessions never see them.
 */
export class SessionCatalogs {
  private readonly catalogs = new Map<string, Catalog>();

  constructor(
    private readonly servers: () => readonly UpstreamServer[],
    private readonly admit?: ToolAdmission,
  ) {}

  /** The catalog a session sees: its own when it has one, else `shared`. */
  catalogFor(sessionId: string, shared: Catalog): Catalog {
    return this.catalogs.get(sessionId) ?? shared;
  }

  /**
   * Rebuilds the catalog of a session from its own instances, creating it when an instance of its has
   * listed; returns what changed for the session (nothing when it has no instance of its own yet).
   */
  rebuild(owner: Owner): CatalogChanges {
    const servers = this.servers();
    let own = false;
    const sources: ListSource[] = servers.map((server) => {
      if (server.scope === 'shared') return server;
      const instance = server.existingInstance(owner);
      if (!instance?.listsKnown || !SHOWN_STATES.has(instance.state)) return server;
      own = true;
      return instance;
    });
    let catalog = this.catalogs.get(owner.sessionId);
    if (!catalog) {
      if (!own) return new Map();
      // Start from what the session saw so far, so that only real differences are reported.
      catalog = new Catalog(this.admit);
      catalog.rebuild(servers);
      this.catalogs.set(owner.sessionId, catalog);
    }
    return catalog.rebuild(sources);
  }

  /**
   * After the shared catalog was rebuilt: each session is told which of its lists changed — a session with a
   * catalog of its own by that catalog, rebuilt on the new shared one; the others by the shared changes.
   */
  afterSharedRebuild(sessions: Iterable<ListingSession>, changed: CatalogChanges): void {
    for (const session of sessions) {
      notifyListChanges(session, this.catalogs.has(session.id) ? this.rebuild(session.owner) : changed);
    }
  }

  /** After instances of these sessions listed anew: each is told what changed in its own catalog. */
  afterInstanceLists(sessions: Iterable<ListingSession | undefined>): void {
    for (const session of sessions) if (session) notifyListChanges(session, this.rebuild(session.owner));
  }

  remove(sessionId: string): void {
    this.catalogs.delete(sessionId);
  }
}

/** Tells a session which of its lists changed, counting only servers it may see. */
export function notifyListChanges(session: ListingSession, changes: CatalogChanges): void {
  for (const [kind, servers] of changes) {
    if ([...servers].some((server) => session.canSee(server))) {
      session.notify({ method: LIST_CHANGED_METHOD[kind] } as ServerNotification);
    }
  }
}
