import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** The message's JSON text, made beforehand by whoever built the message (a symbol: JSON.stringify skips it). */
const TEXT = Symbol('message text');

/**
 * An answer whose result is given as the JSON text the upstream server wrote for it (see upstream/result-text.ts):
 * a transport writes `messageText(answer)` and so never serializes the result again. The object itself is the
 * answer as usual, for any transport that serializes it.
 */
export function answerWithResultText(
  result: Record<string, unknown>,
  resultText: string,
  id: string | number,
): JSONRPCMessage {
  const text = `{"result":${resultText},"jsonrpc":"2.0","id":${typeof id === 'number' ? id : JSON.stringify(id)}}`;
  return { result, jsonrpc: '2.0', id, [TEXT]: text } as JSONRPCMessage;
}

/** The JSON text of a message to send: the text it was made with, or JSON.stringify's. */
export function messageText(message: JSONRPCMessage): string {
  return (message as { [TEXT]?: string })[TEXT] ?? JSON.stringify(message);
}
