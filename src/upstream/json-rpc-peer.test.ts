import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';

import { JsonRpcPeer } from './json-rpc-peer.js';

/** A transport that keeps what the peer sends and lets a test play the server. */
function fakeTransport() {
  const sent: JSONRPCMessage[] = [];
  const transport = {
    sent,
    onmessage: undefined as ((message: JSONRPCMessage) => void) | undefined,
    start: () => Promise.resolve(),
    close: () => Promise.resolve(),
    send: (message: JSONRPCMessage) => {
      sent.push(message);
      return Promise.resolve();
    },
    fromServer(message: object) {
      this.onmessage!({ jsonrpc: '2.0', ...message } as JSONRPCMessage);
    },
  };
  return transport;
}

/** A peer whose server requests are held open; `asked` has each one's signal. */
function heldPeer() {
  const transport = fakeTransport();
  const asked: { request: JSONRPCRequest; signal: AbortSignal }[] = [];
  const peer = new JsonRpcPeer<string>(transport as unknown as Transport, {
    onRequest: (request, signal) => {
      asked.push({ request, signal });
      return new Promise(() => {});
    },
    onNotification: () => {},
  });
  return { transport, peer, asked };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('requests from the server', () => {
  it('refuses a request whose id is already in flight, and keeps the first one cancellable', async () => {
    const { transport, peer, asked } = heldPeer();
    const sampling = { method: 'sampling/createMessage', params: { messages: [], maxTokens: 1 } };
    transport.fromServer({ id: 7, ...sampling });
    transport.fromServer({ id: 7, ...sampling });
    await flush();
    expect(asked).toHaveLength(1);
    expect(transport.sent).toEqual([
      { jsonrpc: '2.0', id: 7, error: { code: -32600, message: expect.stringContaining('already in flight') } },
    ]);
    transport.fromServer({ method: 'notifications/cancelled', params: { requestId: 7 } });
    expect(asked[0]!.signal.aborted).toBe(true);
    peer.close(new Error('closed'));
  });

  it('aborts every request still open when the connection closes', async () => {
    const { transport, peer, asked } = heldPeer();
    transport.fromServer({ id: 'a', method: 'elicitation/create', params: {} });
    transport.fromServer({ id: 'b', method: 'elicitation/create', params: {} });
    await flush();
    peer.close(new Error('closed'));
    expect(asked.map(({ signal }) => signal.aborted)).toEqual([true, true]);
  });
});

describe('calls abandoned before the server read their cancellation', () => {
  it('are counted until the answer of the ping sent after the cancellation', async () => {
    const { transport, peer } = heldPeer();
    const cancel = new AbortController();
    const call = peer.request('tools/call', { name: 'slow' }, { tag: 'alice', signal: cancel.signal });
    cancel.abort('changed my mind');
    await expect(call).rejects.toThrow(/cancelled/);
    expect([...peer.abandonedTags()]).toEqual(['alice']);
    expect(transport.sent.map((message) => (message as { method?: string }).method)).toEqual([
      'tools/call',
      'notifications/cancelled',
      'ping',
    ]);
    const ping = transport.sent[2] as JSONRPCRequest;
    transport.fromServer({ id: ping.id, result: {} });
    await flush();
    expect([...peer.abandonedTags()]).toEqual([]);
    expect(peer.inFlight).toBe(0);
  });

  it('are forgotten when the server answers them after all', async () => {
    const { transport, peer } = heldPeer();
    const cancel = new AbortController();
    const call = peer.request('tools/call', { name: 'slow' }, { tag: 'bob', signal: cancel.signal });
    cancel.abort();
    await expect(call).rejects.toThrow();
    transport.fromServer({ id: (transport.sent[0] as JSONRPCRequest).id, result: {} });
    expect([...peer.abandonedTags()]).toEqual([]);
    peer.close(new Error('closed'));
  });
});
