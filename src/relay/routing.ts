import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';

import type { ServerScope } from '../config/model.js';
import type { CallOrigin } from './owner.js';

/**
 * Where a server's request to a client goes. The rules, in order (one place, so a test can enumerate them):
 * 1. It arrived on the response stream of one of our calls (an HTTP upstream): that call's client.
 * 2. Calls of exactly one owner are in flight on the instance: that owner, on its latest call's stream (a
 *    `session` instance of a legacy client always has one owner; each request of a 2026-07-28 client is
 *    its own owner). Calls cancelled or timed out lately count as in flight here: the server may still be
 *    working on them (a cancellation can cross the request on the wire, and some servers ignore it), so a
 *    request of a cancelled call must not go to the one owner left.
 * 3. Calls of several owners are in flight: nobody can tell whose it is, so it is refused (fail closed);
 *    `roots/list` is answered by the gateway instead (the server's configured roots).
 * 4. No call in flight: a `session` instance goes to its own session, a `credential` instance with a single
 *    session attached to that session; otherwise `roots/list` is answered by the gateway and anything else
 *    is refused.
 * A misrouted request is a leak between users, so no rule ever guesses.
 */
export type RequestRoute =
  | { kind: 'call'; origin: CallOrigin }
  | { kind: 'session'; sessionId: string }
  | { kind: 'gateway' }
  | { kind: 'refuse'; message: string };

export interface RequestRoutingInput {
  method: string;
  server: string;
  scope: ServerScope;
  /** The session a `session` instance belongs to. */
  instanceSession?: string;
  /** Sessions that use a `credential` instance. */
  attachedSessions: readonly string[];
  /** The call whose response stream carried the request, when the transport knows. */
  related?: CallOrigin;
  /** Calls in flight on the instance, oldest first. */
  inFlight: readonly CallOrigin[];
  /** Calls abandoned lately (cancelled, timed out) that the server may still be working on. */
  abandoned?: readonly CallOrigin[];
}

export function routeServerRequest(input: RequestRoutingInput): RequestRoute {
  const { method, server, scope, related, inFlight } = input;
  if (related) return { kind: 'call', origin: related };
  const latest = inFlight.at(-1);
  const sessions = new Set(inFlight.map((origin) => origin.owner.sessionId));
  if (latest !== undefined) for (const origin of input.abandoned ?? []) sessions.add(origin.owner.sessionId);
  if (sessions.size === 1) return { kind: 'call', origin: latest! };
  if (sessions.size > 1) {
    if (method === 'roots/list') return { kind: 'gateway' };
    return {
      kind: 'refuse',
      message:
        `${method} refused: server "${server}" has calls of ${sessions.size} client sessions in flight, so the ` +
        `gateway cannot tell which client it belongs to; give the server scope "session" to route it exactly`,
    };
  }
  if (scope === 'session' && input.instanceSession !== undefined) {
    return { kind: 'session', sessionId: input.instanceSession };
  }
  const attached = input.attachedSessions;
  if (scope === 'credential' && attached.length === 1) return { kind: 'session', sessionId: attached[0]! };
  if (method === 'roots/list') return { kind: 'gateway' };
  return {
    kind: 'refuse',
    message: `${method} refused: it arrived while no client call was in flight on server "${server}", so it has no owner`,
  };
}

/**
 * The latest call in flight on an instance when every call in flight is one session's (rule 2 of
 * `routeServerRequest`), else undefined.
 */
export function soleSessionCall(inFlight: readonly CallOrigin[]): CallOrigin | undefined {
  const latest = inFlight.at(-1);
  if (latest === undefined) return undefined;
  const session = latest.owner.sessionId;
  return inFlight.every((origin) => origin.owner.sessionId === session) ? latest : undefined;
}

/**
 * Why a client cannot take this request, judged from the capabilities it declared, or undefined when it can.
 * A server must never get an answer from a client that did not offer the feature (nor a request delivered
 * to one that cannot handle it).
 */
export function missingCapability(
  method: string,
  params: Record<string, unknown> | undefined,
  capabilities: ClientCapabilities,
): string | undefined {
  if (method === 'sampling/createMessage') {
    if (!capabilities.sampling) return 'sampling';
    if ((params?.tools !== undefined || params?.toolChoice !== undefined) && !capabilities.sampling.tools) {
      return 'sampling with tools';
    }
    return undefined;
  }
  if (method === 'elicitation/create') {
    const elicitation = capabilities.elicitation as Record<string, unknown> | undefined;
    if (!elicitation) return 'elicitation';
    const mode = params?.mode ?? 'form';
    if (mode === 'url') return elicitation.url === undefined ? 'URL-mode elicitation' : undefined;
    const formOffered = elicitation.form !== undefined || Object.keys(elicitation).length === 0;
    return formOffered ? undefined : 'form-mode elicitation';
  }
  if (method === 'roots/list') return capabilities.roots ? undefined : 'roots';
  return undefined;
}

/**
 * The sessions a server's log message (`notifications/message`) goes to, before each session's own level
 * filter: the calling session when the message is tied to a call, a `session` instance's own session, a
 * `credential` instance's sessions, and for a shared server every session that may see the server.
 */
export function logRecipients(input: {
  scope: ServerScope;
  related?: CallOrigin;
  instanceSession?: string;
  attachedSessions: readonly string[];
  /** Sessions whose view includes the server. */
  viewers: () => Iterable<string>;
}): Iterable<string> {
  if (input.related) return [input.related.owner.sessionId];
  if (input.scope === 'session' && input.instanceSession !== undefined) return [input.instanceSession];
  if (input.scope === 'credential') return input.attachedSessions;
  return input.viewers();
}
