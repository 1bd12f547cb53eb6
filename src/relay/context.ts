import type { Progress, Tool } from '@modelcontextprotocol/sdk/types.js';

import type { Catalog } from '../catalog/catalog.js';
import type { Logger } from '../observability/log.js';
import type { Metrics } from '../observability/metrics.js';
import type { UpstreamInstance } from '../upstream/instance.js';
import type { UpstreamServer } from '../upstream/upstream-server.js';
import type { ClientSession } from './client-session.js';
import type { CancelSignal } from './lazy-abort.js';
import type { CallOrigin } from './owner.js';
import type { SubscriptionRegistry } from './subscriptions.js';
import type { TaskRelay } from './tasks.js';

/** What a client session needs from the gateway that owns it. */
export interface RelayContext {
  /** The catalog every session sees until it has instances of its own (see `catalogFor`). */
  readonly catalog: Catalog;
  readonly log: Logger;
  readonly subscriptions: SubscriptionRegistry<UpstreamInstance>;
  /** Tasks of task-augmented calls, by the gateway's ids. */
  readonly tasks: TaskRelay;
  /** Prometheus metrics, when the gateway keeps them. */
  readonly metrics?: Metrics;
  server(name: string): UpstreamServer | undefined;
  /**
   * The instance of a server that serves this call's owner: the shared one, or the owner's own (started on
   * first use). Throws UPSTREAM_UNAVAILABLE for a server that is gone, INSTANCE_LIMIT at `max_instances`.
   */
  instanceFor(server: string, origin: CallOrigin): UpstreamInstance;
  /** Before a call: undefined, or a wait for its owner to sign in to the server first (upstream OAuth). */
  signInGate?(server: string, origin: CallOrigin, signal: CancelSignal): Promise<void> | undefined;
  /** The catalog one session sees (its own instances' lists in place of the shared ones). */
  catalogFor(sessionId: string): Catalog;
  /**
   * Instructions for a session's client: its tool surface's own (Code Mode's), else the gateway's line plus
   * the instructions of the servers the session can see.
   */
  instructions(session?: ClientSession): string | undefined;
  /** Items per page of the lists the gateway answers itself. */
  pageSize(): number;
  /** The tools a session exposes instead of the catalog's (Code Mode, meta mode), or undefined for direct. */
  toolSurface(session: ClientSession): ToolSurface | undefined;
  onSessionClosed(session: ClientSession): void;
  /** Resolves once the gateway's start-up (every server's first attempt) is over. */
  whenStarted(): Promise<void>;
  /** Makes the lists a session is about to read known: starts lazy servers, probes unprobed ones. */
  prepareLists(session: ClientSession): Promise<void>;
  /** A session set its logging level: the levels asked of upstreams follow. */
  onLogLevelChanged(session: ClientSession): void;
  /** A session's client said its roots changed: its own instances are told. */
  onRootsChanged(session: ClientSession): void;
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
