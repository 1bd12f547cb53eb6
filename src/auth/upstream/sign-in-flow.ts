import type { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

import type { ServerConfig } from '../../config/model.js';
import { deadlineSignal } from '../../deadline.js';
import { isLoopback } from '../../serve/request-guard.js';
import { boundedResponse } from '../bounded-response.js';
import { canonicalResource } from '../resource.js';
import { type ClientSlot, SignInNeeded, UpstreamClientProvider } from './client-provider.js';
import { clientKey, type TokenStore } from './token-store.js';

/** Upper bound of one request to an authorization server (metadata, registration, token). */
const OAUTH_REQUEST_TIMEOUT_MS = 15_000;

/** What a server's last 401 said: where its metadata is, which scopes it wants. */
export interface Challenge {
  resourceMetadataUrl?: string;
  scope?: string;
}

export interface FlowTarget {
  store: TokenStore;
  now: () => number;
  server: ServerConfig;
  account: string;
  slot: ClientSlot;
  redirectUrl: string;
  challenge?: Challenge;
}

export interface StartedSignIn {
  authorizationUrl: string;
  codeVerifier: string;
  /**
   * The authorization server the sign-in went to, to check the callback's `iss` against (RFC 9207): the issuer
   * of its metadata, or the URL it was found at when it has none.
   */
  issuer?: string;
  /** Its metadata says `authorization_response_iss_parameter_supported`: a callback without `iss` is refused. */
  issRequired: boolean;
}

/**
 * The SDK's OAuth client, loaded on the first sign-in or refresh: a gateway with no OAuth upstream never pays
 * for it (issue 15: idle memory).
 */
export async function sdkAuth(): Promise<typeof auth> {
  return (await import('@modelcontextprotocol/sdk/client/auth.js')).auth;
}

/**
 * Starts a sign-in with the SDK's `auth()`: discovery, registration when needed, and the authorization URL
 * (PKCE S256, `state`, `resource`). Nothing is stored for the account until the code comes back.
 */
export async function beginSignIn(target: FlowTarget, state: string): Promise<StartedSignIn> {
  let authorizationUrl: string | undefined;
  const provider = providerFor(target, {
    state,
    fresh: true,
    onAuthorizationUrl: (url) => {
      authorizationUrl = url.href;
    },
  });
  const result = await (await sdkAuth())(provider, authOptions(target));
  const codeVerifier = provider.startedVerifier;
  if (result !== 'REDIRECT' || authorizationUrl === undefined || codeVerifier === undefined) {
    throw new Error('the authorization server did not start a sign-in');
  }
  const discovered = provider.discoveryState();
  const metadata = discovered?.authorizationServerMetadata;
  const issuer = metadata?.issuer ?? discovered?.authorizationServerUrl;
  // The SDK's metadata type lacks the RFC 9207 field, though its parser keeps it.
  const issRequired =
    (metadata as { authorization_response_iss_parameter_supported?: unknown } | undefined)
      ?.authorization_response_iss_parameter_supported === true;
  return { authorizationUrl, codeVerifier, issRequired, ...(issuer === undefined ? {} : { issuer }) };
}

/** Exchanges the authorization code (with the PKCE verifier and `resource`); the tokens are stored. */
export async function finishSignIn(target: FlowTarget, code: string, codeVerifier: string): Promise<void> {
  const provider = providerFor(target, { codeVerifier });
  const result = await (await sdkAuth())(provider, { ...authOptions(target), authorizationCode: code });
  if (result !== 'AUTHORIZED') throw new Error('the authorization server did not issue tokens');
}

/**
 * Refreshes the account's tokens (with `resource`). `refused`: there is no refresh token, or the authorization
 * server turned it down (the SDK then dropped the tokens); someone must sign in again. A failure to reach the
 * server throws, and the tokens stay for the next try.
 */
export async function refreshSignIn(target: FlowTarget): Promise<'refreshed' | 'refused'> {
  const provider = providerFor(target, {});
  if (!provider.tokens()?.refresh_token) return 'refused';
  try {
    await (
      await sdkAuth()
    )(provider, authOptions(target));
    return 'refreshed';
  } catch (error) {
    // The SDK goes on to a new authorization when a refresh fails: it was refused if the tokens were dropped.
    if (!(error instanceof SignInNeeded)) throw error;
    if (provider.invalidated.has('tokens') || provider.invalidated.has('all')) return 'refused';
    throw new Error('the authorization server could not be reached to refresh the sign-in', { cause: error });
  }
}

/** What an authorization server's answer at the callback says: a code, or why there is none. */
export type CallbackAnswer = { ok: true; code: string } | { ok: false; detail: string; message: string };

/**
 * Reads the callback's query: an `error` (only its code is kept: the description is the server's text), an
 * `iss` that is missing where the server promised one or names another authorization server than the one the
 * sign-in went to (RFC 9207 §2.4, a mix-up: another server's code would be sent to this one), or the code.
 */
export function readCallback(
  query: URLSearchParams,
  expected: Pick<StartedSignIn, 'issuer' | 'issRequired'>,
): CallbackAnswer {
  const error = query.get('error');
  if (error !== null) {
    const code = /^[a-z_]{1,64}$/.test(error) ? error : 'error';
    return {
      ok: false,
      detail: `the authorization server answered ${code}`,
      message: `The sign-in was not completed (${code}).`,
    };
  }
  const iss = query.get('iss');
  if (iss === null && expected.issRequired) {
    return {
      ok: false,
      detail: 'the answer names no issuer, which its authorization server always sends',
      message: 'The sign-in came back without the name of its server.',
    };
  }
  // An issuer we cannot compare with is no match: `iss` is only sent by a server that has metadata.
  if (
    iss !== null &&
    (expected.issuer === undefined || canonicalResource(iss) !== canonicalResource(expected.issuer))
  ) {
    return {
      ok: false,
      detail: 'the answer names another authorization server',
      message: 'The sign-in came back from the wrong server.',
    };
  }
  const code = query.get('code');
  if (!code) return { ok: false, detail: 'no authorization code', message: 'The sign-in came back without a code.' };
  return { ok: true, code };
}

/** The redirect URL a slot's client was registered with (a refresh must present the same client). */
export function registeredRedirectUrl(store: TokenStore, server: string, slot: ClientSlot): string | undefined {
  return store.get<{ redirectUrl: string }>(clientKey(server, slot))?.redirectUrl;
}

/** The SDK's OAuth client provider for a flow's account, server and client slot. */
export function providerFor(
  target: FlowTarget,
  extra: Pick<
    ConstructorParameters<typeof UpstreamClientProvider>[0],
    'state' | 'fresh' | 'codeVerifier' | 'onAuthorizationUrl'
  >,
): UpstreamClientProvider {
  return new UpstreamClientProvider({
    store: target.store,
    server: target.server,
    account: target.account,
    slot: target.slot,
    redirectUrl: target.redirectUrl,
    now: target.now,
    ...extra,
  });
}

function authOptions(target: FlowTarget): Parameters<typeof auth>[1] {
  const scope = target.server.oauth?.scopes?.join(' ') || target.challenge?.scope;
  const metadataUrl = target.challenge?.resourceMetadataUrl;
  return {
    serverUrl: target.server.url ?? '',
    fetchFn: oauthFetch,
    ...(scope ? { scope } : {}),
    ...(metadataUrl ? { resourceMetadataUrl: new URL(metadataUrl) } : {}),
  };
}

/**
 * fetch for everything OAuth: bounded in time and in size, and only https (or http on loopback), since these
 * requests carry client secrets, codes and tokens.
 */
export const oauthFetch: FetchLike = async function oauthFetch(input, init) {
  const url = new URL(typeof input === 'string' ? input : input.href);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new Error(`refusing to send OAuth requests to ${url.origin}: only https, or http on loopback`);
  }
  return boundedResponse(
    await fetch(url, { ...init, signal: deadlineSignal(OAUTH_REQUEST_TIMEOUT_MS, init?.signal ?? undefined) }),
  );
};
