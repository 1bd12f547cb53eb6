import { createHash } from 'node:crypto';

import type * as JoseModule from 'jose';
import type * as OAuthModule from 'oauth4webapi';

import type { OAuthIssuerConfig } from '../config/model.js';
import { notAnAccessToken } from './access-token-type.js';
import { boundedFetch } from './bounded-response.js';
import type { VerifiedToken } from './credential-rules.js';
import { ExpiringCache } from './expiring-cache.js';
import { rejectToken, type TokenRejection } from './token-rejection.js';

type Jose = typeof JoseModule;
type OAuth = typeof OAuthModule;
type Verified = { ok: true; token: VerifiedToken; issuer: OAuthIssuerConfig };

/** Signature algorithms accepted from a JWKS: asymmetric only, so a public key can never act as an HMAC secret. */
const ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];
const FETCH_TIMEOUT_MS = 5_000;
const MAX_CACHED_ANSWERS = 1_000;
/**
 * How long an introspection's "not active" is believed: a token that is not active stays so (revoked,
 * expired, unknown), but one just issued may not be known to every replica of its server yet, so briefly.
 * Enough that the same junk token, sent again and again, reaches the authorization server once a while.
 */
const REFUSAL_TTL_MS = 5_000;
const MAX_CACHED_REFUSALS = 10_000;

interface IssuerState {
  metadata?: Promise<OAuthModule.AuthorizationServer>;
  jwks?: ReturnType<Jose['createRemoteJWKSet']>;
  /** Active answers, by token digest, for `cache_secs` (and never past the token's exp). */
  answers: ExpiringCache<VerifiedToken>;
  /** Refusals, by token digest: only the server's own "no", never a failure to ask. */
  refusals: ExpiringCache<TokenRejection>;
  /** Introspections under way, by token digest. */
  asking: Map<string, Promise<Verified | TokenRejection>>;
}

export interface ExternalIssuersOptions {
  now: () => number;
}

/**
 * Verifies access tokens of external authorization servers: JWTs by their issuer's signing keys (JWKS, found
 * in its RFC 8414 / OpenID metadata unless configured), or any token by RFC 7662 introspection where the
 * issuer is set up for it. jose and oauth4webapi do the protocol work; they are loaded on first use only.
 * Audience and rules are the caller's business.
 *
 * @example const result = await issuers.verify(token, config.auth.oauth.authorizationServers, 60_000);
 */
export class ExternalIssuers {
  private readonly states = new Map<string, IssuerState>();
  private libraries?: Promise<{ jose: Jose; oauth: OAuth }>;

  constructor(private readonly options: ExternalIssuersOptions) {}

  async verify(token: string, issuers: OAuthIssuerConfig[], skewMs: number): Promise<Verified | TokenRejection> {
    const { jose } = await this.load();
    if (token.split('.').length === 3) {
      let iss: unknown;
      try {
        iss = jose.decodeJwt(token).iss;
      } catch {
        return rejectToken('the token is not a well-formed JWT');
      }
      const issuer = issuers.find((candidate) => candidate.issuer === iss);
      if (!issuer) return rejectToken('the token was issued by an authorization server this gateway does not trust');
      return issuer.introspection ? this.introspect(token, issuer, skewMs) : this.verifyJwt(token, issuer, skewMs);
    }
    const introspecting = issuers.filter((issuer) => issuer.introspection);
    let failure: TokenRejection | undefined;
    for (const issuer of introspecting) {
      const result = await this.introspect(token, issuer, skewMs);
      if (result.ok) return result;
      // "Could not check" says more than "not active here" when several servers were asked.
      if (failure === undefined || result.status === 503) failure = result;
    }
    return failure ?? rejectToken('the token is not known to this gateway');
  }

  private async verifyJwt(
    token: string,
    issuer: OAuthIssuerConfig,
    skewMs: number,
  ): Promise<Verified | TokenRejection> {
    const { jose } = await this.load();
    const state = this.state(issuer);
    try {
      if (!state.jwks) {
        const jwksUri = issuer.jwksUri ?? (await this.metadata(issuer)).jwks_uri;
        if (!jwksUri) return rejectToken(`the metadata of ${issuer.name} names no jwks_uri`, 503);
        state.jwks = jose.createRemoteJWKSet(new URL(jwksUri), {
          timeoutDuration: FETCH_TIMEOUT_MS,
          [jose.customFetch]: boundedFetch,
        });
      }
      const { payload, protectedHeader } = await jose.jwtVerify(token, state.jwks, {
        issuer: issuer.issuer,
        algorithms: ALGORITHMS,
        clockTolerance: Math.round(skewMs / 1000),
        currentDate: new Date(this.options.now()),
        requiredClaims: ['exp'],
      });
      const wrongKind = notAnAccessToken(protectedHeader, payload);
      if (wrongKind !== undefined) return rejectToken(wrongKind);
      return toVerified(payload, issuer);
    } catch (error) {
      return joseRejection(error);
    }
  }

  private async introspect(
    token: string,
    issuer: OAuthIssuerConfig,
    skewMs: number,
  ): Promise<Verified | TokenRejection> {
    const settings = issuer.introspection!;
    const state = this.state(issuer);
    const key = createHash('sha256').update(token).digest('base64url');
    const now = this.options.now();
    const cached = state.answers.get(key);
    if (cached) return { ok: true, token: cached, issuer };
    const refused = state.refusals.get(key);
    if (refused) return refused;
    // The same token many times at once is asked about once.
    const asking = state.asking.get(key);
    if (asking) return asking;
    const answer = this.askIntrospection(token, issuer, skewMs, now).then((result) => {
      if (result.ok) {
        const exp = result.token.expiresAt;
        const until = Math.min(now + settings.cacheMs, exp === undefined ? Infinity : exp * 1000);
        state.answers.set(key, result.token, until);
      } else if (result.status === 401) {
        state.refusals.set(key, result, now + REFUSAL_TTL_MS);
      }
      return result;
    });
    state.asking.set(key, answer);
    void answer.finally(() => state.asking.delete(key)).catch(() => {});
    return answer;
  }

  private async askIntrospection(
    token: string,
    issuer: OAuthIssuerConfig,
    skewMs: number,
    now: number,
  ): Promise<Verified | TokenRejection> {
    const settings = issuer.introspection!;
    const { oauth } = await this.load();
    let answer: OAuthModule.IntrospectionResponse;
    try {
      const metadata = settings.endpoint
        ? { issuer: issuer.issuer, introspection_endpoint: settings.endpoint }
        : await this.metadata(issuer);
      const client = { client_id: settings.clientId };
      const response = await oauth.introspectionRequest(
        metadata,
        client,
        oauth.ClientSecretBasic(settings.clientSecret),
        token,
        {
          [oauth.allowInsecureRequests]: isHttp(metadata.introspection_endpoint),
          [oauth.customFetch]: boundedFetch,
          signal: timeout(),
        },
      );
      answer = await oauth.processIntrospectionResponse(metadata, client, response);
    } catch {
      return rejectToken(`the token could not be introspected at ${issuer.name} now`, 503);
    }
    if (!answer.active) return rejectToken('the token is not active (expired or revoked)');
    if (answer.iss !== undefined && answer.iss !== issuer.issuer) return rejectToken('the token names another issuer');
    if (answer.exp !== undefined && answer.exp * 1000 + skewMs <= now) return rejectToken('the token has expired');
    return toVerified(answer, issuer);
  }

  /** RFC 8414 metadata, else OpenID discovery; a failure is forgotten so the next request tries again. */
  private metadata(issuer: OAuthIssuerConfig): Promise<OAuthModule.AuthorizationServer> {
    const state = this.state(issuer);
    state.metadata ??= (async () => {
      const { oauth } = await this.load();
      const url = new URL(issuer.issuer);
      const requestOptions = {
        [oauth.allowInsecureRequests]: isHttp(issuer.issuer),
        [oauth.customFetch]: boundedFetch,
      };
      try {
        const response = await oauth.discoveryRequest(url, {
          algorithm: 'oauth2',
          signal: timeout(),
          ...requestOptions,
        });
        return await oauth.processDiscoveryResponse(url, response);
      } catch {
        const response = await oauth.discoveryRequest(url, { algorithm: 'oidc', signal: timeout(), ...requestOptions });
        return await oauth.processDiscoveryResponse(url, response);
      }
    })();
    state.metadata.catch(() => {
      state.metadata = undefined;
    });
    return state.metadata;
  }

  /** Per issuer settings, so a reload that changes an issuer starts it afresh and one that does not keeps its keys. */
  private state(issuer: OAuthIssuerConfig): IssuerState {
    const key = JSON.stringify(issuer);
    let state = this.states.get(key);
    if (!state) {
      state = {
        answers: new ExpiringCache(MAX_CACHED_ANSWERS, this.options.now),
        refusals: new ExpiringCache(MAX_CACHED_REFUSALS, this.options.now),
        asking: new Map(),
      };
      this.states.set(key, state);
    }
    return state;
  }

  private load(): Promise<{ jose: Jose; oauth: OAuth }> {
    this.libraries ??= Promise.all([import('jose'), import('oauth4webapi')]).then(([jose, oauth]) => ({ jose, oauth }));
    return this.libraries;
  }
}

function toVerified(claims: Record<string, unknown>, issuer: OAuthIssuerConfig): Verified | TokenRejection {
  // A client_credentials token speaks for its client: RFC 9068 makes sub the client id, introspection may omit it.
  const clientId = claims['client_id'] ?? claims['azp'];
  const subject = claims[issuer.subjectClaim] ?? (issuer.subjectClaim === 'sub' ? clientId : undefined);
  if (typeof subject !== 'string' || subject === '') {
    return rejectToken(`the token has no "${issuer.subjectClaim}" claim naming its user`);
  }
  const scope = claims['scope'];
  const scp = claims['scp'];
  const scopes =
    typeof scope === 'string' ? scope.split(' ').filter(Boolean) : Array.isArray(scp) ? scp.map(String) : [];
  const aud = claims['aud'];
  const exp = claims['exp'];
  const token: VerifiedToken = {
    issuer: issuer.name,
    subject,
    scopes,
    audiences: typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.map(String) : [],
    claims,
    ...(typeof clientId === 'string' ? { clientId } : {}),
    ...(typeof exp === 'number' ? { expiresAt: exp } : {}),
  };
  return { ok: true, token, issuer };
}

/** jose's error codes, told in words that name the problem and never the token. */
function joseRejection(error: unknown): TokenRejection {
  const code = (error as { code?: unknown } | undefined)?.code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return rejectToken('the token has expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = (error as { claim?: unknown }).claim;
      return rejectToken(`the token's "${typeof claim === 'string' ? claim : 'claims'}" claim is not valid`);
    }
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return rejectToken('the token signature is not valid');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return rejectToken('the token is not a valid signed JWT');
    default:
      // Timeouts, unreachable key sets, bad metadata: the token may be fine, the gateway cannot tell now.
      return rejectToken('the authorization server could not be reached to check the token', 503);
  }
}

function isHttp(url: string | undefined): boolean {
  return url?.startsWith('http:') ?? false;
}

function timeout(): AbortSignal {
  return AbortSignal.timeout(FETCH_TIMEOUT_MS);
}
