import type { Progress, Tool } from '@modelcontextprotocol/sdk/types.js';

import type { Catalog } from '../catalog/catalog.js';
import type { Logger } from '../observability/log.js';
import type { Metrics } from '../observability/metrics.js';
import type { Upstream } from '../upstream/upstream.js';
import type { ClientSession } from './client-session.js';
import type { SubscriptionRegistry } from './subscriptions.js';

/** What a client session needs from the gateway that owns it. */
export interface RelayContext {
  readonly catalog: Catalog;
  readonly log: Logger;
  readonly subscriptions: SubscriptionRegistry;
  /** Prometheus metrics, when the gateway keeps them. */
  readonly metrics?: Metrics;
  upstream(name: string): Upstream | undefined;
  /** Instructions for a session's client: its tool surface's own, else the gateway's plus each server's. */
  instructions(session?: ClientSession): string | undefined;
  /** The tools a session exposes instead of the catalog's (Code Mode, meta mode), or undefined for direct. */
  toolSurface(session: ClientSession): ToolSurface | undefined;
  onSessionClosed(session: ClientSession): void;
  /** Resolves once the gateway's start-up (every server's first attempt) is over. */
  whenStarted(): Promise<void>;
  /** Starts lazy servers whose tools are not known yet (their first use is the first listing). */
  startLazyServers(): Promise<void>;
  /** The most verbose logging level any session asked for changed: apply it upstream. */
  onLogLevelChanged(): void;
}

export interface ToolCallContext {
  signal: AbortSignal;
  session: ClientSession;
  /** Present when the client sent a progress token: sends it a progress notification for this call. */
  progress?: (progress: Progress) => void;
}

/** An alternative set of tools in front of the catalog. */
export interface ToolSurface {
  listTools(): Tool[];
  /** What `initialize` tells the client instead of the gateway's usual instructions. */
  instructions?(): string;
  callTool(name: string, args: Record<string, unknown>, context: ToolCallContext): Promise<Record<string, unknown>>;
}
