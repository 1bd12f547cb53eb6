import { AsyncLocalStorage } from 'node:async_hooks';

import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

import type { TracingConfig } from '../config/model.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../observability/log.js';
import { GATEWAY_VERSION } from '../version.js';
import {
  outcomeOf,
  requestAttributes,
  sessionAttributes,
  spanName,
  type SpanOutcome,
  upstreamAttributes,
} from './span-attributes.js';
import { traceFieldsOf } from './trace-context.js';
import type { RequestTracer, TraceHeaders } from './tracing.js';

/** Spans are sent in batches this often; a shutdown sends the rest at once. */
const EXPORT_DELAY_MS = 1_000;
const EXPORT_WARNING_INTERVAL_MS = 60_000;

/**
 * The OpenTelemetry implementation of `RequestTracer`: a tracer provider of its own (nothing global is
 * registered, so an embedding application's OpenTelemetry setup is left alone), W3C Trace Context from
 * `params._meta` (or the HTTP headers), and a batching OTLP/HTTP protobuf exporter. The server span of a
 * request is kept in an AsyncLocalStorage, so each upstream call it makes (directly, from Code Mode or the
 * meta tools) becomes its child.
 */
export function createOtelTracer(config: TracingConfig, log: Logger): RequestTracer {
  const exporter = loggingExporter(new OTLPTraceExporter({ url: config.endpoint, headers: config.headers }), log);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: config.serviceName,
      [ATTR_SERVICE_VERSION]: GATEWAY_VERSION,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: EXPORT_DELAY_MS })],
  });
  const tracer = provider.getTracer('mcproxy', GATEWAY_VERSION);
  const propagator = new W3CTraceContextPropagator();
  const current = new AsyncLocalStorage<Context>();
  const extract = (carrier: Record<string, unknown>) => propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);

  return {
    async serve(request, session, headers, run) {
      const fromMeta = traceFieldsOf(request.params);
      const fromHeaders = headerFields(headers);
      // The MCP context (`_meta`) is the parent; the HTTP request's own, when it differs, is linked.
      const parent = extract((fromMeta ?? fromHeaders ?? {}) as Record<string, unknown>);
      const links: Link[] = [];
      if (fromMeta && fromHeaders && fromHeaders.traceparent !== fromMeta.traceparent) {
        const transport = trace.getSpanContext(extract(fromHeaders as Record<string, unknown>));
        if (transport) links.push({ context: transport });
      }
      const attributes = {
        ...requestAttributes(request.method, request.params, request.id),
        ...sessionAttributes(session.id, session.transportKind),
      };
      const span = tracer.startSpan(spanName(attributes), { kind: SpanKind.SERVER, attributes, links }, parent);
      return settle(span, () => current.run(trace.setSpan(parent, span), run));
    },

    async call(upstream, method, params, run) {
      const parent = current.getStore() ?? ROOT_CONTEXT;
      const attributes = { ...requestAttributes(method, params), ...upstreamAttributes(upstream) };
      const span = tracer.startSpan(spanName(attributes), { kind: SpanKind.CLIENT, attributes }, parent);
      const carrier: Record<string, string> = {};
      propagator.inject(trace.setSpan(parent, span), carrier, defaultTextMapSetter);
      const meta = { ...(params?._meta as Record<string, unknown> | undefined), ...carrier };
      return settle(span, () => run({ ...params, _meta: meta }));
    },

    async shutdown() {
      await provider.shutdown().catch((error: unknown) => log.warn(`tracing: shutdown failed: ${errorMessage(error)}`));
    },
  };
}

/** Ends `span` with the outcome of `work`, which it returns (or throws) unchanged. */
async function settle<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    const result = await work();
    end(span, outcomeOf(result));
    return result;
  } catch (error) {
    end(span, outcomeOf(undefined, error));
    throw error;
  }
}

function end(span: Span, outcome: SpanOutcome): void {
  if (outcome.errorType !== undefined) {
    span.setAttribute('error.type', outcome.errorType);
    if (outcome.statusCode !== undefined) span.setAttribute('rpc.response.status_code', outcome.statusCode);
    span.setStatus({
      code: SpanStatusCode.ERROR,
      ...(outcome.message === undefined ? {} : { message: outcome.message }),
    });
  }
  span.end();
}

function headerFields(headers: TraceHeaders | undefined): { traceparent: string; tracestate?: string } | undefined {
  const value = (name: string) => {
    const raw = headers?.[name];
    return Array.isArray(raw) ? raw[0] : raw;
  };
  const traceparent = value('traceparent');
  if (traceparent === undefined) return undefined;
  const tracestate = value('tracestate');
  return traceFieldsOf({ _meta: { traceparent, ...(tracestate === undefined ? {} : { tracestate }) } }) as
    { traceparent: string; tracestate?: string } | undefined;
}

/** A failed export is logged (at most once a minute), instead of vanishing into OpenTelemetry's silent diag log. */
function loggingExporter(inner: SpanExporter, log: Logger): SpanExporter {
  let lastWarning = -Infinity;
  return {
    export(spans, done) {
      inner.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS && Date.now() - lastWarning >= EXPORT_WARNING_INTERVAL_MS) {
          lastWarning = Date.now();
          log.warn(`tracing: exporting ${spans.length} spans failed: ${errorMessage(result.error ?? 'unknown error')}`);
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    ...(inner.forceFlush ? { forceFlush: () => inner.forceFlush!() } : {}),
  };
}
