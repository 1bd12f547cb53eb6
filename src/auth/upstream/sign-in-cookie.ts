import { createHash, timingSafeEqual } from 'node:crypto';

import { SIGN_IN_TTL_MS } from './pending-sign-ins.js';
import { UPSTREAM_CALLBACK_PATH } from './sign-in-paths.js';

/**
 * The cookie that ties a sign-in's callback to the browser that opened its sign-in page. Without it, whoever
 * holds a sign-in link could hand its authorization URL (shown on that page) to someone else, skipping the page
 * that says whose sign-in it fills, and their upstream account would land in the link holder's credential.
 * One cookie per sign-in (named after a digest of its state), sent only to the callback.
 *
 * @example res.setHeader('set-cookie', signInCookie(pending.state, pending.browserKey, true));
 */
export function signInCookie(state: string, browserKey: string, secure: boolean): string {
  const attributes = [
    `${cookieName(state)}=${browserKey}`,
    `Path=${UPSTREAM_CALLBACK_PATH}`,
    `Max-Age=${Math.floor(SIGN_IN_TTL_MS / 1000)}`,
    'HttpOnly',
    // Lax: the authorization server sends the browser back with a top-level GET, which carries it.
    'SameSite=Lax',
  ];
  if (secure) attributes.push('Secure');
  return attributes.join('; ');
}

/** The cookie that ends a sign-in's tie to this browser (once its callback came). */
export function clearedSignInCookie(state: string): string {
  return `${cookieName(state)}=; Path=${UPSTREAM_CALLBACK_PATH}; Max-Age=0; HttpOnly; SameSite=Lax`;
}

/** Whether the request's `Cookie` header carries the sign-in's browser key (compared in constant time). */
export function carriesSignInCookie(header: string | undefined, state: string, browserKey: string): boolean {
  const name = `${cookieName(state)}=`;
  const expected = Buffer.from(browserKey);
  for (const part of (header ?? '').split(';')) {
    const pair = part.trim();
    if (!pair.startsWith(name)) continue;
    const presented = Buffer.from(pair.slice(name.length));
    if (presented.length === expected.length && timingSafeEqual(presented, expected)) return true;
  }
  return false;
}

function cookieName(state: string): string {
  return `mcproxy-sign-in-${createHash('sha256').update(state).digest('base64url').slice(0, 16)}`;
}
