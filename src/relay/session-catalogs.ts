import { Catalog, type CatalogChanges, type ListSource } from '../catalog/catalog.js';
import type { UpstreamServer } from '../upstream/upstream-server.js';
import type { Owner } from './owner.js';

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

  constructor(private readonly servers: () => readonly UpstreamServer[]) {}

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
      catalog = new Catalog();
      catalog.rebuild(servers);
      this.catalogs.set(owner.sessionId, catalog);
    }
    return catalog.rebuild(sources);
  }

  has(sessionId: string): boolean {
    return this.catalogs.has(sessionId);
  }

  remove(sessionId: string): void {
    this.catalogs.delete(sessionId);
  }
}
