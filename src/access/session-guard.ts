import type { GatewayConfig } from '../config/model.js';
import { GatewayError } from '../errors.js';
import type { ClientSession } from '../relay/client-session.js';
import { toWireError } from '../relay/errors.js';
import type { RateBudget } from '../state/store.js';
import { credentialsOf } from './credentials.js';
import type { AccessGrant } from './policy.js';

export interface SessionGuardOptions {
  grant: AccessGrant;
  /** Shared by every session (and every replica); the grant's `rateLimit` says the bucket and the limit. */
  limiter?: RateBudget;
  /** The config in force now, so a credential removed by a reload stops working on open sessions too. */
  config: () => GatewayConfig;
}

/**
 * Checks every request of a session before the session answers it (ping and initialize excepted): the
 * credential must still be configured, and the request must fit the rate limit, else a JSON-RPC error
 * (`RATE_LIMITED` with `data.retryAfterSeconds`, `ACCESS_DENIED`). In direct mode a call to a tool that
 * exists but is hidden from the session is recorded in the audit log as denied.
 *
 * @example guardSession(session, { grant, limiter, config: () => gateway.config });
 */
export function guardSession(session: ClientSession, options: SessionGuardOptions): void {
  const answer = session.server.fallbackRequestHandler;
  if (!answer) return;
  const { grant, limiter } = options;
  session.server.fallbackRequestHandler = async function guardedRequest(request, extra) {
    const config = options.config();
    if (grant.credential && !credentialsOf(config).has(grant.credential)) {
      // Answer first, then end the session: the credential was revoked by a reload.
      setImmediate(() => void session.close());
      throw toWireError(
        new GatewayError('ACCESS_DENIED', `credential "${grant.credential.id}" is no longer valid; session closed`),
      );
    }
    if (grant.rateLimit && limiter) {
      const decision = await limiter.take(grant.rateLimit.key, grant.rateLimit.perMinute);
      if (!decision.ok) {
        const { retryAfterSeconds } = decision;
        throw toWireError(
          new GatewayError(
            'RATE_LIMITED',
            `Rate limit of ${grant.rateLimit.perMinute} requests per minute exceeded; retry in ${retryAfterSeconds} s`,
            { data: { retryAfterSeconds } },
          ),
        );
      }
    }
    if (request.method === 'tools/call' && (session.scope.mode ?? config.mode) === 'direct') {
      auditHiddenTool(session, (request.params as { name?: unknown } | undefined)?.name);
    }
    return answer(request, extra);
  };
}

function auditHiddenTool(session: ClientSession, name: unknown): void {
  const audit = session.scope.onToolCall;
  if (audit === undefined || typeof name !== 'string') return;
  const view = session.view;
  if (view.findTool(name)) return;
  const { single } = session.scope;
  const hidden = single === undefined ? view.catalog.findTool(name) : view.catalog.findToolByOrigin(single, name);
  if (hidden) audit(hidden.server, hidden.originalName)('denied');
}
