import { randomBytes } from 'node:crypto';

import type { AuditLog } from '../../access/audit.js';
import type { GatewayConfig, ServerConfig, UpstreamIdentity } from '../../config/model.js';
import { errorMessage, GatewayError, isGatewayError } from '../../errors.js';
import type { Logger } from '../../observability/log.js';
import { type CancelSignal, toAbortSignal } from '../../relay/lazy-abort.js';
import { SHARED_GROUP } from '../../relay/owner.js';
import { AccountTokens, signInRequired } from './account-tokens.js';
import { accountFor, credentialOf, describeAccount, GATEWAY_ACCOUNT } from './accounts.js';
import type { TokenEntry } from './client-provider.js';
import { type PendingSignIn, PendingSignIns } from './pending-sign-ins.js';
import { revokeTokens, signOutDetail } from './revocation.js';
import { createSignInRecorder, type SignInRecorder } from './sign-in-audit.js';
import { carriesSignInCookie } from './sign-in-cookie.js';
import { beginSignIn, finishSignIn, readCallback, registeredRedirectUrl } from './sign-in-flow.js';
import { askToSignIn, type SignInLink, type SignInOrigin } from './sign-in-gate.js';
import { UPSTREAM_CALLBACK_PATH, UPSTREAM_SIGN_IN_PATH } from './sign-in-paths.js';
import { tokenKeyFrom } from './token-key.js';
import { parseTokensKey, stateFileOf, tokensKey, TokenStore } from './token-store.js';

export interface UpstreamOAuthOptions {
  config: () => GatewayConfig;
  log: Logger;
  /** Where MCPROXY_TOKEN_KEY is read (before the .env beside the config); process.env when absent. */
  env?: NodeJS.ProcessEnv;
  /** The clock of token expiry, in ms since the epoch (tests move it). */
  now?: () => number;
  /** Where sign-ins, refreshes and sign-outs are recorded. */
  audit?: AuditLog;
  /** `account` has a new sign-in at `server` (here or by `mcproxy login`): its instances may start now. */
  onSignedIn?: (server: string, account: string) => void;
}

/**
 * The gateway as an OAuth client of its upstream servers, for itself and for each credential: which sign-in an
 * instance sends (`identityFor`), the gate before a call of someone who has not signed in, the sign-in links
 * and their callback, and the encrypted state file. The protocol is the SDK's `auth()` (sign-in-flow.ts); the
 * tokens in use are account-tokens.ts'. Idle for a config with no remote Streamable HTTP server.
 *
 * @example const link = await gateway.upstreamOAuth.startSignIn('github'); // the operator opens link.url
 */
export class UpstreamOAuth {
  private readonly pending: PendingSignIns;
  private readonly tokens: AccountTokens;
  private readonly record: SignInRecorder;
  private readonly starting = new Map<string, Promise<PendingSignIn>>();
  private readonly keys = new WeakMap<GatewayConfig, Buffer>();
  private readonly now: () => number;
  private store?: TokenStore;
  /** The config `store` was chosen for: the path is worked out again only after a reload. */
  private storeConfig?: GatewayConfig;
  private boundUrl?: string;

  constructor(private readonly options: UpstreamOAuthOptions) {
    this.now = options.now ?? Date.now;
    this.pending = new PendingSignIns(this.now);
    this.record = createSignInRecorder({
      config: options.config,
      store: () => this.storeFor(),
      now: this.now,
      log: options.log,
      audit: () => options.audit,
    });
    this.tokens = new AccountTokens({
      config: options.config,
      store: () => this.storeFor(),
      now: this.now,
      record: this.record,
      callbackUrl: () => `${this.publicBase() ?? 'http://127.0.0.1'}${UPSTREAM_CALLBACK_PATH}`,
    });
  }

  /** The HTTP server's URL: the base of sign-in links and the callback, unless a public URL is configured. */
  bind(url: string): void {
    this.boundUrl = new URL(url).origin;
  }

  /**
   * The identity an instance of `server` for `group` gets: `own` (the credential's configured values), plus
   * the sign-in it sends when the server may ask for OAuth. A shared instance and a probe (`shared`) always
   * carry the gateway's; an instance for a client group carries its account's once that account has signed
   * in, so that nobody starts an instance bound to fail before signing in.
   */
  identityFor(server: ServerConfig, group: string, own: UpstreamIdentity | undefined): UpstreamIdentity | undefined {
    if (!handles(server, own)) return own;
    const account = accountFor(server.scope, group);
    const signedIn = () => this.tokens.requiresOAuth(server) && this.tokens.has(server.name, account);
    if (group !== SHARED_GROUP && !signedIn()) return own;
    return {
      env: own?.env ?? {},
      headers: own?.headers ?? {},
      authorization: this.tokens.authorizationOf(server.name, account),
    };
  }

  /**
   * Before a call of `origin`'s owner reaches `server`: nothing to wait for (undefined, the usual case), or a
   * promise that settles once the caller has signed in (URL-mode elicitation, where its client supports it)
   * or rejects with UPSTREAM_AUTH_REQUIRED and a sign-in link.
   */
  gate(serverName: string, origin: SignInOrigin, signal: CancelSignal): Promise<void> | undefined {
    const server = this.server(serverName);
    if (!server || !handles(server, this.ownIdentity(serverName, origin.owner.group))) return undefined;
    if (!this.tokens.requiresOAuth(server)) return undefined;
    const account = accountFor(server.scope, origin.owner.group);
    if (this.tokens.current(server, account)) return undefined;
    return this.gateSignIn(server, account, origin, toAbortSignal(signal));
  }

  /**
   * Starts a sign-in of `account` (the gateway's own by default) to `server` through the gateway's callback,
   * for the operator console or a client's call; a sign-in of the same account already under way is reused.
   */
  async startSignIn(serverName: string, account: string = GATEWAY_ACCOUNT): Promise<SignInLink> {
    const server = this.server(serverName);
    if (!server?.url || !handles(server, undefined)) {
      throw new GatewayError('INVALID_PARAMS', `server "${serverName}" is not a remote server the gateway signs in to`);
    }
    const base = this.publicBase();
    if (base === undefined) {
      throw new GatewayError(
        'UPSTREAM_AUTH_REQUIRED',
        `signing in through the gateway needs its HTTP listener; run "mcproxy login ${serverName}" instead`,
      );
    }
    const existing = this.pending.forAccount(serverName, account);
    if (existing) return linkOf(base, existing);
    const flight = tokensKey(serverName, account);
    let started = this.starting.get(flight);
    if (!started) {
      started = this.beginPending(server, account, `${base}${UPSTREAM_CALLBACK_PATH}`).finally(() =>
        this.starting.delete(flight),
      );
      this.starting.set(flight, started);
    }
    return linkOf(base, await started);
  }

  /**
   * Whether `server` is a remote server known to ask for OAuth that `account` (the gateway's own by default)
   * has not signed in to: the console then offers "Sign in".
   */
  needsSignIn(serverName: string, account: string = GATEWAY_ACCOUNT): boolean {
    const server = this.server(serverName);
    if (!server?.url || !handles(server, undefined) || !this.tokens.requiresOAuth(server)) return false;
    return !this.tokens.has(server.name, account);
  }

  /** A sign-in waiting for its callback (the sign-in page shows it). */
  pendingSignIn(state: string): PendingSignIn | undefined {
    return this.pending.find(state);
  }

  /**
   * The callback: exchanges the code of a pending sign-in and stores its tokens, if it came to the browser that
   * opened the sign-in page (`cookie`, the request's Cookie header). Says what the browser shows.
   */
  async completeSignIn(
    query: URLSearchParams,
    request: { address?: string | undefined; cookie?: string | undefined } = {},
  ): Promise<{ ok: boolean; message: string }> {
    const { address } = request;
    const state = query.get('state') ?? '';
    const found = this.pending.find(state);
    if (!found) {
      return { ok: false, message: 'This sign-in link has expired or was used already. Start again from your app.' };
    }
    if (!carriesSignInCookie(request.cookie, state, found.browserKey)) {
      // Left pending: the browser that did open the page may still finish it.
      this.record('upstream:sign-in-refused', found.server, found.account, 'gateway', {
        detail: 'the callback came to a browser that had not opened the sign-in link',
        address,
      });
      return {
        ok: false,
        message:
          'This sign-in was not started in this browser. Open the sign-in link you were given in the browser you sign in with.',
      };
    }
    const pending = this.pending.take(state)!;
    const { server, account } = pending;
    const refuse = (detail: string, message: string) => {
      pending.settle(new GatewayError('UPSTREAM_AUTH_REQUIRED', `the sign-in failed: ${detail}`));
      this.record('upstream:sign-in-refused', server, account, 'gateway', { detail, address });
      return { ok: false, message };
    };
    const answer = readCallback(query, pending);
    const config = this.server(server);
    if (!answer.ok) return refuse(answer.detail, answer.message);
    if (!config) return refuse('the server is not configured any more', 'The server is not configured any more.');
    try {
      const target = this.tokens.target(config, account, 'gateway', pending.redirectUrl);
      await finishSignIn(target, answer.code, pending.codeVerifier);
    } catch (failure) {
      this.options.log.warn(
        `Server '${server}': the sign-in of ${describeAccount(account)} failed: ${errorMessage(failure)}`,
      );
      return refuse('the token exchange failed', 'The authorization server issued no tokens. Try again.');
    }
    this.record('upstream:sign-in', server, account, 'gateway', { address });
    pending.settle();
    this.options.onSignedIn?.(server, account);
    return {
      ok: true,
      message: `Signed in to "${server}" for ${describeAccount(account)}. You can close this window.`,
    };
  }

  /** The accounts signed in to `server` (for the console): `gateway` and `credential:<id>`, never a token. */
  signedIn(serverName: string): string[] {
    const prefix = tokensKey(serverName, '');
    return this.storeFor()
      .keys(prefix)
      .map((key) => parseTokensKey(key)?.account ?? '');
  }

  /**
   * Forgets an account's sign-in at `server` (its next call asks again), then asks the authorization server to
   * revoke its tokens where it offers that (RFC 7009). False when it had none.
   */
  async signOut(serverName: string, account: string = GATEWAY_ACCOUNT): Promise<boolean> {
    const store = this.storeFor();
    const key = tokensKey(serverName, account);
    const entry = store.get<TokenEntry>(key);
    if (!entry) return false;
    store.set(key, undefined);
    const slot = entry.slot ?? 'gateway';
    const server = this.server(serverName);
    const outcome = server
      ? await revokeTokens(
          this.tokens.target(server, account, slot, registeredRedirectUrl(store, serverName, slot) ?? ''),
          entry.tokens,
        )
      : { revoked: false as const, detail: 'the server is no longer configured' };
    this.record('upstream:revoke', serverName, account, slot, { detail: signOutDetail(outcome) });
    return true;
  }

  async close(): Promise<void> {
    await this.store?.close();
  }

  private async gateSignIn(
    server: ServerConfig,
    account: string,
    origin: SignInOrigin,
    signal: AbortSignal,
  ): Promise<void> {
    // With credentials configured, the gateway's own sign-in is the operator's: no client may make it theirs.
    const config = this.options.config();
    const clientsSignIn = (config.auth?.tokens.length ?? 0) === 0 && config.auth?.oauth === undefined;
    if (account === GATEWAY_ACCOUNT && !clientsSignIn && origin.owner.group !== 'local') {
      throw signInRequired(server.name, account);
    }
    const link = await this.startSignIn(server.name, account);
    await askToSignIn({ server: server.name, account, origin, signal, waitMs: server.toolTimeoutMs, link });
  }

  private async beginPending(server: ServerConfig, account: string, redirectUrl: string): Promise<PendingSignIn> {
    this.keyOf(this.options.config());
    const state = randomBytes(32).toString('base64url');
    try {
      const started = await beginSignIn(this.tokens.target(server, account, 'gateway', redirectUrl), state);
      return this.pending.add({ ...started, state, server: server.name, account, redirectUrl });
    } catch (error) {
      if (isGatewayError(error)) throw error;
      throw new GatewayError(
        'UPSTREAM_UNAVAILABLE',
        `cannot start a sign-in to server "${server.name}": ${errorMessage(error)}`,
      );
    }
  }

  private server(name: string): ServerConfig | undefined {
    return this.options.config().servers.find((entry) => entry.name === name);
  }

  private ownIdentity(server: string, group: string): UpstreamIdentity | undefined {
    const id = credentialOf(group);
    if (id === null) return undefined;
    return this.options.config().auth?.tokens.find((entry) => entry.id === id)?.upstreams[server];
  }

  private publicBase(): string | undefined {
    const config = this.options.config();
    return config.upstreamOAuth?.publicUrl ?? config.auth?.oauth?.publicUrl ?? this.boundUrl;
  }

  private keyOf(config: GatewayConfig): Buffer {
    let key = this.keys.get(config);
    if (!key) this.keys.set(config, (key = tokenKeyFrom(this.options.env ?? process.env, config.source.path)));
    return key;
  }

  /** The store of the config in force (a reload may move the file). */
  private storeFor(): TokenStore {
    const config = this.options.config();
    if (this.store && this.storeConfig === config) return this.store;
    this.storeConfig = config;
    const path = stateFileOf(config);
    if (this.store?.path === path) return this.store;
    void this.store?.close();
    const store = new TokenStore({
      path,
      key: () => this.keyOf(this.options.config()),
      onError: (error) => this.options.log.error(`upstream sign-ins: ${error.message}`),
      onExternalChange: (keys) => {
        for (const key of keys) {
          const parsed = parseTokensKey(key);
          if (parsed && store.has(key)) this.options.onSignedIn?.(parsed.server, parsed.account);
        }
      },
    });
    this.store = store;
    return store;
  }
}

/** Remote Streamable HTTP servers, unless `oauth: false` or an Authorization header is configured for them. */
function handles(server: ServerConfig, own: UpstreamIdentity | undefined): boolean {
  if (server.transport !== 'http' || server.oauth?.enabled === false) return false;
  const named = (headers: Record<string, string> | undefined) =>
    Object.keys(headers ?? {}).some((name) => name.toLowerCase() === 'authorization');
  return !named(server.headers) && !named(own?.headers);
}

function linkOf(base: string, pending: PendingSignIn): SignInLink {
  const url = `${base}${UPSTREAM_SIGN_IN_PATH}?request=${encodeURIComponent(pending.state)}`;
  return { url, expiresAt: pending.expiresAt, done: pending.done };
}
