import type { ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';

import type { JsonRpcPeer } from './json-rpc-peer.js';

/** Resource subscriptions of one instance are gathered for this long before the stream is reopened. */
const REOPEN_DELAY_MS = 20;

/**
 * The `subscriptions/listen` request the gateway keeps open towards a 2026-07-28 server: list changes it
 * advertises, and the resources the gateway's clients subscribed to. A changed set of resources reopens the
 * stream (the filter belongs to the request). Its notifications arrive like any other server notification.
 */
export class ModernListen {
  private readonly uris = new Set<string>();
  private current?: AbortController;
  private reopenTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly peer: JsonRpcPeer<unknown>,
    private readonly capabilities: ServerCapabilities,
    private readonly onEnd: (error: unknown) => void,
  ) {
    if (this.wantsAnything()) this.open();
  }

  setSubscribed(uri: string, subscribed: boolean): void {
    const changed = subscribed ? !this.uris.has(uri) : this.uris.has(uri);
    if (!changed) return;
    if (subscribed) this.uris.add(uri);
    else this.uris.delete(uri);
    this.reopenTimer ??= setTimeout(() => {
      this.reopenTimer = undefined;
      this.open();
    }, REOPEN_DELAY_MS);
    this.reopenTimer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.current?.abort();
  }

  private wantsAnything(): boolean {
    const { tools, prompts, resources } = this.capabilities;
    return !!(tools?.listChanged || prompts?.listChanged || resources?.listChanged || this.uris.size > 0);
  }

  private open(): void {
    this.current?.abort();
    this.current = undefined;
    if (this.closed || !this.wantsAnything()) return;
    const controller = new AbortController();
    this.current = controller;
    const { tools, prompts, resources } = this.capabilities;
    const notifications = {
      ...(tools?.listChanged ? { toolsListChanged: true } : {}),
      ...(prompts?.listChanged ? { promptsListChanged: true } : {}),
      ...(resources?.listChanged ? { resourcesListChanged: true } : {}),
      ...(this.uris.size > 0 ? { resourceSubscriptions: [...this.uris] } : {}),
    };
    this.peer
      .request(
        'subscriptions/listen',
        { notifications },
        { signal: controller.signal, describe: 'subscriptions/listen', background: true },
      )
      .then(
        () => undefined,
        (error: unknown) => {
          if (this.current === controller && !controller.signal.aborted) this.onEnd(error);
        },
      );
  }
}
