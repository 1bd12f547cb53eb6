import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, JSONRPCRequest, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';

interface ProtocolInternals {
  _onrequest?: (request: JSONRPCRequest, extra?: MessageExtraInfo) => void;
}

/**
 * Hands a client's requests to the SDK server without its message classifier. The SDK tells a message's kind by
 * schema-parsing it as a result, then as an error, then as a request: two failing zod parses and one passing one
 * for every call, a large part of what relaying a call costs. Every transport of a client session has screened
 * the message to the SDK's own schema already (relay/bounds.ts, or the SDK transport's parse), so a request is
 * known by its shape; responses and notifications still go through the SDK's classifier, as do all messages
 * under an SDK version without the method this relies on.
 */
export function dispatchRequestsDirectly(server: Server, transport: Transport): void {
  const onrequest = (server as unknown as ProtocolInternals)._onrequest;
  const classify = transport.onmessage;
  if (typeof onrequest !== 'function' || !classify) return;
  transport.onmessage = (message: JSONRPCMessage, extra?: MessageExtraInfo) => {
    if (isRequestShape(message)) onrequest.call(server, message, extra);
    else classify(message, extra);
  };
}

function isRequestShape(message: JSONRPCMessage): message is JSONRPCRequest {
  const { id, method } = message as Partial<JSONRPCRequest>;
  return typeof method === 'string' && (typeof id === 'string' || Number.isSafeInteger(id));
}
