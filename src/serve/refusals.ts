import type { ServerResponse } from 'node:http';

import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

import { refusalResponse, type ScreenedBody } from '../relay/bounds.js';
import { sendJson } from './http-body.js';

/** A JSON-RPC request (it has a method and an id), as opposed to a notification or a response. */
export function isRequestMessage(message: JSONRPCMessage): message is JSONRPCMessage & { id: RequestId } {
  return 'method' in message && 'id' in message;
}

/** Whether some message of the body, or the body itself, was refused by the bounds. */
export function hasRefusal(screened: ScreenedBody): boolean {
  if (screened.refusal !== undefined) return true;
  for (const entry of screened.messages) if (!entry.ok) return true;
  return false;
}

/** Whether a refusal says the message is no valid JSON-RPC at all (rather than a request with bad params). */
export function hasEnvelopeRefusal(screened: ScreenedBody): boolean {
  if (screened.refusal !== undefined) return true;
  for (const entry of screened.messages) if (!entry.ok && entry.refusal.kind === 'envelope') return true;
  return false;
}

/**
 * Answers a POST to a session that holds a refused message; none of its messages run. The status is 400 when a
 * message is not valid JSON-RPC, else 200: a request with bad params gets an ordinary JSON-RPC error answer.
 * Every request is answered: the refused ones with why, the others with the fact that they did not run.
 */
export function sendRefusals(res: ServerResponse, screened: ScreenedBody): void {
  const status = hasEnvelopeRefusal(screened) ? 400 : 200;
  if (screened.refusal !== undefined) return sendJson(res, status, refusalResponse(screened.refusal));
  const answers = screened.messages.flatMap((entry) => {
    if (!entry.ok) return [refusalResponse(entry.refusal)];
    if (!isRequestMessage(entry.message)) return [];
    return [
      refusalResponse({
        id: entry.message.id,
        kind: 'envelope',
        code: -32600,
        message: 'Invalid Request: not run, since another message of this batch was refused',
      }),
    ];
  });
  sendJson(res, status, screened.batch ? answers : answers[0]);
}
