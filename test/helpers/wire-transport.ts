import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export interface WireLog {
  /** Every message the transport delivered, in order, recorded before the SDK's Protocol handles it. */
  readonly received: JSONRPCMessage[];
  /** Every message sent through the transport, in order. */
  readonly sent: JSONRPCMessage[];
  /** How many received messages (requests or notifications) have this method, optionally filtered. */
  count(method: string, filter?: (message: JSONRPCMessage & { method: string }) => boolean): number;
}

export type RecordedTransport<T extends Transport> = T & WireLog;

function hasMethod(message: JSONRPCMessage): message is JSONRPCMessage & { method: string } {
  return 'method' in message && typeof message.method === 'string';
}

/**
 * Records what crosses the wire on any SDK client `Transport`, returning the same object.
 *
 * SDK clients drop a `notifications/progress` that arrives in the same chunk as the final result
 * (typescript-sdk#2580), so counts taken from `onprogress` are wrong; count from the wire instead.
 * `onmessage` is turned into an accessor: whatever handler the Protocol installs at `connect()` is wrapped
 * so the message is recorded first. The transport keeps its identity (sessionId, pid, stderr, ...).
 * @example
 *   const transport = recordWire(new StdioClientTransport({ command: 'node', args: [fixturePath('ok')] }));
 *   await client.connect(transport);
 *   await client.callTool({ name: 'progress', arguments: { count: 20 } }, undefined, { onprogress: () => {} });
 *   expect(transport.count('notifications/progress')).toBe(20);
 */
export function recordWire<T extends Transport>(transport: T): RecordedTransport<T> {
  const received: JSONRPCMessage[] = [];
  const sent: JSONRPCMessage[] = [];
  let downstream: Transport['onmessage'];
  let delivering = false;
  // The SDK's Protocol.connect() reads the current onmessage and calls it from its own handler, which
  // would call back into this recorder: a re-entrant call is that chaining, so it does nothing.
  const recordingHandler: NonNullable<Transport['onmessage']> = (message, extra) => {
    if (delivering) return;
    delivering = true;
    try {
      received.push(message);
      downstream?.(message, extra);
    } finally {
      delivering = false;
    }
  };
  Object.defineProperty(transport, 'onmessage', {
    configurable: true,
    enumerable: true,
    get: () => recordingHandler,
    set: (handler: Transport['onmessage']) => {
      downstream = handler;
    },
  });
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    sent.push(message);
    return send(message, options);
  };
  const log: WireLog = {
    received,
    sent,
    count: (method, filter) =>
      received.filter((m) => hasMethod(m) && m.method === method && (filter?.(m) ?? true)).length,
  };
  return Object.assign(transport, log);
}
