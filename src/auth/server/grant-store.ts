import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';

import type { Awaitable } from '../../state/store.js';

/** Prefixes tell the gateway's own tokens apart from a JWT or another server's opaque token at a glance. */
export const ACCESS_TOKEN_PREFIX = 'mcpx_at_';
export const REFRESH_TOKEN_PREFIX = 'mcpx_rt_';
export const CODE_TTL_MS = 60_000;
export const PENDING_TTL_MS = 10 * 60_000;
const MAX_PENDING = 100;
/** Rotated-out refresh tokens remembered per grant, to notice one coming back (a stolen copy). */
export const MAX_PREVIOUS_REFRESH = 5;

/** One owner's consent to one client: what the refresh token stands for. Holds digests, never tokens. */
export interface Grant {
  id: string;
  clientId: string;
  subject: string;
  scopes: string[];
  resource: string;
  refreshDigest: string;
  previousRefreshDigests: string[];
  refreshExpiresAt: number;
  createdAt: number;
}

export interface AccessEntry {
  grantId: string;
  clientId: string;
  subject: string;
  scopes: string[];
  resource: string;
  expiresAt: number;
}

export interface CodeEntry {
  clientId: string;
  grantSubject: string;
  codeChallenge: string;
  redirectUri: string;
  scopes: string[];
  resource: string;
  expiresAt: number;
}

export interface PendingConsent {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  state?: string;
  scopes: string[];
  resource: string;
  expiresAt: number;
}

interface StateFile {
  version: 1;
  clients: OAuthClientInformationFull[];
  grants: Grant[];
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  grant: Grant;
}

/**
 * What the built-in authorization server keeps, whichever store keeps it: `GrantStore` (this process, with an
 * optional state file) or `SharedGrantStore` (the replicas' shared store).
 */
export interface OAuthGrantStore {
  client(clientId: string): Awaitable<OAuthClientInformationFull | undefined>;
  register(client: OAuthClientInformationFull): Awaitable<OAuthClientInformationFull | undefined>;
  addPending(consent: Omit<PendingConsent, 'expiresAt'>): Awaitable<string>;
  takePending(id: string): Awaitable<PendingConsent | undefined>;
  peekPending(id: string): Awaitable<PendingConsent | undefined>;
  addCode(entry: Omit<CodeEntry, 'expiresAt'>): Awaitable<string>;
  findCode(code: string): Awaitable<{ entry: CodeEntry } | { replayed: boolean }>;
  /** The new grant; undefined when the code was used up meanwhile (by another replica). */
  consumeCode(code: string, entry: CodeEntry, refreshTtlMs: number): Awaitable<Grant | undefined>;
  issue(grant: Grant, accessTtlMs: number, scopes?: string[]): Awaitable<IssuedTokens>;
  findRefresh(refreshToken: string): Awaitable<{ grant: Grant } | { reused?: Grant }>;
  access(accessToken: string): Awaitable<AccessEntry | undefined>;
  revoke(token: string, clientId: string): Awaitable<{ grant: Grant; kind: 'refresh' | 'access' } | undefined>;
  revokeGrant(grantId: string): Awaitable<void>;
  flush(): Promise<void>;
}

export interface GrantStoreOptions {
  now: () => number;
  /** Keeps clients and grants across restarts (mode 0600); memory only when absent. */
  stateFile?: string;
  maxClients: number;
  onError: (error: Error) => void;
}

/**
 * The built-in authorization server's state: registered clients, consents waiting for the owner, codes,
 * grants (refresh tokens) and access tokens. Every token and code is 256 random bits and is kept only as its
 * SHA-256 digest, so neither memory dumps of the maps nor the state file can be replayed. Clients and grants
 * are written to the state file on every change; codes, consents and access tokens live in memory only.
 *
 * @example const { accessToken } = store.issue(grant); store.access(accessToken)?.scopes
 */
export class GrantStore implements OAuthGrantStore {
  private readonly clients = new Map<string, OAuthClientInformationFull>();
  private readonly grants = new Map<string, Grant>();
  private readonly refreshIndex = new Map<string, string>();
  private readonly accessTokens = new Map<string, AccessEntry>();
  private readonly codes = new Map<string, CodeEntry>();
  private readonly usedCodes = new Map<string, { grantId?: string; until: number }>();
  private readonly pending = new Map<string, PendingConsent>();
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly options: GrantStoreOptions) {
    if (options.stateFile) this.load(options.stateFile);
  }

  client(clientId: string): OAuthClientInformationFull | undefined {
    return this.clients.get(clientId);
  }

  /** Registers a client; past `maxClients`, the oldest client without a grant makes room, or registration fails. */
  register(client: OAuthClientInformationFull): OAuthClientInformationFull | undefined {
    if (this.clients.size >= this.options.maxClients) {
      const inUse = new Set([...this.grants.values()].map((grant) => grant.clientId));
      const idle = [...this.clients.values()].find((known) => !inUse.has(known.client_id));
      if (!idle) return undefined;
      this.clients.delete(idle.client_id);
    }
    this.clients.set(client.client_id, client);
    this.save();
    return client;
  }

  /** Keeps an authorization request until the owner answers it; returns its unguessable id. */
  addPending(consent: Omit<PendingConsent, 'expiresAt'>): string {
    this.prune();
    if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
    const id = randomToken('');
    this.pending.set(id, { ...consent, expiresAt: this.options.now() + PENDING_TTL_MS });
    return id;
  }

  takePending(id: string): PendingConsent | undefined {
    const consent = this.pending.get(id);
    if (!consent || consent.expiresAt <= this.options.now()) return undefined;
    this.pending.delete(id);
    return consent;
  }

  peekPending(id: string): PendingConsent | undefined {
    const consent = this.pending.get(id);
    return consent && consent.expiresAt > this.options.now() ? consent : undefined;
  }

  addCode(entry: Omit<CodeEntry, 'expiresAt'>): string {
    const code = randomToken('');
    this.codes.set(digest(code), { ...entry, expiresAt: this.options.now() + CODE_TTL_MS });
    return code;
  }

  /** The code's entry if it is live; a code seen before is reported as replayed (and its grant revoked). */
  findCode(code: string): { entry: CodeEntry } | { replayed: boolean } {
    const key = digest(code);
    const entry = this.codes.get(key);
    if (entry && entry.expiresAt > this.options.now()) return { entry };
    const used = this.usedCodes.get(key);
    if (used && used.until > this.options.now()) {
      if (used.grantId) this.revokeGrant(used.grantId);
      return { replayed: true };
    }
    return { replayed: false };
  }

  /**
   * Uses a code up: it can never be exchanged again, and a second try revokes what the first one got. Undefined
   * when another exchange used it up since `findCode` (the SDK awaits between the two).
   */
  consumeCode(code: string, entry: CodeEntry, refreshTtlMs: number): Grant | undefined {
    const key = digest(code);
    if (!this.codes.delete(key)) return undefined;
    const grant = grantOf(entry, this.options.now(), refreshTtlMs);
    this.grants.set(grant.id, grant);
    this.usedCodes.set(key, { grantId: grant.id, until: this.options.now() + CODE_TTL_MS });
    return grant;
  }

  /** New access and refresh tokens for a grant; the grant's previous refresh token stops working (rotation). */
  issue(grant: Grant, accessTtlMs: number, scopes: string[] = grant.scopes): IssuedTokens {
    const refreshToken = randomToken(REFRESH_TOKEN_PREFIX);
    const accessToken = randomToken(ACCESS_TOKEN_PREFIX);
    if (grant.refreshDigest !== '') {
      this.refreshIndex.delete(grant.refreshDigest);
      grant.previousRefreshDigests = [grant.refreshDigest, ...grant.previousRefreshDigests].slice(
        0,
        MAX_PREVIOUS_REFRESH,
      );
    }
    grant.refreshDigest = digest(refreshToken);
    this.refreshIndex.set(grant.refreshDigest, grant.id);
    this.accessTokens.set(digest(accessToken), {
      grantId: grant.id,
      clientId: grant.clientId,
      subject: grant.subject,
      scopes,
      resource: grant.resource,
      expiresAt: this.options.now() + accessTtlMs,
    });
    this.save();
    return { accessToken, refreshToken, grant };
  }

  /** The grant a live refresh token belongs to; a rotated-out one revokes its grant and reports reuse. */
  findRefresh(refreshToken: string): { grant: Grant } | { reused?: Grant } {
    const key = digest(refreshToken);
    const grantId = this.refreshIndex.get(key);
    const grant = grantId === undefined ? undefined : this.grants.get(grantId);
    if (grant && grant.refreshExpiresAt > this.options.now()) return { grant };
    const reused = [...this.grants.values()].find((candidate) => candidate.previousRefreshDigests.includes(key));
    if (reused) this.revokeGrant(reused.id);
    return reused ? { reused } : {};
  }

  access(accessToken: string): AccessEntry | undefined {
    const entry = this.accessTokens.get(digest(accessToken));
    return entry && entry.expiresAt > this.options.now() ? entry : undefined;
  }

  /**
   * Revokes what `token` is (RFC 7009): a refresh token ends its whole grant, access tokens included; an
   * access token ends itself. Only the client the token was issued to may revoke it.
   */
  revoke(token: string, clientId: string): { grant: Grant; kind: 'refresh' | 'access' } | undefined {
    const key = digest(token);
    const grantId = this.refreshIndex.get(key);
    const grant = grantId === undefined ? undefined : this.grants.get(grantId);
    if (grant && grant.clientId === clientId) {
      this.revokeGrant(grant.id);
      return { grant, kind: 'refresh' };
    }
    const access = this.accessTokens.get(key);
    const owner = access === undefined ? undefined : this.grants.get(access.grantId);
    if (access && owner && access.clientId === clientId) {
      this.accessTokens.delete(key);
      return { grant: owner, kind: 'access' };
    }
    return undefined;
  }

  revokeGrant(grantId: string): void {
    const grant = this.grants.get(grantId);
    if (!grant) return;
    this.grants.delete(grantId);
    this.refreshIndex.delete(grant.refreshDigest);
    for (const [key, entry] of this.accessTokens) if (entry.grantId === grantId) this.accessTokens.delete(key);
    this.save();
  }

  /** Waits for the state file to be written. */
  flush(): Promise<void> {
    return this.saving;
  }

  private prune(): void {
    const now = this.options.now();
    for (const [key, entry] of this.pending) if (entry.expiresAt <= now) this.pending.delete(key);
    for (const [key, entry] of this.codes) if (entry.expiresAt <= now) this.codes.delete(key);
    for (const [key, entry] of this.usedCodes) if (entry.until <= now) this.usedCodes.delete(key);
    for (const [key, entry] of this.accessTokens) if (entry.expiresAt <= now) this.accessTokens.delete(key);
    for (const grant of this.grants.values()) if (grant.refreshExpiresAt <= now) this.revokeGrant(grant.id);
  }

  private load(path: string): void {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.options.onError(error as Error);
      return;
    }
    try {
      const state = JSON.parse(text) as StateFile;
      for (const client of state.clients ?? []) this.clients.set(client.client_id, client);
      for (const grant of state.grants ?? []) {
        this.grants.set(grant.id, grant);
        this.refreshIndex.set(grant.refreshDigest, grant.id);
      }
    } catch (error) {
      this.options.onError(new Error(`${path} is not a valid OAuth state file: ${(error as Error).message}`));
    }
  }

  /** Writes clients and grants (a temporary file, then rename, so a crash never leaves half a file). */
  private save(): void {
    const path = this.options.stateFile;
    if (!path) return;
    const state: StateFile = { version: 1, clients: [...this.clients.values()], grants: [...this.grants.values()] };
    const text = `${JSON.stringify(state, null, 2)}\n`;
    this.saving = this.saving
      .then(async () => {
        await mkdir(dirname(path), { recursive: true });
        const temporary = `${path}.${process.pid}.tmp`;
        await writeFile(temporary, text, { mode: 0o600 });
        await rename(temporary, path);
      })
      .catch((error: unknown) => this.options.onError(error as Error));
  }
}

export function randomToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** The grant a code's exchange creates (both stores): no refresh token yet, one issued with the first tokens. */
export function grantOf(entry: CodeEntry, now: number, refreshTtlMs: number): Grant {
  return {
    id: randomUUID(),
    clientId: entry.clientId,
    subject: entry.grantSubject,
    scopes: entry.scopes,
    resource: entry.resource,
    refreshDigest: '',
    previousRefreshDigests: [],
    refreshExpiresAt: now + refreshTtlMs,
    createdAt: now,
  };
}

export function digest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}
