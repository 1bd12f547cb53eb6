import { describe, expect, it } from 'vitest';

import { outcomeOf, requestAttributes, sessionAttributes, spanName, upstreamAttributes } from './span-attributes.js';
import { fetchWithTraceHeaders, traceFieldsOf, traceHeadersOf } from './trace-context.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('MCP span attributes', () => {
  it('names spans "{method} {target}" and sets the tool, prompt and resource attributes', () => {
    const call = requestAttributes('tools/call', { name: 'github__create_issue', arguments: {} }, 7);
    expect(call).toEqual({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'github__create_issue',
      'gen_ai.operation.name': 'execute_tool',
      'jsonrpc.request.id': '7',
    });
    expect(spanName(call)).toBe('tools/call github__create_issue');
    expect(spanName(requestAttributes('prompts/get', { name: 'review' }))).toBe('prompts/get review');
    const read = requestAttributes('resources/read', { uri: 'file:///etc/hosts' });
    expect(read['mcp.resource.uri']).toBe('file:///etc/hosts');
    expect(spanName(read)).toBe('resources/read');
  });

  it('never records a session id, only a digest of it', () => {
    const id = '0b7c9a52-5f0e-4c55-9a8f-2f1e6a7b8c9d';
    const attributes = sessionAttributes(id, 'streamable-http');
    expect(attributes['mcp.session.id']).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(attributes)).not.toContain(id);
    expect(sessionAttributes(id, 'stdio')).toMatchObject({ 'network.transport': 'pipe' });
  });

  it('describes remote upstreams by address and port', () => {
    const remote = upstreamAttributes({
      name: 'docs',
      config: { transport: 'http', url: 'https://mcp.example.com/mcp' },
    });
    expect(remote).toMatchObject({
      'server.address': 'mcp.example.com',
      'server.port': 443,
      'network.transport': 'tcp',
    });
  });

  it('classifies outcomes: JSON-RPC codes, tool errors, success', () => {
    expect(outcomeOf(undefined, Object.assign(new Error('nope'), { code: -32602 }))).toEqual({
      errorType: '-32602',
      message: 'nope',
      statusCode: '-32602',
    });
    expect(outcomeOf({ isError: true, content: [] })).toEqual({ errorType: 'tool_error' });
    expect(outcomeOf({ content: [] })).toEqual({});
  });
});

describe('trace context in _meta', () => {
  it('takes a valid traceparent and tracestate, and refuses malformed ones', () => {
    expect(traceFieldsOf({ _meta: { traceparent: TRACEPARENT, tracestate: 'a=1' } })).toEqual({
      traceparent: TRACEPARENT,
      tracestate: 'a=1',
    });
    expect(traceFieldsOf({ _meta: { traceparent: 'garbage' } })).toBeUndefined();
    expect(traceFieldsOf({ _meta: { traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` } })).toBeUndefined();
    expect(traceFieldsOf({ _meta: { traceparent: TRACEPARENT, tracestate: 'x'.repeat(600) } })).toEqual({
      traceparent: TRACEPARENT,
    });
    expect(traceFieldsOf(undefined)).toBeUndefined();
  });

  it('gives the HTTP headers of a message', () => {
    expect(traceHeadersOf({ jsonrpc: '2.0', method: 'x', params: { _meta: { traceparent: TRACEPARENT } } })).toEqual({
      traceparent: TRACEPARENT,
    });
    expect(traceHeadersOf({ jsonrpc: '2.0', method: 'x' })).toEqual({});
  });
});

describe('trace headers of the SSE client', () => {
  it("adds the POSTed message's trace context as headers, and leaves other requests alone", async () => {
    const sent: Headers[] = [];
    const base = (async (_input: unknown, init?: RequestInit) => {
      sent.push(new Headers(init?.headers));
      return new Response('{}');
    }) as typeof fetch;
    const traced = fetchWithTraceHeaders(base);
    const message = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { _meta: { traceparent: TRACEPARENT } } };
    await traced('http://127.0.0.1/message', { method: 'POST', headers: { a: '1' }, body: JSON.stringify(message) });
    await traced('http://127.0.0.1/message', { method: 'POST', body: '{"jsonrpc":"2.0","method":"ping","id":2}' });
    await traced('http://127.0.0.1/message', { method: 'POST', body: '{"traceparent": broken' });
    expect(sent[0]?.get('traceparent')).toBe(TRACEPARENT);
    expect(sent[0]?.get('a')).toBe('1');
    expect(sent[1]?.get('traceparent')).toBeNull();
    expect(sent[2]?.get('traceparent')).toBeNull();
  });
});
