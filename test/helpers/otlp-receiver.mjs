#!/usr/bin/env node
// A real OTLP/HTTP traces receiver, run as its own process: POST /v1/traces takes an ExportTraceServiceRequest
// (protobuf, or JSON), decoded with the OpenTelemetry project's own generated protobuf schema (from
// @opentelemetry/otlp-transformer 0.212, the last release that ships it; installed as `otlp-protobuf-decoder`).
// GET /spans answers with every span received so far, flattened. Prints "listening on <url>" once ready.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = require('otlp-protobuf-decoder/build/src/generated/root.js');
const { ExportTraceServiceRequest, ExportTraceServiceResponse } = root.opentelemetry.proto.collector.trace.v1;

const spans = [];
const hex = (bytes) => Buffer.from(bytes ?? []).toString('hex');

function valueOf(any) {
  if (any == null) return undefined;
  if (any.stringValue != null) return any.stringValue;
  if (any.boolValue != null) return any.boolValue;
  if (any.intValue != null) return Number(any.intValue);
  if (any.doubleValue != null) return any.doubleValue;
  if (any.arrayValue != null) return any.arrayValue.values.map(valueOf);
  return undefined;
}

const attributesOf = (list) => Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));

function collect(request) {
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        spans.push({
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: hex(span.parentSpanId),
          traceState: span.traceState ?? '',
          name: span.name,
          kind: span.kind,
          attributes: attributesOf(span.attributes),
          status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
          links: (span.links ?? []).map((link) => ({ traceId: hex(link.traceId), spanId: hex(link.spanId) })),
          resource,
          scope: scopeSpans.scope?.name,
        });
      }
    }
  }
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/spans') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(spans));
    return;
  }
  if (req.method !== 'POST' || req.url !== '/v1/traces') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    try {
      const json = (req.headers['content-type'] ?? '').includes('json');
      const request = json
        ? ExportTraceServiceRequest.fromObject(JSON.parse(body.toString()))
        : ExportTraceServiceRequest.decode(body);
      collect(request);
      const answer = ExportTraceServiceResponse.encode(ExportTraceServiceResponse.create({})).finish();
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(answer));
    } catch (error) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
