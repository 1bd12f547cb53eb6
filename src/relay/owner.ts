import { createHash } from 'node:crypto';

import type {
  ClientCapabilities,
  JSONRPCRequest,
  LoggingLevel,
  ServerNotification,
} from '@modelcontextprotocol/sdk/types.js';

import type { ServerScope } from '../config/model.js';

/**
 * Who a message belongs to. Every call the gateway relays carries its owner, and every message a server sends
 * back is delivered to its owner, or to nobody.
 */
export interface Owner {
  /** The client session. */
  readonly sessionId: string;
  /** The session's credential group: `credential:<id>`, `anonymous` or `local` (an access grant's owner). */
  readonly group: string;
  /**
   * The session that holds `session`-scoped instances for this owner, when it is not `sessionId` itself: a
   * 2026-07-28 client has no session, so each of its requests is its own owner (`sessionId`) while the
   * instances it uses belong to its credential's stateless session on that endpoint.
   */
  readonly instanceSession?: string;
}

/**
 * One call in flight from a client: its owner, what that client declared it can do, and how to reach it on
 * the call's own stream (a Streamable HTTP client receives a server's request during a call on that call's
 * response stream). Work a session starts without a request of its own (Code Mode's `execute`) uses the
 * session's standalone channel instead.
 */
export interface CallOrigin {
  readonly owner: Owner;
  readonly capabilities: ClientCapabilities;
  sendRequest(request: JSONRPCRequest, signal: AbortSignal): Promise<Record<string, unknown>>;
  sendNotification(notification: ServerNotification): void;
  /**
   * Whether a notification sent with `sendNotification` reaches the client now on the call's own stream, apart
   * from its session's standalone one (a Streamable HTTP call whose client is still there, answers not JSON only).
   */
  carriesNotifications?(): boolean;
  /** Whether a log message of this level, tied to the call, is wanted by its client. */
  wantsLog(level: LoggingLevel): boolean;
  /** A 2026-07-28 caller's log level for this request (its envelope's), passed on to a server of that era. */
  readonly logLevel?: LoggingLevel;
  /**
   * Ends the client's call with this error at once (a 2026-07-28 call whose server asked for something the
   * client did not declare: the answer is MissingRequiredClientCapability, not a tool error).
   */
  failCall?(error: Error): void;
  /**
   * The server closed its response stream of this call before the answer, to be polled (SEP-1699): closes the
   * client's stream of the call the same way. Present only when the client can resume that stream (it got event
   * ids and reconnects with Last-Event-ID), so that a client that cannot is never cut off.
   */
  closeStream?(): void;
  /** A 2026-07-28 caller's multi round-trip requests, relayed as they are to a server of that era. */
  inputRelay?: InputRelay;
}

/**
 * How a 2026-07-28 caller's request is relayed to a server that speaks 2026-07-28 (modern-only or both eras):
 * in that era, with the caller's own capabilities in its envelope, and the server's `input_required` result
 * passed through as it is (its input keys kept) but for its `requestState`, which is sealed for this caller and
 * request as the gateway's own states are. The caller's retry brings the sealed state back, opened here.
 */
export interface InputRelay {
  /** The retry's opened state: the server that issued it and that server's own requestState (if it gave one). */
  readonly retry?: { readonly server: string; readonly requestState?: unknown };
  /** Seals a server's requestState (or its absence) for this caller and request: the opaque string it gets. */
  seal(server: string, requestState: unknown): string;
}

/** The session that holds an owner's instances (see `Owner.instanceSession`). */
export function holderOf(owner: Owner): string {
  return owner.instanceSession ?? owner.sessionId;
}

/** The group a shared instance (and a scoped server's probe) is made for: no client is behind it. */
export const SHARED_GROUP = 'shared';

/** The key of the instance of a server with this scope that serves this owner. */
export function instanceKey(scope: ServerScope, owner: Owner): string {
  if (scope === 'shared') return 'shared';
  if (scope === 'session') return `session:${holderOf(owner)}`;
  return owner.group;
}

/**
 * How an instance is named in /health, metrics labels and logs. A session id is a bearer secret of its
 * client's HTTP session, so only a short digest of it is shown.
 */
export function describeInstanceKey(key: string): string {
  if (!key.startsWith('session:')) return key;
  const digest = createHash('sha256').update(key).digest('hex').slice(0, 8);
  return `session ${digest}`;
}
