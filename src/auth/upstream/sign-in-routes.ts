import type { IncomingMessage, ServerResponse } from 'node:http';

import { clientAddress, trustedProxies } from '../../access/client-address.js';
import type { GatewayConfig } from '../../config/model.js';
import { CONSENT_HEADERS } from '../server/consent-page.js';
import { describeAccount } from './accounts.js';
import { clearedSignInCookie, signInCookie } from './sign-in-cookie.js';
import { UPSTREAM_CALLBACK_PATH, UPSTREAM_SIGN_IN_PATH } from './sign-in-paths.js';
import type { UpstreamOAuth } from './upstream-oauth.js';

/**
 * The gateway's two pages of an upstream sign-in: `/oauth/upstream/sign-in?request=…` says which server and
 * whose sign-in it is before sending the browser on (so a link passed on by someone else shows whose account
 * it would fill), and `/oauth/upstream/callback` takes the authorization server's answer. False for every
 * other path.
 *
 * @example http.addRoute(upstreamSignInRoute(gateway.upstreamOAuth, () => gateway.config));
 */
export function upstreamSignInRoute(oauth: UpstreamOAuth, config: () => GatewayConfig) {
  return async function upstreamSignIn(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (url.pathname !== UPSTREAM_SIGN_IN_PATH && url.pathname !== UPSTREAM_CALLBACK_PATH) return false;
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return true;
    }
    if (url.pathname === UPSTREAM_CALLBACK_PATH) {
      const address = clientAddress(req, trustedProxies(config().trustedProxies));
      const result = await oauth.completeSignIn(url.searchParams, { address, cookie: req.headers.cookie });
      if (result.ok) res.setHeader('set-cookie', clearedSignInCookie(url.searchParams.get('state') ?? ''));
      sendSignInPage(
        res,
        result.ok ? 200 : 400,
        result.ok ? 'Signed in' : 'Not signed in',
        `<p>${escape(result.message)}</p>`,
      );
      return true;
    }
    const pending = oauth.pendingSignIn(url.searchParams.get('request') ?? '');
    if (!pending) {
      sendSignInMessage(res, 404, 'Link expired', 'This sign-in link has expired or was used already. Start again.');
      return true;
    }
    const at = new URL(pending.authorizationUrl).origin;
    // The callback is taken only from a browser that has been here (and read whose sign-in it is).
    res.setHeader(
      'set-cookie',
      signInCookie(pending.state, pending.browserKey, new URL(pending.redirectUrl).protocol === 'https:'),
    );
    sendSignInPage(
      res,
      200,
      `Sign in to ${pending.server}`,
      `<p>mcproxy will sign in to the server <strong>${escape(pending.server)}</strong> for
<strong>${escape(describeAccount(pending.account))}</strong>, and send that sign-in with its calls there.
You sign in at <code>${escape(at)}</code>. Continue only if you asked for this yourself.</p>
<p><a class="button" href="${escape(pending.authorizationUrl)}" rel="noreferrer">Continue</a></p>`,
    );
    return true;
  };
}

/** A page of the sign-in with one line of text (also `mcproxy login`'s callback). */
export function sendSignInMessage(res: ServerResponse, status: number, title: string, message: string): void {
  sendSignInPage(res, status, title, `<p>${escape(message)}</p>`);
}

/** A small page of the sign-in: never cached, framed or scripted. */
function sendSignInPage(res: ServerResponse, status: number, title: string, body: string): void {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · mcproxy</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
code{word-break:break-all}.button{display:inline-block;padding:.4rem 1rem;border:1px solid;text-decoration:none}</style>
</head><body><h1>${escape(title)}</h1>
${body}
</body></html>`;
  res.writeHead(status, { ...CONSENT_HEADERS, 'content-length': Buffer.byteLength(html) }).end(html);
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
