import type { GatewayConfig, ServerConfig, UpstreamAuthorization } from '../../config/model.js';
import { errorMessage, GatewayError } from '../../errors.js';
import { describeAccount, GATEWAY_ACCOUNT } from './accounts.js';
import { bearer, expiresAtOf, readChallenge, refreshMarginMs } from './bearer.js';
import type { ClientSlot, TokenEntry } from './client-provider.js';
import type { SignInRecorder } from './sign-in-audit.js';
import { type Challenge, type FlowTarget, refreshSignIn, registeredRedirectUrl } from './sign-in-flow.js';
import { discoveryKey, tokensKey, type TokenStore } from './token-store.js';

export interface AccountTokensOptions {
  config: () => GatewayConfig;
  store: () => TokenStore;
  now: () => number;
  record: SignInRecorder;
  /** The gateway's callback URL, for a client registered with it. */
  callbackUrl: () => string;
}

/**
 * The tokens in use: the Authorization header of each request to a server, for the account an instance stands
 * for; a refresh shortly before the token expires and after a 401, one at a time per account (a rotated refresh
 * token may be used once only); and what each server's last challenge said.
 */
export class AccountTokens {
  private readonly challenges = new Map<string, Challenge>();
  private readonly refreshing = new Map<string, Promise<'refreshed' | 'refused'>>();
  private readonly authorizations = new Map<string, UpstreamAuthorization>();

  constructor(private readonly options: AccountTokensOptions) {}

  /** The transport hook for one account at one server; the same object every time, so identities compare equal. */
  authorizationOf(server: string, account: string): UpstreamAuthorization {
    const key = tokensKey(server, account);
    const known = this.authorizations.get(key);
    if (known) return known;
    const authorization: UpstreamAuthorization & { toJSON(): string } = {
      header: () => this.header(server, account),
      unauthorized: (response, sent) => this.unauthorized(server, account, response, sent),
      // Identities are compared as JSON when a reload re-judges instances.
      toJSON: () => `oauth:${key}`,
    };
    this.authorizations.set(key, authorization);
    return authorization;
  }

  /** Whether the account has tokens at the server; the file is read again first when it changed (a login). */
  has(server: string, account: string): boolean {
    const store = this.options.store();
    const key = tokensKey(server, account);
    if (store.has(key)) return true;
    store.reload();
    return store.has(key);
  }

  /** Whether the server is known to ask for OAuth: configured so, it sent a Bearer challenge, or was signed in to. */
  requiresOAuth(server: ServerConfig): boolean {
    if (server.oauth?.enabled === true || this.challenges.has(server.name)) return true;
    return this.options.store().has(discoveryKey(server.name));
  }

  target(server: ServerConfig, account: string, slot: ClientSlot, redirectUrl: string): FlowTarget {
    const challenge = this.challenges.get(server.name);
    return {
      store: this.options.store(),
      now: this.options.now,
      server,
      account,
      slot,
      redirectUrl,
      ...(challenge ? { challenge } : {}),
    };
  }

  private header(serverName: string, account: string): string | undefined | Promise<string | undefined> {
    const server = this.server(serverName);
    // A server never known to ask for OAuth gets no header, and costs no look-up.
    if (!server || !this.requiresOAuth(server)) return undefined;
    const entry = this.current(server, account);
    if (!entry) throw signInRequired(serverName, account);
    const expiresAt = expiresAtOf(entry);
    if (expiresAt === undefined || this.options.now() < expiresAt - refreshMarginMs(entry)) return bearer(entry);
    return this.refreshAhead(server, account, entry, expiresAt);
  }

  private async unauthorized(
    serverName: string,
    account: string,
    response: Response,
    sent: string | undefined,
  ): Promise<boolean> {
    const challenge = await readChallenge(response);
    const server = this.server(serverName);
    if (!challenge || !server) return false;
    this.challenges.set(serverName, challenge);
    const entry = this.current(server, account);
    if (!entry) throw signInRequired(serverName, account);
    // Another request refreshed (or someone signed in) since this one was sent: just send it again.
    if (sent !== bearer(entry)) return true;
    try {
      if ((await this.refresh(server, account, entry.slot)) === 'refreshed') return true;
    } catch (error) {
      // The server turned the token down and no new one can be had (the authorization server failed or is
      // down): as after a refused refresh (and as the SDK would, starting a new authorization), the tokens go,
      // so the caller's next call is given a sign-in link instead of the same dead token.
      const still = this.current(server, account);
      if (still && bearer(still) === sent) {
        this.options.store().set(tokensKey(serverName, account), undefined);
        this.options.record('upstream:refresh-failed', serverName, account, entry.slot, {
          detail: `after a 401: ${errorMessage(error)}`,
        });
      }
    }
    throw signInRequired(serverName, account);
  }

  /** Refreshes before the token expires; an unreachable authorization server leaves a live token in use. */
  private async refreshAhead(
    server: ServerConfig,
    account: string,
    entry: TokenEntry,
    expiresAt: number,
  ): Promise<string> {
    const live = () => this.options.now() < expiresAt;
    if (!entry.tokens.refresh_token && live()) return bearer(entry);
    let outcome: 'refreshed' | 'refused';
    try {
      outcome = await this.refresh(server, account, entry.slot);
    } catch (error) {
      if (live()) return bearer(entry);
      throw new GatewayError(
        'UPSTREAM_UNAVAILABLE',
        `cannot refresh the sign-in to server "${server.name}": ${errorMessage(error)}`,
      );
    }
    const fresh = outcome === 'refreshed' ? this.current(server, account) : undefined;
    if (!fresh) throw signInRequired(server.name, account);
    return bearer(fresh);
  }

  /** One refresh at a time per account and server: concurrent requests wait for the same one. */
  private refresh(server: ServerConfig, account: string, slot: ClientSlot): Promise<'refreshed' | 'refused'> {
    const key = tokensKey(server.name, account);
    let running = this.refreshing.get(key);
    if (running) return running;
    const store = this.options.store();
    const redirectUrl = registeredRedirectUrl(store, server.name, slot) ?? this.options.callbackUrl();
    running = refreshSignIn(this.target(server, account, slot, redirectUrl))
      .then((outcome) => {
        if (outcome === 'refreshed') {
          this.options.record('upstream:refresh', server.name, account, slot);
        } else {
          store.set(key, undefined);
          this.options.record('upstream:refresh-refused', server.name, account, slot, {
            detail: 'no refresh token, or the authorization server refused it',
          });
        }
        return outcome;
      })
      .finally(() => this.refreshing.delete(key));
    this.refreshing.set(key, running);
    return running;
  }

  /** The account's tokens at the server, if it has usable ones (needs the key). */
  current(server: ServerConfig, account: string): TokenEntry | undefined {
    if (!this.has(server.name, account)) return undefined;
    const key = tokensKey(server.name, account);
    const entry = this.options.store().get<TokenEntry>(key);
    if (entry?.serverUrl === server.url) return entry;
    // Tokens for the URL the server had before a reload: a new sign-in replaces them.
    if (entry) this.options.store().set(key, undefined);
    return undefined;
  }

  private server(name: string): ServerConfig | undefined {
    return this.options.config().servers.find((entry) => entry.name === name);
  }
}

/** The error of a request that needs a sign-in first; says who must sign in and how. */
export function signInRequired(server: string, account: string): GatewayError {
  const how =
    account === GATEWAY_ACCOUNT
      ? `run "mcproxy login ${server}" on the gateway's host, or sign in from its console`
      : 'call one of its tools again to get a sign-in link';
  return new GatewayError(
    'UPSTREAM_AUTH_REQUIRED',
    `server "${server}" needs a sign-in by ${describeAccount(account)}: ${how}`,
    { data: { server } },
  );
}
