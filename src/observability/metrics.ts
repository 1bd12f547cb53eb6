import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

import { ToolCallMetrics } from './tool-call-metrics.js';

/** Upstream states (the `state` label of `mcproxy_server_state`), as `src/upstream/upstream.ts` names them. */
export const SERVER_STATES = ['idle', 'starting', 'ready', 'restarting', 'failed', 'stopping', 'stopped'] as const;
export type ToolCallOutcome = 'ok' | 'error' | 'timeout' | 'cancelled';
export type ReloadOutcome = 'ok' | 'error';
export type SandboxOutcome = 'ok' | 'error' | 'timeout' | 'limit' | 'rejected';

/** 0.1 ms … 60 s: tool calls range from in-memory lookups to slow browser automation. */
export const TOOL_CALL_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

export interface MetricsOptions {
  /** Value of the `version` label of `mcproxy_build_info`. */
  version?: string;
  /** Also collect prom-client's default process and Node.js metrics (true). */
  defaultMetrics?: boolean;
}

export interface Metrics {
  /** A registry of its own (never prom-client's global one), so two gateways in one process don't clash. */
  readonly registry: Registry;
  /** The `Content-Type` of `render()`'s text. */
  readonly contentType: string;
  /** The Prometheus text exposition, for `GET /metrics`. */
  render(): Promise<string>;
  /** Sets `mcproxy_server_state` (one-hot over the states) and `mcproxy_server_up` (1 when `ready`). */
  setServerState(server: string, state: string): void;
  serverRestarted(server: string): void;
  setServerTools(server: string, count: number): void;
  /** Sets `mcproxy_server_instances`: the live instances of a server (1 for a shared one). */
  setServerInstances(server: string, count: number): void;
  /** Counts an instance started for a client session or credential, and one stopped. */
  instanceStarted(server: string): void;
  instanceStopped(server: string): void;
  /** Drops every series of a server removed from the config. */
  removeServer(server: string): void;
  /** Counts a finished tool call and observes its duration. */
  toolCall(server: string, tool: string, outcome: ToolCallOutcome, durationSeconds: number): void;
  /** Starts timing a tool call; the returned function records it. */
  startToolCall(server: string, tool: string): (outcome: ToolCallOutcome) => void;
  setSessions(transport: string, count: number): void;
  sessionOpened(transport: string): void;
  sessionClosed(transport: string): void;
  configReloaded(outcome: ReloadOutcome): void;
  /** Sets `mcproxy_tool_definition_changed` to 1 for exactly these tools (tool pinning), dropping the others. */
  setChangedTools(tools: readonly { server: string; tool: string; withheld: boolean }[]): void;
  sandboxExecuted(outcome: SandboxOutcome): void;
}

/**
 * Creates the gateway's Prometheus metrics on a registry of their own.
 *
 * @example
 * const metrics = createMetrics({ version: '0.1.0' });
 * metrics.setServerState('playwright', 'ready');
 * const done = metrics.startToolCall('playwright', 'navigate');
 * done('ok');
 * response.end(await metrics.render());
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const buildInfo = new Gauge({
    name: 'mcproxy_build_info',
    help: 'Always 1; the version label tells which mcproxy is running.',
    labelNames: ['version'],
    registers,
  });
  buildInfo.set({ version: options.version ?? 'unknown' }, 1);

  const up = new Gauge({
    name: 'mcproxy_server_up',
    help: 'Whether an upstream MCP server is ready (1) or not (0).',
    labelNames: ['server'],
    registers,
  });
  const stateGauge = new Gauge({
    name: 'mcproxy_server_state',
    help: 'Current state of an upstream MCP server: 1 for the state it is in, 0 for the others.',
    labelNames: ['server', 'state'],
    registers,
  });
  const restarts = new Counter({
    name: 'mcproxy_server_restarts_total',
    help: 'Restarts of an upstream MCP server after it exited or failed.',
    labelNames: ['server'],
    registers,
  });
  const tools = new Gauge({
    name: 'mcproxy_server_tools',
    help: 'Tools an upstream MCP server exposes through the gateway.',
    labelNames: ['server'],
    registers,
  });
  const instances = new Gauge({
    name: 'mcproxy_server_instances',
    help: 'Live instances of an upstream MCP server: 1 when shared, else one per client session or credential.',
    labelNames: ['server'],
    registers,
  });
  const instanceStarts = new Counter({
    name: 'mcproxy_instance_starts_total',
    help: 'Instances of a session- or credential-scoped server started for a client.',
    labelNames: ['server'],
    registers,
  });
  const instanceStops = new Counter({
    name: 'mcproxy_instance_stops_total',
    help: 'Instances of a session- or credential-scoped server stopped (owner gone, idle, or reload).',
    labelNames: ['server'],
    registers,
  });
  // Registered here, between the metrics above and below, so that /metrics lists them in the same order.
  const toolCalls = new ToolCallMetrics(
    registry,
    { calls: 'mcproxy_tool_calls_total', durations: 'mcproxy_tool_call_duration_seconds' },
    {
      calls: 'Tool calls relayed to upstream servers, by outcome (ok, error, timeout, cancelled).',
      durations: 'Time from receiving a tool call to answering it.',
    },
    TOOL_CALL_BUCKETS_SECONDS,
  );
  const sessions = new Gauge({
    name: 'mcproxy_sessions',
    help: 'Open client sessions, by transport (streamable-http, sse, stdio).',
    labelNames: ['transport'],
    registers,
  });
  const reloads = new Counter({
    name: 'mcproxy_config_reloads_total',
    help: 'Config reloads, by outcome (ok, or error when the new config was rejected).',
    labelNames: ['outcome'],
    registers,
  });
  const sandbox = new Counter({
    name: 'mcproxy_sandbox_executions_total',
    help: 'Code Mode sandbox executions, by outcome (ok, error, timeout, limit, rejected).',
    labelNames: ['outcome'],
    registers,
  });
  const changedTools = new Gauge({
    name: 'mcproxy_tool_definition_changed',
    help: 'A tool whose definition differs from its pin (1); withheld="true" when pinning is strict.',
    labelNames: ['server', 'tool', 'withheld'],
    registers,
  });
  for (const outcome of ['ok', 'error'] as const) reloads.inc({ outcome }, 0);

  const knownStates = new Map<string, Set<string>>();

  function toolCall(server: string, tool: string, outcome: ToolCallOutcome, durationSeconds: number): void {
    toolCalls.record(toolCalls.seriesOf(server, tool), outcome, durationSeconds);
  }

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    setServerState(server, state) {
      let states = knownStates.get(server);
      if (!states) {
        states = new Set<string>(SERVER_STATES);
        knownStates.set(server, states);
        restarts.inc({ server }, 0);
      }
      states.add(state);
      for (const known of states) stateGauge.set({ server, state: known }, known === state ? 1 : 0);
      up.set({ server }, state === 'ready' ? 1 : 0);
    },
    serverRestarted(server) {
      restarts.inc({ server });
    },
    setServerTools(server, count) {
      tools.set({ server }, count);
    },
    setServerInstances(server, count) {
      instances.set({ server }, count);
    },
    instanceStarted(server) {
      instanceStarts.inc({ server });
    },
    instanceStopped(server) {
      instanceStops.inc({ server });
    },
    removeServer(server) {
      toolCalls.removeServer(server);
      for (const state of knownStates.get(server) ?? []) stateGauge.remove({ server, state });
      knownStates.delete(server);
      for (const metric of [up, restarts, tools, instances, instanceStarts, instanceStops]) metric.remove({ server });
    },
    toolCall,
    startToolCall(server, tool) {
      const series = toolCalls.seriesOf(server, tool);
      const started = performance.now();
      return function finishToolCall(outcome) {
        toolCalls.record(series, outcome, (performance.now() - started) / 1000);
      };
    },
    setSessions(transport, count) {
      sessions.set({ transport }, count);
    },
    sessionOpened(transport) {
      sessions.inc({ transport });
    },
    sessionClosed(transport) {
      sessions.dec({ transport });
    },
    configReloaded(outcome) {
      reloads.inc({ outcome });
    },
    setChangedTools(list) {
      changedTools.reset();
      for (const { server, tool, withheld } of list) changedTools.set({ server, tool, withheld: String(withheld) }, 1);
    },
    sandboxExecuted(outcome) {
      sandbox.inc({ outcome });
    },
  };
}
