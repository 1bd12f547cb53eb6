import type { TokenEntry } from './client-provider.js';
import type { Challenge } from './sign-in-flow.js';

/** A token is refreshed this long before it expires (or halfway through a shorter life). */
const REFRESH_MARGIN_MS = 30_000;

/** The Authorization header value of a token entry. */
export function bearer(entry: TokenEntry): string {
  return `Bearer ${entry.tokens.access_token}`;
}

/** When the access token expires (ms, the gateway's clock); undefined when the server did not say. */
export function expiresAtOf(entry: TokenEntry): number | undefined {
  const seconds = entry.tokens.expires_in;
  return seconds === undefined ? undefined : entry.obtainedAt + seconds * 1000;
}

/** How long before expiry a refresh starts. */
export function refreshMarginMs(entry: TokenEntry): number {
  const lifetimeMs = (entry.tokens.expires_in ?? 0) * 1000;
  return Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2);
}

/** What a 401 says when it is an OAuth challenge (`WWW-Authenticate: Bearer ...`); undefined otherwise. */
export async function readChallenge(response: Response): Promise<Challenge | undefined> {
  const header = response.headers.get('www-authenticate');
  if (header === null || !/^\s*bearer\b/i.test(header)) return undefined;
  // Loaded here, not at start: only a server that asks for OAuth needs the SDK's OAuth client.
  const { extractWWWAuthenticateParams } = await import('@modelcontextprotocol/sdk/client/auth.js');
  const { resourceMetadataUrl, scope } = extractWWWAuthenticateParams(response);
  return {
    ...(resourceMetadataUrl ? { resourceMetadataUrl: resourceMetadataUrl.href } : {}),
    ...(scope ? { scope } : {}),
  };
}
