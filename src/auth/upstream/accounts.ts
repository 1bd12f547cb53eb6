import type { ServerScope } from '../../config/model.js';

/** The gateway's own sign-in: `mcproxy login`, shared instances, and clients with no credential of their own. */
export const GATEWAY_ACCOUNT = 'gateway';

/**
 * Whose sign-in an instance of a server uses: a credential's own in its session and credential instances, so
 * each user's calls carry their own upstream token; the gateway's for a shared instance and for anonymous and
 * local clients, like a server's configured headers.
 *
 * @example accountFor('credential', 'credential:alice') // 'credential:alice'
 * @example accountFor('shared', 'credential:alice') // 'gateway'
 */
export function accountFor(scope: ServerScope, group: string): string {
  return scope !== 'shared' && group.startsWith('credential:') ? group : GATEWAY_ACCOUNT;
}

/** The credential id an account stands for in the audit log; null for the gateway's own. */
export function credentialOf(account: string): string | null {
  return account.startsWith('credential:') ? account.slice('credential:'.length) : null;
}

/** How messages name an account. */
export function describeAccount(account: string): string {
  const credential = credentialOf(account);
  return credential === null ? 'the gateway' : `credential "${credential}"`;
}
