import type { JSONRPCRequest, ServerNotification } from '@modelcontextprotocol/sdk/types.js';

import { GatewayError } from '../errors.js';
import type { SessionScope } from './catalog-view.js';
import { ClientSession } from './client-session.js';
import type { RelayContext } from './context.js';
import type { CallOrigin } from './owner.js';

/** A notification a stateless client may receive: on its `subscriptions/listen` streams. */
export type ListenerNotification = (notification: ServerNotification) => void;

/**
 * What the gateway keeps for 2026-07-28 clients, which have no session: one per credential and endpoint. It
 * holds their `session`-scoped server instances, Code Mode's tool surface and their catalog, so that each
 * request does not start over; every request is still its own owner for routing (see `Owner.instanceSession`).
 * Nothing can be sent to it outside a request except on its `subscriptions/listen` streams.
 */
export class StatelessSession extends ClientSession {
  private readonly listeners = new Set<ListenerNotification>();
  lastUsed = Date.now();

  constructor(context: RelayContext, scope: SessionScope, group: string) {
    super(context, 'stateless-http', scope, group);
  }

  /** No standalone channel: a stateless client can be asked something only within one of its requests. */
  override get origin(): CallOrigin {
    return {
      owner: this.owner,
      capabilities: {},
      sendRequest: (request: JSONRPCRequest) =>
        Promise.reject(
          new GatewayError(
            'CAPABILITY_MISSING',
            `${request.method} cannot reach a 2026-07-28 client outside one of its requests`,
          ),
        ),
      sendNotification: (notification) => this.notify(notification),
      wantsLog: () => false,
    };
  }

  /** Change notifications go to the listen streams; anything else has nowhere to go. */
  override notify(notification: ServerNotification): void {
    for (const listener of this.listeners) listener(notification);
  }

  /** A `subscriptions/listen` stream opens; returns its removal. */
  addListener(listener: ListenerNotification): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listening(): boolean {
    return this.listeners.size > 0;
  }
}
