import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';

import type { StateStore } from '../../state/store.js';
import {
  ACCESS_TOKEN_PREFIX,
  type AccessEntry,
  CODE_TTL_MS,
  type CodeEntry,
  digest,
  type Grant,
  grantOf,
  type IssuedTokens,
  MAX_PREVIOUS_REFRESH,
  type OAuthGrantStore,
  PENDING_TTL_MS,
  type PendingConsent,
  randomToken,
  REFRESH_TOKEN_PREFIX,
} from './grant-store.js';

export interface SharedGrantStoreOptions {
  store: StateStore;
  now: () => number;
  maxClients: number;
}

/**
 * How many of the oldest clients eviction looks at. If all of them hold grants, registration fails rather than
 * walk the whole set: `maxClients` is meant as a bound on abuse, not as a quota for long-lived apps.
 */
const EVICTION_SCAN = 64;

/** Keys under the store's prefix; every token or code appears only as its SHA-256 digest. */
const KEY = {
  client: (id: string) => `oauth:client:${id}`,
  /** Every registered client id, by registration time: the order eviction follows. */
  clients: 'oauth:clients-by-age',
  /** Present while a client has a grant that may still be refreshed; such a client is never evicted. */
  clientInUse: (id: string) => `oauth:client-in-use:${id}`,
  pending: (id: string) => `oauth:pending:${id}`,
  code: (digest: string) => `oauth:code:${digest}`,
  usedCode: (digest: string) => `oauth:used-code:${digest}`,
  grant: (id: string) => `oauth:grant:${id}`,
  refresh: (digest: string) => `oauth:refresh:${digest}`,
  previousRefresh: (digest: string) => `oauth:old-refresh:${digest}`,
  access: (digest: string) => `oauth:access:${digest}`,
};

/**
 * The built-in authorization server's state in the store all replicas share, so that a client may register
 * on one replica, sign in on a second, and use its token on a third. The same rules as `GrantStore`: codes
 * are used once (taken from the store in one step, so two replicas cannot both exchange one), a rotated-out
 * refresh token coming back revokes its grant, an access token lives no longer than its grant. Every entry
 * carries its expiry and also expires in the store, so nothing outlives its use.
 */
export class SharedGrantStore implements OAuthGrantStore {
  private readonly store: StateStore;
  private readonly now: () => number;

  constructor(private readonly options: SharedGrantStoreOptions) {
    this.store = options.store;
    this.now = options.now;
  }

  async client(clientId: string): Promise<OAuthClientInformationFull | undefined> {
    return this.read<OAuthClientInformationFull>(KEY.client(clientId));
  }

  /**
   * Registers a client. Past `maxClients` (over all replicas), the oldest client without a live grant makes
   * room, as in `GrantStore`; when every older client has one, registration fails. Replicas registering at once
   * each evict only clients older than their own, so the newest stay and the set never ends above the limit.
   */
  async register(client: OAuthClientInformationFull): Promise<OAuthClientInformationFull | undefined> {
    const id = client.client_id;
    await this.store.set(KEY.client(id), JSON.stringify(client));
    await this.store.orderedAdd(KEY.clients, id, this.now());
    // Bounded: each round removes one client or ends.
    for (let round = 0; round <= this.options.maxClients + EVICTION_SCAN; round++) {
      if ((await this.store.orderedSize(KEY.clients)) <= this.options.maxClients) break;
      if (!(await this.evictOlderThan(id))) {
        await this.store.orderedRemove(KEY.clients, id);
        await this.store.delete(KEY.client(id));
        return undefined;
      }
    }
    // Another replica's registration may have evicted this one meanwhile.
    return (await this.store.get(KEY.client(id))) === undefined ? undefined : client;
  }

  /** Removes the oldest client registered before `id` with no grant in use; false when there is none. */
  private async evictOlderThan(id: string): Promise<boolean> {
    for (const older of await this.store.orderedFirst(KEY.clients, EVICTION_SCAN)) {
      if (older === id) return false;
      if ((await this.store.get(KEY.clientInUse(older))) !== undefined) continue;
      // Of replicas evicting at once, the one that removed it from the set deletes it.
      if (await this.store.orderedRemove(KEY.clients, older)) {
        await this.store.delete(KEY.client(older));
        return true;
      }
    }
    return false;
  }

  async addPending(consent: Omit<PendingConsent, 'expiresAt'>): Promise<string> {
    const id = randomToken('');
    const entry: PendingConsent = { ...consent, expiresAt: this.now() + PENDING_TTL_MS };
    await this.store.set(KEY.pending(id), JSON.stringify(entry), PENDING_TTL_MS);
    return id;
  }

  async takePending(id: string): Promise<PendingConsent | undefined> {
    return this.live(this.parse<PendingConsent>(await this.store.take(KEY.pending(id))));
  }

  async peekPending(id: string): Promise<PendingConsent | undefined> {
    return this.live(await this.read<PendingConsent>(KEY.pending(id)));
  }

  async addCode(entry: Omit<CodeEntry, 'expiresAt'>): Promise<string> {
    const code = randomToken('');
    const stored: CodeEntry = { ...entry, expiresAt: this.now() + CODE_TTL_MS };
    await this.store.set(KEY.code(digest(code)), JSON.stringify(stored), CODE_TTL_MS);
    return code;
  }

  async findCode(code: string): Promise<{ entry: CodeEntry } | { replayed: boolean }> {
    const key = digest(code);
    const entry = this.live(await this.read<CodeEntry>(KEY.code(key)));
    if (entry) return { entry };
    const used = await this.read<{ grantId: string; until: number }>(KEY.usedCode(key));
    if (used && used.until > this.now()) {
      await this.revokeGrant(used.grantId);
      return { replayed: true };
    }
    return { replayed: false };
  }

  async consumeCode(code: string, entry: CodeEntry, refreshTtlMs: number): Promise<Grant | undefined> {
    const key = digest(code);
    // Taken, not read: of two replicas exchanging the same code, one gets it.
    if ((await this.store.take(KEY.code(key))) === undefined) return undefined;
    const now = this.now();
    const grant = grantOf(entry, now, refreshTtlMs);
    await this.saveGrant(grant);
    await this.store.set(
      KEY.usedCode(key),
      JSON.stringify({ grantId: grant.id, until: now + CODE_TTL_MS }),
      CODE_TTL_MS,
    );
    return grant;
  }

  async issue(grant: Grant, accessTtlMs: number, scopes: string[] = grant.scopes): Promise<IssuedTokens> {
    const refreshToken = randomToken(REFRESH_TOKEN_PREFIX);
    const accessToken = randomToken(ACCESS_TOKEN_PREFIX);
    const refreshTtl = grant.refreshExpiresAt - this.now();
    if (grant.refreshDigest !== '') {
      await this.store.delete(KEY.refresh(grant.refreshDigest));
      await this.store.set(KEY.previousRefresh(grant.refreshDigest), grant.id, refreshTtl);
      grant.previousRefreshDigests = [grant.refreshDigest, ...grant.previousRefreshDigests].slice(
        0,
        MAX_PREVIOUS_REFRESH,
      );
    }
    grant.refreshDigest = digest(refreshToken);
    await this.store.set(KEY.refresh(grant.refreshDigest), grant.id, refreshTtl);
    const access: AccessEntry = {
      grantId: grant.id,
      clientId: grant.clientId,
      subject: grant.subject,
      scopes,
      resource: grant.resource,
      expiresAt: this.now() + accessTtlMs,
    };
    await this.store.set(KEY.access(digest(accessToken)), JSON.stringify(access), accessTtlMs);
    // Written only if the grant is still there: a revocation on another replica meanwhile must not be undone.
    // Then the new tokens are dead at once (an access token is live only while its grant is).
    const ttl = Math.max(1, grant.refreshExpiresAt - this.now());
    if (!(await this.store.replace(KEY.grant(grant.id), JSON.stringify(grant), ttl))) {
      await this.store.delete(KEY.refresh(grant.refreshDigest));
      await this.store.delete(KEY.access(digest(accessToken)));
    }
    return { accessToken, refreshToken, grant };
  }

  async findRefresh(refreshToken: string): Promise<{ grant: Grant } | { reused?: Grant }> {
    const key = digest(refreshToken);
    // Taken, not read: of two replicas handed the same refresh token at once, one rotates it; the other finds
    // nothing (and, once the rotation is written, a reused token that revokes the grant).
    const grantId = await this.store.take(KEY.refresh(key));
    const grant = grantId === undefined ? undefined : await this.grant(grantId);
    if (grant && grant.refreshExpiresAt > this.now() && grant.refreshDigest === key) return { grant };
    const reusedId = await this.store.get(KEY.previousRefresh(key));
    const reused = reusedId === undefined ? undefined : await this.grant(reusedId);
    if (reused) await this.revokeGrant(reused.id);
    return reused ? { reused } : {};
  }

  /** A live access token's entry; one whose grant was revoked (on any replica) is no longer live. */
  async access(accessToken: string): Promise<AccessEntry | undefined> {
    const entry = this.live(await this.read<AccessEntry>(KEY.access(digest(accessToken))));
    if (!entry || !(await this.grant(entry.grantId))) return undefined;
    return entry;
  }

  async revoke(token: string, clientId: string): Promise<{ grant: Grant; kind: 'refresh' | 'access' } | undefined> {
    const key = digest(token);
    const grantId = await this.store.get(KEY.refresh(key));
    const grant = grantId === undefined ? undefined : await this.grant(grantId);
    if (grant && grant.clientId === clientId) {
      await this.revokeGrant(grant.id);
      return { grant, kind: 'refresh' };
    }
    const access = await this.read<AccessEntry>(KEY.access(key));
    const owner = access === undefined ? undefined : await this.grant(access.grantId);
    if (access && owner && access.clientId === clientId) {
      await this.store.delete(KEY.access(key));
      return { grant: owner, kind: 'access' };
    }
    return undefined;
  }

  /** Ends a grant: its refresh token at once, its access tokens with it (`access` checks the grant). */
  async revokeGrant(grantId: string): Promise<void> {
    const grant = await this.grant(grantId);
    await this.store.delete(KEY.grant(grantId));
    if (grant && grant.refreshDigest !== '') await this.store.delete(KEY.refresh(grant.refreshDigest));
  }

  /** Every change is written before the call that made it returns. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  private async grant(id: string): Promise<Grant | undefined> {
    const grant = await this.read<Grant>(KEY.grant(id));
    return grant && grant.refreshExpiresAt > this.now() ? grant : undefined;
  }

  private async saveGrant(grant: Grant): Promise<void> {
    const ttl = Math.max(1, grant.refreshExpiresAt - this.now());
    await this.store.set(KEY.grant(grant.id), JSON.stringify(grant), ttl);
    await this.markInUse(grant.clientId, ttl);
  }

  /** Keeps the client from eviction as long as this grant may be refreshed (the longest of its grants wins). */
  private async markInUse(clientId: string, ttlMs: number): Promise<void> {
    const key = KEY.clientInUse(clientId);
    const until = Number((await this.store.get(key)) ?? 0);
    const end = this.now() + ttlMs;
    if (end > until) await this.store.set(key, String(end), ttlMs);
  }

  private async read<T>(key: string): Promise<T | undefined> {
    return this.parse<T>(await this.store.get(key));
  }

  private parse<T>(text: string | undefined): T | undefined {
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  private live<T extends { expiresAt: number }>(entry: T | undefined): T | undefined {
    return entry && entry.expiresAt > this.now() ? entry : undefined;
  }
}
