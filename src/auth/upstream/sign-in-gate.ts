import { randomBytes } from 'node:crypto';

import { deadlineSignal } from '../../deadline.js';
import { GatewayError } from '../../errors.js';
import { describeAccount } from './accounts.js';

/** What a call tells the gate about its caller: the relay's CallOrigin, as far as a sign-in needs it. */
export interface SignInOrigin {
  readonly owner: { readonly group: string };
  readonly capabilities: { elicitation?: { url?: object } };
  sendRequest(
    request: { jsonrpc: '2.0'; id: number; method: string; params: Record<string, unknown> },
    signal: AbortSignal,
  ): Promise<Record<string, unknown>>;
  sendNotification(notification: {
    method: 'notifications/elicitation/complete';
    params: { elicitationId: string };
  }): void;
}

/** A sign-in link and when it ends: resolved once the tokens are stored, rejected when it failed. */
export interface SignInLink {
  url: string;
  expiresAt: number;
  done: Promise<void>;
}

export interface SignInRequest {
  server: string;
  account: string;
  origin: SignInOrigin;
  signal: AbortSignal;
  /** How long the call may wait for the person to finish (the server's tool timeout). */
  waitMs: number;
  link: SignInLink;
}

/**
 * Asks the caller to sign in. A client that supports URL-mode elicitation is sent `elicitation/create` with
 * the link; once it accepts, the call waits (up to `waitMs`) for the sign-in to finish, sends
 * `notifications/elicitation/complete`, and goes on. Any other client, or a declined or unfinished sign-in,
 * gets UPSTREAM_AUTH_REQUIRED with the link in its message and in `data.signInUrl`.
 */
export async function askToSignIn(request: SignInRequest): Promise<void> {
  const { server, account, origin, link } = request;
  const linkError = (why: string) =>
    new GatewayError(
      'UPSTREAM_AUTH_REQUIRED',
      `server "${server}" needs a sign-in by ${describeAccount(account)}${why}: open ${link.url} in a browser ` +
        '(the link works for 10 minutes), then try again',
      { data: { server, signInUrl: link.url } },
    );
  if (!origin.capabilities.elicitation?.url) throw linkError('');
  const elicitationId = randomBytes(16).toString('hex');
  let action: unknown;
  try {
    const params = {
      mode: 'url',
      elicitationId,
      url: link.url,
      message: `Sign in to "${server}" for ${describeAccount(account)} to continue.`,
    };
    action = (
      await origin.sendRequest({ jsonrpc: '2.0', id: 0, method: 'elicitation/create', params }, request.signal)
    )['action'];
  } catch {
    throw linkError('');
  }
  if (action !== 'accept') throw linkError(` (the sign-in was ${action === 'decline' ? 'declined' : 'cancelled'})`);
  const outcome = await settleWithin(link.done, request.signal, request.waitMs);
  if (outcome === 'failed') throw linkError(' (the sign-in did not succeed)');
  if (outcome === 'timeout') throw linkError(' (it did not finish in time)');
  origin.sendNotification({ method: 'notifications/elicitation/complete', params: { elicitationId } });
}

async function settleWithin(
  done: Promise<void>,
  signal: AbortSignal,
  ms: number,
): Promise<'done' | 'failed' | 'timeout'> {
  const deadline = deadlineSignal(ms, signal);
  if (deadline.aborted) return 'timeout';
  return new Promise((resolve) => {
    const onAbort = () => resolve('timeout');
    deadline.addEventListener('abort', onAbort, { once: true });
    done
      .then(
        () => resolve('done'),
        () => resolve('failed'),
      )
      .finally(() => deadline.removeEventListener('abort', onAbort));
  });
}
