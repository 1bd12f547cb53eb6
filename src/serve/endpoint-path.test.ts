import { describe, expect, it } from 'vitest';

import { parseEndpointPath } from './endpoint-path.js';

describe('parseEndpointPath', () => {
  it('finds the gateway, namespace and server endpoints', () => {
    expect(parseEndpointPath('/mcp')).toMatchObject({ transport: 'mcp', endpoint: { kind: 'gateway' }, path: '/mcp' });
    expect(parseEndpointPath('/message?sessionId=1')).toMatchObject({ transport: 'message', messagePath: '/message' });
    expect(parseEndpointPath('/ns/public/sse')).toMatchObject({
      transport: 'sse',
      endpoint: { kind: 'namespace', name: 'public' },
      path: '/ns/public/sse',
      messagePath: '/ns/public/message',
    });
    expect(parseEndpointPath('/mcp/everything')).toMatchObject({ endpoint: { kind: 'server', name: 'everything' } });
    expect(parseEndpointPath('/health')).toEqual({ kind: 'other', pathname: '/health' });
  });

  it('refuses dot segments and encoded slashes, and finds no odd names', () => {
    for (const path of [
      '/ns/../mcp',
      '/ns/public/../../mcp',
      '/ns/..%2fsystem/mcp',
      '/mcp/a%2Fb',
      '/ns/%2e%2e/mcp',
      '/ns\\x/mcp',
    ]) {
      expect(parseEndpointPath(path), path).toMatchObject({ kind: 'invalid', status: 400 });
    }
    for (const path of [
      '/ns/pübl/mcp',
      '/ns/p%C3%BCbl/mcp',
      '/ns//mcp',
      '/ns/public/other',
      '/ns/public/mcp/x',
      '/mcp/ev il',
    ]) {
      expect(parseEndpointPath(path), path).toMatchObject({ kind: 'invalid', status: 404 });
    }
  });
});
