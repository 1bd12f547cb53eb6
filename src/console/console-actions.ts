import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import type { UpstreamServer } from '../upstream/upstream-server.js';
import type { Viewer } from './console-access.js';

/** What an action did: a line for the operator and, for a sign-in, the page the console opens. */
export interface ActionResult {
  message: string;
  /** A URL the console opens in a new tab (an upstream's authorization page). */
  open?: string;
}

export interface ActionContext {
  gateway: Gateway;
  server: UpstreamServer;
  viewer: Viewer;
}

/**
 * An action the console offers on a server. The console renders the list the gateway sends (id, label,
 * whether it applies now), so a feature adds a button by registering an action; no console code changes.
 *
 * @example
 * // Forget the gateway's sign-in at a server; its next use asks for a new one.
 * actions.register({
 *   id: 'sign-out',
 *   label: 'Sign out',
 *   applies: (server) => gateway.upstreamOAuth.signedIn(server.name).includes('gateway'),
 *   run: async ({ server }) => ({ message: (await gateway.upstreamOAuth.signOut(server.name)) ? 'Signed out' : 'Was not signed in' }),
 * });
 */
export interface ConsoleAction {
  id: string;
  label: string;
  /** Who may run it: `admin` (the default) or any `reader` of the console (a user's own sign-in). */
  role?: 'admin' | 'reader';
  /** Whether it applies to the server as it is now; the button is shown only then. */
  applies(server: UpstreamServer): boolean;
  run(context: ActionContext): Promise<ActionResult>;
}

/** An action as one viewer sees it on one server. */
export interface ActionView {
  id: string;
  label: string;
  /** False when the viewer lacks the role: shown disabled. */
  allowed: boolean;
}

/** The actions of the console, built-in and registered. */
export class ConsoleActions {
  private readonly actions = new Map<string, ConsoleAction>();

  constructor(builtIn: readonly ConsoleAction[] = BUILT_IN_ACTIONS) {
    for (const action of builtIn) this.register(action);
  }

  /** Adds an action (or replaces the one with the same id). */
  register(action: ConsoleAction): void {
    this.actions.set(action.id, action);
  }

  /** The actions that apply to a server now, as this viewer may use them. */
  forServer(server: UpstreamServer, viewer: Viewer): ActionView[] {
    return [...this.actions.values()]
      .filter((action) => server.config.enabled && action.applies(server))
      .map((action) => ({ id: action.id, label: action.label, allowed: mayRun(action, viewer) }));
  }

  /**
   * Runs an action on a server. ACCESS_DENIED without the role, INVALID_PARAMS for an unknown action or
   * one that does not apply now.
   */
  async run(id: string, server: UpstreamServer, context: Omit<ActionContext, 'server'>): Promise<ActionResult> {
    const action = this.actions.get(id);
    if (!action) throw new GatewayError('INVALID_PARAMS', `no console action "${id}"`);
    if (!mayRun(action, context.viewer)) {
      throw new GatewayError('ACCESS_DENIED', `"${action.label}" needs a credential with the admin role`);
    }
    if (!server.config.enabled || !action.applies(server)) {
      throw new GatewayError('INVALID_PARAMS', `"${action.label}" does not apply to server "${server.name}" now`);
    }
    context.gateway.log.info(`Console: ${context.viewer.label} ran "${action.label}" on server '${server.name}'`);
    return action.run({ ...context, server });
  }
}

function mayRun(action: ConsoleAction, viewer: Viewer): boolean {
  return (action.role ?? 'admin') === 'reader' || viewer.admin;
}

const RESTARTABLE = new Set(['ready', 'failed', 'restarting']);

/** Restart, start and stop: what an operator does with a server by hand. */
export const BUILT_IN_ACTIONS: readonly ConsoleAction[] = [
  {
    id: 'restart',
    label: 'Restart',
    applies: (server) => server.listInstances().some((instance) => RESTARTABLE.has(instance.state)),
    async run({ server }) {
      const instances = server.listInstances();
      await Promise.all(instances.map((instance) => instance.restart()));
      const count = instances.length === 1 ? '' : ` (${instances.length} instances)`;
      return { message: `Restarted server "${server.name}"${count}` };
    },
  },
  {
    id: 'start',
    label: 'Start',
    applies: (server) => server.scope === 'shared' && (server.state === 'idle' || server.state === 'failed'),
    async run({ server }) {
      const [instance] = server.listInstances();
      if (instance?.state === 'failed') instance.retry();
      await instance?.ensureReady(AbortSignal.timeout(server.config.startTimeoutMs));
      return { message: `Started server "${server.name}"` };
    },
  },
  {
    id: 'stop',
    label: 'Stop',
    applies: (server) => server.scope === 'shared' && server.config.lazy && server.state === 'ready',
    async run({ server }) {
      await Promise.all(server.listInstances().map((instance) => instance.park()));
      return { message: `Stopped server "${server.name}" until its next use` };
    },
  },
];
