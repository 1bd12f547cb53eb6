import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';

import type { ServerConfig } from '../../config/model.js';
import { canonicalResource } from '../resource.js';
import { clientKey, discoveryKey, tokensKey, type TokenStore } from './token-store.js';

/** Which of our clients at a server's authorization server: the gateway's callback, or `mcproxy login`'s. */
export type ClientSlot = 'gateway' | 'login';

/** One account's tokens at one server, as stored. */
export interface TokenEntry {
  /** As the SDK returned them, `issuer` included. */
  tokens: OAuthTokens;
  /** When they were issued, by the gateway's clock (ms): `expires_in` counts from here. */
  obtainedAt: number;
  serverUrl: string;
  /** The client they were issued to: a refresh must come from it. */
  slot: ClientSlot;
}

interface ClientEntry {
  information: OAuthClientInformationMixed;
  redirectUrl: string;
}

interface DiscoveryEntry {
  serverUrl: string;
  state: OAuthDiscoveryState;
}

/** Thrown by a provider that may not send anyone to a browser (a refresh) when the SDK wants to. */
export class SignInNeeded extends Error {
  override readonly name = 'SignInNeeded';
}

export interface ClientProviderOptions {
  store: TokenStore;
  server: ServerConfig;
  account: string;
  slot: ClientSlot;
  redirectUrl: string;
  now: () => number;
  /** The `state` of a sign-in in progress, and its PKCE verifier once it is known. */
  state?: string;
  codeVerifier?: string;
  /** A new sign-in: the stored tokens are not offered, so the SDK does not try to refresh them. */
  fresh?: boolean;
  /** Where the SDK sends the browser; without it, a request to do so ends the flow with SignInNeeded. */
  onAuthorizationUrl?: (url: URL) => void;
}

/**
 * The SDK's `OAuthClientProvider` for one account at one server, backed by the token store: the SDK's `auth()`
 * does discovery (RFC 9728, RFC 8414), registration (RFC 7591, unless the config names a client), the
 * authorization URL with PKCE S256 and `resource` (RFC 8707), the code exchange and the refresh; this object
 * only keeps what it hands over. It never redirects a browser itself: it reports the URL.
 */
export class UpstreamClientProvider implements OAuthClientProvider {
  /** What the SDK asked to forget during a flow ('tokens' after a refused refresh). */
  readonly invalidated = new Set<string>();
  private verifier?: string;

  constructor(private readonly options: ClientProviderOptions) {
    this.verifier = options.codeVerifier;
  }

  get redirectUrl(): string {
    return this.options.redirectUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    const scope = this.options.server.oauth?.scopes?.join(' ');
    return {
      client_name: this.options.slot === 'login' ? 'mcproxy (login)' : 'mcproxy',
      redirect_uris: [this.options.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...(scope ? { scope } : {}),
    };
  }

  state(): string {
    return this.options.state ?? '';
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    const { clientId, clientSecret } = this.options.server.oauth ?? {};
    if (clientId !== undefined)
      return { client_id: clientId, ...(clientSecret ? { client_secret: clientSecret } : {}) };
    const entry = this.store.get<ClientEntry>(this.clientKey);
    return entry?.redirectUrl === this.options.redirectUrl ? entry.information : undefined;
  }

  saveClientInformation(information: OAuthClientInformationMixed): void {
    if (this.options.server.oauth?.clientId !== undefined) return;
    this.store.set(this.clientKey, { information, redirectUrl: this.options.redirectUrl } satisfies ClientEntry);
  }

  tokens(): OAuthTokens | undefined {
    if (this.options.fresh) return undefined;
    const entry = this.store.get<TokenEntry>(this.tokensKey);
    return entry?.serverUrl === this.serverUrl ? entry.tokens : undefined;
  }

  saveTokens(tokens: OAuthTokens): void {
    const entry: TokenEntry = {
      tokens,
      obtainedAt: this.options.now(),
      serverUrl: this.serverUrl,
      slot: this.options.slot,
    };
    this.store.set(this.tokensKey, entry);
  }

  redirectToAuthorization(url: URL): void {
    if (!this.options.onAuthorizationUrl) throw new SignInNeeded('a new sign-in is needed');
    this.options.onAuthorizationUrl(url);
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (this.verifier === undefined) throw new Error('no sign-in is in progress');
    return this.verifier;
  }

  /** The verifier of the sign-in just started, to keep with it until the callback. */
  get startedVerifier(): string | undefined {
    return this.verifier;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    this.invalidated.add(scope);
    if (scope === 'all' || scope === 'client') this.forgetClient();
    if (scope === 'all' || scope === 'tokens') this.store.set(this.tokensKey, undefined);
    if (scope === 'all' || scope === 'discovery') this.store.set(discoveryKey(this.options.server.name), undefined);
    if (scope === 'all' || scope === 'verifier') this.verifier = undefined;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    const entry = this.store.get<DiscoveryEntry>(discoveryKey(this.options.server.name));
    return entry?.serverUrl === this.serverUrl ? entry.state : undefined;
  }

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    checkIssuer(state);
    const entry: DiscoveryEntry = { serverUrl: this.serverUrl, state };
    this.store.set(discoveryKey(this.options.server.name), entry);
  }

  private forgetClient(): void {
    if (this.options.server.oauth?.clientId === undefined) this.store.set(this.clientKey, undefined);
  }

  private get store(): TokenStore {
    return this.options.store;
  }

  private get serverUrl(): string {
    return this.options.server.url ?? '';
  }

  private get tokensKey(): string {
    return tokensKey(this.options.server.name, this.options.account);
  }

  private get clientKey(): string {
    return clientKey(this.options.server.name, this.options.slot);
  }
}

/**
 * RFC 8414 §3.3: the metadata must name as its issuer the URL it was fetched for. One that names another server
 * is an impostor setting up a mix-up: the callback's `iss` would be checked against a name it chose, and the
 * code of a real server sent to its token endpoint. Thrown before anything is registered or sent there.
 */
function checkIssuer(state: OAuthDiscoveryState): void {
  const issuer = state.authorizationServerMetadata?.issuer;
  if (issuer === undefined || canonicalResource(issuer) === canonicalResource(state.authorizationServerUrl)) return;
  const at = new URL(state.authorizationServerUrl);
  throw new Error(
    `the authorization server at ${at.origin}${at.pathname} names another issuer in its metadata (RFC 8414 requires its own URL)`,
  );
}
