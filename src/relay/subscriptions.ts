/**
 * Resource subscriptions shared by all sessions. Servers are shared, so a server is subscribed once per URI
 * however many sessions asked, and unsubscribed only when the last of them leaves.
 */
export class SubscriptionRegistry {
  /** `server\0originalUri` → sessions (by id) and the public URI each subscribed with. */
  private readonly entries = new Map<string, Map<string, string>>();

  /** Records a subscription; true when it is the first for that server and URI (subscribe upstream). */
  add(server: string, originalUri: string, sessionId: string, publicUri: string): boolean {
    const key = keyOf(server, originalUri);
    let sessions = this.entries.get(key);
    const first = sessions === undefined;
    if (!sessions) {
      sessions = new Map();
      this.entries.set(key, sessions);
    }
    sessions.set(sessionId, publicUri);
    return first;
  }

  /** Removes a subscription; true when it was the last for that server and URI (unsubscribe upstream). */
  remove(server: string, originalUri: string, sessionId: string): boolean {
    const key = keyOf(server, originalUri);
    const sessions = this.entries.get(key);
    if (!sessions?.delete(sessionId)) return false;
    if (sessions.size > 0) return false;
    this.entries.delete(key);
    return true;
  }

  /** Removes every subscription of a session; returns the server/URI pairs that lost their last subscriber. */
  removeSession(sessionId: string): { server: string; originalUri: string }[] {
    const emptied: { server: string; originalUri: string }[] = [];
    for (const [key, sessions] of this.entries) {
      if (sessions.delete(sessionId) && sessions.size === 0) {
        this.entries.delete(key);
        const [server, originalUri] = key.split('\0') as [string, string];
        emptied.push({ server, originalUri });
      }
    }
    return emptied;
  }

  /** Sessions subscribed to a server's URI, with the URI each knows it by. */
  subscribers(server: string, originalUri: string): ReadonlyMap<string, string> {
    return this.entries.get(keyOf(server, originalUri)) ?? new Map();
  }

  /** Server/URI pairs of a server that have subscribers (to subscribe again after a restart). */
  urisOf(server: string): string[] {
    const prefix = `${server}\0`;
    return [...this.entries.keys()].filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
  }
}

function keyOf(server: string, uri: string): string {
  return `${server}\0${uri}`;
}
