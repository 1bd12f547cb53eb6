import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

import { errorMessage } from '../../errors.js';
import { type FlowTarget, oauthFetch, providerFor } from './sign-in-flow.js';

interface RevocationMetadata {
  revocation_endpoint?: string;
  revocation_endpoint_auth_methods_supported?: string[];
  token_endpoint_auth_methods_supported?: string[];
}

/** What became of a sign-out's request to the authorization server. */
export type RevocationOutcome = { revoked: true } | { revoked: false; detail: string };

/**
 * Asks the authorization server to revoke a signed-out account's tokens (RFC 7009): the refresh token, which
 * ends the grant at servers that revoke a grant with it, else the access token. Sent as the client the tokens
 * were issued to, authenticated the way it authenticates at the token endpoint. Only when the server's
 * metadata names a `revocation_endpoint`; the tokens are forgotten by the gateway either way.
 *
 * @example const outcome = await revokeTokens(target, entry.tokens); // { revoked: true }
 */
export async function revokeTokens(target: FlowTarget, tokens: OAuthTokens): Promise<RevocationOutcome> {
  const provider = providerFor(target, {});
  // RFC 8414 fields; the SDK's type of OpenID Connect discovery metadata does not name them.
  const metadata = provider.discoveryState()?.authorizationServerMetadata as RevocationMetadata | undefined;
  const endpoint = metadata?.revocation_endpoint;
  if (!endpoint) return { revoked: false, detail: 'the authorization server offers no revocation endpoint' };
  const client = provider.clientInformation();
  if (!client) return { revoked: false, detail: 'the client the tokens were issued to is no longer known' };
  const body = new URLSearchParams(
    tokens.refresh_token
      ? { token: tokens.refresh_token, token_type_hint: 'refresh_token' }
      : { token: tokens.access_token, token_type_hint: 'access_token' },
  );
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const methods =
    metadata.revocation_endpoint_auth_methods_supported ?? metadata.token_endpoint_auth_methods_supported ?? [];
  authenticate(client, methods, headers, body);
  try {
    const response = await oauthFetch(endpoint, { method: 'POST', headers, body });
    await response.body?.cancel();
    // RFC 7009 §2.2: 200 also for a token the server no longer knows.
    return response.ok
      ? { revoked: true }
      : { revoked: false, detail: `the authorization server answered HTTP ${response.status}` };
  } catch (error) {
    return { revoked: false, detail: `the authorization server could not be reached: ${errorMessage(error)}` };
  }
}

/** The audit detail of a sign-out. */
export function signOutDetail(outcome: RevocationOutcome): string {
  return outcome.revoked
    ? 'signed out; the authorization server revoked the tokens'
    : `signed out; not revoked at the authorization server: ${outcome.detail}`;
}

/** Client authentication as at the token endpoint (RFC 6749 §2.3.1): Basic, in the body, or the id alone. */
function authenticate(
  client: OAuthClientInformationMixed,
  supported: string[],
  headers: Record<string, string>,
  body: URLSearchParams,
): void {
  const secret = client.client_secret;
  const registered = 'token_endpoint_auth_method' in client ? client.token_endpoint_auth_method : undefined;
  const method =
    registered && (supported.length === 0 || supported.includes(registered))
      ? registered
      : secret === undefined
        ? 'none'
        : supported.length === 0 || supported.includes('client_secret_basic')
          ? 'client_secret_basic'
          : 'client_secret_post';
  if (method === 'client_secret_basic' && secret !== undefined) {
    // RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined.
    const pair = `${encodeURIComponent(client.client_id)}:${encodeURIComponent(secret)}`;
    headers['authorization'] = `Basic ${Buffer.from(pair).toString('base64')}`;
    return;
  }
  body.set('client_id', client.client_id);
  if (method === 'client_secret_post' && secret !== undefined) body.set('client_secret', secret);
}
