/** W3C Trace Context: `version-traceid-parentid-flags`, lower-case hex, all-zero ids invalid. */
const TRACEPARENT = /^[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
const MAX_TRACESTATE_CHARS = 512;

/** The W3C trace context fields a message may carry in `params._meta` (unprefixed, per SEP-414). */
export interface TraceFields {
  traceparent?: string;
  tracestate?: string;
}

/**
 * The trace context of a JSON-RPC message's `params._meta`, when it has a valid `traceparent`.
 *
 * @example traceFieldsOf({ _meta: { traceparent: '00-4bf9…-00f0…-01' } }) // { traceparent: '00-4bf9…-00f0…-01' }
 */
export function traceFieldsOf(params: unknown): TraceFields | undefined {
  const meta = (params as { _meta?: unknown } | undefined)?._meta as Record<string, unknown> | undefined;
  const traceparent = meta?.traceparent;
  if (typeof traceparent !== 'string' || !TRACEPARENT.test(traceparent)) return undefined;
  const tracestate = meta?.tracestate;
  return typeof tracestate === 'string' && tracestate.length <= MAX_TRACESTATE_CHARS
    ? { traceparent, tracestate }
    : { traceparent };
}

/**
 * The HTTP headers that carry a message's trace context to a remote upstream: the same `traceparent` and
 * `tracestate` as its `_meta`, so that HTTP-level tracing (proxies, the server's HTTP instrumentation) joins
 * the same trace.
 */
export function traceHeadersOf(message: unknown): TraceFields {
  const fields = traceFieldsOf((message as { params?: unknown } | undefined)?.params);
  return fields ?? {};
}

/** For the SDK's SSE client: a fetch that adds the trace headers of the message it POSTs. */
export function fetchWithTraceHeaders(base: typeof fetch = fetch): typeof fetch {
  return function tracedFetch(input, init) {
    const body = init?.body;
    if (typeof body !== 'string' || !body.includes('"traceparent"')) return base(input, init);
    let fields: TraceFields = {};
    try {
      fields = traceHeadersOf(JSON.parse(body));
    } catch {
      return base(input, init);
    }
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(fields)) if (value !== undefined) headers.set(name, value);
    return base(input, { ...init, headers });
  };
}
