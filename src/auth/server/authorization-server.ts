import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

import type { Request, Response } from 'express';

import type { AuthAuditRecord } from '../../access/audit.js';
import type { OAuthServerConfig } from '../../config/model.js';
import { CONSENT_HEADERS, renderConsentPage } from './consent-page.js';
import type { OAuthGrantStore, PendingConsent } from './grant-store.js';
import { createOwnerGate } from './owner-gate.js';
import { OWNER_SUBJECT, OwnerProvider } from './owner-provider.js';
import { CONSENT_PATH } from './paths.js';

export interface AuthorizationServerOptions {
  store: OAuthGrantStore;
  settings: () => OAuthServerConfig;
  baseUrl: string;
  audit: (event: Omit<AuthAuditRecord, 'time'>) => void;
  now: () => number;
  /** Whether a peer is one of the config's trusted reverse proxies (then X-Forwarded-For names the client). */
  trustProxy: (address: string) => boolean;
}

export type AuthorizationServerHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * The built-in authorization server as one request handler: the MCP SDK's `mcpAuthRouter` (RFC 8414 metadata,
 * RFC 7591 registration, authorization code with PKCE S256, refresh, RFC 7009 revocation, each rate limited)
 * on an Express app, plus the owner's consent form. Express and the router are imported here, so a gateway
 * without the built-in server never loads them.
 *
 * @example const handle = await createAuthorizationServer({ store, settings, baseUrl, audit, now }); await handle(req, res);
 */
export async function createAuthorizationServer(
  options: AuthorizationServerOptions,
): Promise<AuthorizationServerHandler> {
  const [{ default: express }, { mcpAuthRouter }] = await Promise.all([
    import('express'),
    import('@modelcontextprotocol/sdk/server/auth/router.js'),
  ]);
  const { store, settings, baseUrl, audit } = options;
  const issuer = new URL(baseUrl).href;
  const provider = new OwnerProvider({ store, settings, baseUrl: () => baseUrl, audit });
  const gate = createOwnerGate(options.now);
  const app = express();
  app.disable('x-powered-by');
  // req.ip (the rate limits of the SDK's router, the audit's address) follows X-Forwarded-For from trusted proxies only.
  app.set('trust proxy', (address: string) => options.trustProxy(address));

  app.post(CONSENT_PATH, express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const requestId = typeof body['request'] === 'string' ? body['request'] : '';
    const pending = await store.peekPending(requestId);
    const client = pending ? await store.client(pending.clientId) : undefined;
    if (!pending || !client) {
      res
        .status(400)
        .set(CONSENT_HEADERS)
        .send('<!doctype html><p>This sign-in request has expired. Start again from the app.</p>');
      return;
    }
    const address = req.ip;
    const refuse = (detail: string) =>
      audit({
        event: 'oauth:sign-in-refused',
        credential: null,
        client_id: client.client_id,
        detail,
        ...(address === undefined ? {} : { address }),
      });
    if (body['action'] !== 'allow') {
      await store.takePending(requestId);
      refuse('denied by the owner');
      res.redirect(
        302,
        redirectWith(pending, { error: 'access_denied', error_description: 'the owner denied access' }, issuer),
      );
      return;
    }
    const page = (error: string) =>
      res
        .status(403)
        .set(CONSENT_HEADERS)
        .send(
          renderConsentPage({
            requestId,
            clientName: client.client_name ?? client.client_id,
            redirectOrigin: new URL(pending.redirectUri).origin,
            resource: pending.resource,
            scopes: pending.scopes,
            error,
          }),
        );
    const typed = typeof body['password'] === 'string' ? body['password'] : '';
    const { verdict, delayMs } = gate.check(typed, settings().ownerPassword, address);
    if (delayMs > 0) await sleep(delayMs);
    if (verdict !== 'ok') {
      refuse(verdict === 'locked' ? 'too many failed sign-ins from this address' : 'wrong owner password');
      page(
        verdict === 'locked'
          ? 'Too many failed sign-ins from your address. Try again in 15 minutes.'
          : 'Wrong password.',
      );
      return;
    }
    const chosen = [body['scope'] ?? []].flat().filter((scope): scope is string => typeof scope === 'string');
    const scopes = pending.scopes.filter((scope) => chosen.includes(scope));
    if (pending.scopes.length > 0 && scopes.length === 0) {
      page('Choose at least one scope.');
      return;
    }
    // Taken, not peeked: a consent form posted twice (or to two replicas) gives one code.
    if (!(await store.takePending(requestId))) {
      res
        .status(400)
        .set(CONSENT_HEADERS)
        .send('<!doctype html><p>This sign-in request has expired. Start again from the app.</p>');
      return;
    }
    const code = await store.addCode({
      clientId: client.client_id,
      grantSubject: OWNER_SUBJECT,
      codeChallenge: pending.codeChallenge,
      redirectUri: pending.redirectUri,
      scopes,
      resource: pending.resource,
    });
    audit({
      event: 'oauth:sign-in',
      credential: `mcproxy:${OWNER_SUBJECT}`,
      client_id: client.client_id,
      scopes,
      resource: pending.resource,
      ...(client.client_name ? { client_name: client.client_name } : {}),
      ...(address === undefined ? {} : { address }),
    });
    res.redirect(302, redirectWith(pending, { code }, issuer));
  });

  app.use(
    mcpAuthRouter({
      provider,
      issuerUrl: new URL(issuer),
      scopesSupported: settings().scopes,
      resourceName: 'mcproxy',
      // Secrets of registered clients do not expire on their own: a client re-registers if the gateway forgets it.
      clientRegistrationOptions: { clientSecretExpirySeconds: 0 },
    }),
  );
  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found' });
  });

  return function authorizationServer(req, res) {
    return new Promise<void>((resolve) => {
      res.once('close', resolve);
      res.once('finish', resolve);
      // Express's last handler: an error nobody answered (a store that failed, a body too large) still gets a
      // page, or the browser would wait until its socket timed out.
      app(req as Request, res as Response, (error?: unknown) => {
        if (error !== undefined && !res.headersSent) {
          const status = (error as { status?: unknown }).status;
          (res as Response)
            .status(typeof status === 'number' && status >= 400 && status < 500 ? status : 500)
            .set(CONSENT_HEADERS)
            .send('<!doctype html><p>The sign-in failed on the server. Try again from the app.</p>');
        }
        resolve();
      });
    });
  };
}

/** The client's redirect URI with the answer, its state and our issuer (RFC 9207, against mix-up attacks). */
function redirectWith(pending: PendingConsent, answer: Record<string, string>, issuer: string): string {
  const url = new URL(pending.redirectUri);
  for (const [name, value] of Object.entries(answer)) url.searchParams.set(name, value);
  if (pending.state !== undefined) url.searchParams.set('state', pending.state);
  url.searchParams.set('iss', issuer);
  return url.href;
}
