import { CONSENT_PATH } from './paths.js';

export interface ConsentView {
  requestId: string;
  clientName: string;
  redirectOrigin: string;
  resource: string;
  scopes: string[];
  error?: string;
}

/** Headers of the consent page: never cached, never framed (clickjacking), no scripts, no referrer to other sites. */
export const CONSENT_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  // No form-action: browsers apply it to the redirect that follows the post, which goes to the client.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  // same-origin, not no-referrer: with no-referrer the browser posts the form with `Origin: null`.
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
};

/**
 * The page where the owner signs in and allows (or denies) a client. Everything from the client is escaped.
 *
 * @example res.writeHead(200, CONSENT_HEADERS).end(renderConsentPage(view));
 */
export function renderConsentPage(view: ConsentView): string {
  const scopes =
    view.scopes.length === 0
      ? '<p>No scopes: what a token without scopes opens.</p>'
      : view.scopes
          .map(
            (scope) =>
              `<label><input type="checkbox" name="scope" value="${escape(scope)}" checked> ${escape(scope)}</label>`,
          )
          .join('<br>');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Allow ${escape(view.clientName)}? · mcproxy</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
.error{color:#b00020}code{word-break:break-all}button{font:inherit;padding:.4rem 1rem;margin-right:.5rem}</style></head>
<body><h1>Allow <em>${escape(view.clientName)}</em> to use this gateway?</h1>
<p>It will act as you on <code>${escape(view.resource)}</code>, and the answer goes back to
<code>${escape(view.redirectOrigin)}</code>. Only allow it if you just asked to connect it.</p>
${view.error ? `<p class="error" role="alert">${escape(view.error)}</p>` : ''}
<form method="post" action="${CONSENT_PATH}">
<input type="hidden" name="request" value="${escape(view.requestId)}">
<fieldset><legend>Scopes</legend>${scopes}</fieldset>
<p><label>Owner password <input type="password" name="password" autocomplete="current-password" autofocus></label></p>
<button type="submit" name="action" value="allow">Allow</button>
<button type="submit" name="action" value="deny">Deny</button>
</form></body></html>
`;
}

function escape(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!,
  );
}
