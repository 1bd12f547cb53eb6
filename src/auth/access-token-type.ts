import type { JWTHeaderParameters, JWTPayload } from 'jose';

/**
 * Claims that OpenID Connect defines for ID tokens only (Core §2, §3.1.3.6, §3.3.2.11; `s_hash` from FAPI): an
 * access token never needs them, so a JWT carrying one is an ID token whatever its header says.
 */
const ID_TOKEN_CLAIMS = ['nonce', 'at_hash', 'c_hash', 's_hash'];

/**
 * Why a verified JWT is not an access token, or undefined when it may be one (RFC 8725 §3.11: tell token kinds
 * apart, so that an OpenID ID token whose audience names the gateway does not pass as a bearer token).
 *
 * RFC 9068 access tokens say `typ: at+jwt`, and those pass. Many authorization servers (Azure AD, Okta, Keycloak,
 * older Auth0) still issue access tokens typed `JWT` or untyped, as OpenID ID tokens are, so `typ` alone
 * cannot decide: such a token passes unless it carries an ID-token-only claim (or Keycloak's `typ: "ID"`).
 * Any other `typ` (`logout+jwt`, `secevent+jwt`, `dpop+jwt`...) names another kind of JWT and is refused.
 */
export function notAnAccessToken(header: JWTHeaderParameters, claims: JWTPayload): string | undefined {
  const typ = normalisedType(header.typ);
  if (typ === 'at+jwt') return undefined;
  if (typ !== undefined && typ !== 'jwt') return `the token is a "${header.typ}" JWT, not an access token`;
  if (ID_TOKEN_CLAIMS.some((claim) => claim in claims) || claims['typ'] === 'ID') {
    return 'the token is an OpenID ID token, not an access token';
  }
  return undefined;
}

/** Media types compare without case and may omit `application/` (RFC 7515 §4.1.9). */
function normalisedType(typ: string | undefined): string | undefined {
  if (typ === undefined) return undefined;
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}
