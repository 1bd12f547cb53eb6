import type { IncomingHttpHeaders } from 'node:http';

import type { TracingConfig } from '../config/model.js';
import type { Logger } from '../observability/log.js';

/** What a server span reads of the client request it covers. */
export interface TracedRequest {
  method: string;
  id?: string | number;
  params?: Record<string, unknown>;
}

/** What a server span reads of the client session that sent the request. */
export interface TracedSession {
  readonly id: string;
  readonly transportKind: string;
}

/** What a client span reads of the upstream instance the call goes to. */
export interface TracedUpstream {
  readonly name: string;
  readonly config: { readonly transport: string; readonly url?: string };
  readonly protocolVersion?: string;
}

/**
 * The two places a request is traced: each client request (a SERVER span) and each upstream call it makes (a
 * CLIENT span, its child). The OpenTelemetry SDK behind it is loaded only when tracing is on.
 */
export interface RequestTracer {
  /** Runs `run` inside the SERVER span of one client request; its parent is the request's `traceparent`. */
  serve<T>(
    request: TracedRequest,
    session: TracedSession,
    headers: TraceHeaders | undefined,
    run: () => Promise<T>,
  ): Promise<T>;
  /**
   * Runs one upstream call inside its CLIENT span; `run` gets the params with the span's `traceparent` (and the
   * client's `tracestate`) in `_meta`, which the HTTP transports also send as headers.
   */
  call<T>(
    upstream: TracedUpstream,
    method: string,
    params: Record<string, unknown> | undefined,
    run: (params: Record<string, unknown> | undefined) => Promise<T>,
  ): Promise<T>;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

export type TraceHeaders = IncomingHttpHeaders | Record<string, string | string[] | undefined>;

let active: RequestTracer | undefined;

/** The tracer in force, or undefined when tracing is off (the hot paths then do nothing more). */
export function requestTracer(): RequestTracer | undefined {
  return active;
}

/**
 * Turns tracing on for this process: loads the OpenTelemetry SDK and exports spans over OTLP/HTTP to
 * `config.endpoint`. Process-wide, like OpenTelemetry's own global provider; `stopTracing()` ends it.
 *
 * @example if (config.tracing) await startTracing(config.tracing, log);
 */
export async function startTracing(config: TracingConfig, log: Logger): Promise<RequestTracer> {
  const { createOtelTracer } = await import('./otel-tracer.js');
  await active?.shutdown();
  active = createOtelTracer(config, log);
  log.info(`Tracing: exporting spans to ${config.endpoint} (sampling ${config.sampleRatio * 100}% of new traces)`);
  return active;
}

/** Exports the spans still buffered and turns tracing off. */
export async function stopTracing(): Promise<void> {
  const tracer = active;
  active = undefined;
  await tracer?.shutdown();
}
