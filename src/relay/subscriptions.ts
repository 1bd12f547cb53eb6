/** What the registry needs of an upstream instance: a stable identity. */
interface Subscribable {
  readonly id: string;
}

/**
 * Resource subscriptions of client sessions, per upstream instance. An instance is subscribed once per URI
 * however many of its sessions asked, and unsubscribed only when the last of them leaves.
 */
export class SubscriptionRegistry<I extends Subscribable = Subscribable> {
  /** `instanceId\0originalUri` → the instance, and its subscribers (by session id) with their public URIs. */
  private readonly entries = new Map<string, { instance: I; uri: string; sessions: Map<string, string> }>();

  /** Records a subscription; true when it is the first for that instance and URI (subscribe upstream). */
  add(instance: I, originalUri: string, sessionId: string, publicUri: string): boolean {
    const key = keyOf(instance, originalUri);
    let entry = this.entries.get(key);
    const first = entry === undefined;
    if (!entry) {
      entry = { instance, uri: originalUri, sessions: new Map() };
      this.entries.set(key, entry);
    }
    entry.sessions.set(sessionId, publicUri);
    return first;
  }

  /** Removes a subscription; true when it was the last for that instance and URI (unsubscribe upstream). */
  remove(instance: I, originalUri: string, sessionId: string): boolean {
    const key = keyOf(instance, originalUri);
    const entry = this.entries.get(key);
    if (!entry?.sessions.delete(sessionId)) return false;
    if (entry.sessions.size > 0) return false;
    this.entries.delete(key);
    return true;
  }

  /** Removes every subscription of a session; returns the instance/URI pairs that lost their last subscriber. */
  removeSession(sessionId: string): { instance: I; originalUri: string }[] {
    const emptied: { instance: I; originalUri: string }[] = [];
    for (const [key, entry] of this.entries) {
      if (entry.sessions.delete(sessionId) && entry.sessions.size === 0) {
        this.entries.delete(key);
        emptied.push({ instance: entry.instance, originalUri: entry.uri });
      }
    }
    return emptied;
  }

  /** Forgets every subscription of an instance that stopped for good. */
  removeInstance(instance: I): void {
    for (const [key, entry] of this.entries) if (entry.instance.id === instance.id) this.entries.delete(key);
  }

  /** Sessions subscribed to an instance's URI, with the URI each knows it by. */
  subscribers(instance: I, originalUri: string): ReadonlyMap<string, string> {
    return this.entries.get(keyOf(instance, originalUri))?.sessions ?? new Map();
  }

  /** URIs of an instance that have subscribers (to subscribe again after a restart). */
  urisOf(instance: I): string[] {
    const uris: string[] = [];
    for (const entry of this.entries.values()) if (entry.instance.id === instance.id) uris.push(entry.uri);
    return uris;
  }
}

function keyOf(instance: Subscribable, uri: string): string {
  return `${instance.id}\0${uri}`;
}
