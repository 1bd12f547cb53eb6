import { describe, expect, it } from 'vitest';

import { answerWithResultText, messageText } from '../relay/message-text.js';
import { resultTextOf } from './result-text.js';

/** The answer a relay writes for `line` (a response to its request `upstreamId`), under the client's `clientId`. */
function relayed(line: string, upstreamId: number, clientId: string | number): string {
  const message = JSON.parse(line) as { result: Record<string, unknown> };
  const text = resultTextOf(line, message, upstreamId);
  if (text === undefined) return JSON.stringify({ result: message.result, jsonrpc: '2.0', id: clientId });
  return messageText(answerWithResultText(message.result, text, clientId));
}

describe('resultTextOf', () => {
  const result = { content: [{ type: 'text', text: 'Echo: "hi", \\ \u00e9' }], isError: false };

  it('cuts the result from the TypeScript and the Python SDK layouts', () => {
    const trailing = `{"result":${JSON.stringify(result)},"jsonrpc":"2.0","id":7}`;
    const leading = `{"jsonrpc":"2.0","id":7,"result":${JSON.stringify(result)}}`;
    for (const line of [trailing, leading]) {
      expect(resultTextOf(line, JSON.parse(line) as object, 7)).toBe(JSON.stringify(result));
      expect(JSON.parse(relayed(line, 7, 'c-1'))).toEqual({ result, jsonrpc: '2.0', id: 'c-1' });
    }
  });

  it('keeps the escapes the server wrote', () => {
    const line = '{"result":{"text":"caf\\u00e9"},"jsonrpc":"2.0","id":3}';
    expect(relayed(line, 3, 9)).toBe('{"result":{"text":"caf\\u00e9"},"jsonrpc":"2.0","id":9}');
  });

  it('yields nothing for any other layout, id or member', () => {
    const other = [
      '{"result":{},"jsonrpc":"2.0","id":70}',
      '{"result": {}, "jsonrpc": "2.0", "id": 7}',
      '{"id":7,"jsonrpc":"2.0","result":{}}',
      '{"result":{},"jsonrpc":"2.0","id":7,"extra":1}',
      '{"result":{},"jsonrpc":"2.0","__proto__":{},"id":7}',
    ];
    for (const line of other) expect(resultTextOf(line, JSON.parse(line) as object, 7)).toBeUndefined();
  });

  it('yields nothing for a line that repeats a member, or a result holding a carriage return', () => {
    // Passed on raw, a repeat would reach the client: a parser keeping the first key (or refusing repeats) would
    // read another id or result than the gateway did. A carriage return would end a client's line.
    const lines = [
      '{"result":{"a":1},"id":5,"jsonrpc":"2.0","id":7}',
      '{"result":{"a":1},"result":{"b":2},"jsonrpc":"2.0","id":7}',
      '{"jsonrpc":"2.0","id":7,"result":{"a":1},"id":7}',
      '{"jsonrpc":"2.0","id":7,"result":{"a":1},"jsonrpc":"2.0"}',
      '{"result":{"content":[],\r"isError":false},"jsonrpc":"2.0","id":7}',
      // A repeat written with an escape, and a result followed by whitespace.
      '{"result":{"a":1},"\\u0072esult":{"b":2},"jsonrpc":"2.0","id":7}',
      '{"result":{"a":1},"i\\u0064":5,"jsonrpc":"2.0","id":7}',
      '{"jsonrpc":"2.0","id":7,"result":{"a":1},"\\u0069d":7}',
      '{"result":{"a":1} ,"jsonrpc":"2.0","id":7}',
      '{"jsonrpc":"2.0","id":7,"result":{"a":1}\t}',
      '{"result":null,"jsonrpc":"2.0","id":7}',
      '{"result":[1],"jsonrpc":"2.0","id":7}',
    ];
    for (const line of lines) expect(resultTextOf(line, JSON.parse(line) as object, 7), line).toBeUndefined();
  });

  it('keeps a result whose own members are called result, jsonrpc or id', () => {
    const text =
      '{"structuredContent":{"id":3,"result":"x","jsonrpc":"1"},"content":[{"type":"text","text":"\\"id\\""}]}';
    for (const line of [`{"result":${text},"jsonrpc":"2.0","id":7}`, `{"jsonrpc":"2.0","id":7,"result":${text}}`]) {
      expect(resultTextOf(line, JSON.parse(line) as object, 7)).toBe(text);
    }
  });

  it('reads strings with braces, quotes and escapes inside the result', () => {
    const text = String.raw`{"t":"} \\\" {","u":[{"v":"]"}]}`;
    const line = `{"result":${text},"jsonrpc":"2.0","id":7}`;
    expect(resultTextOf(line, JSON.parse(line) as object, 7)).toBe(text);
  });

  it('relays what JSON.parse read from a line that repeats a member, under the client id', () => {
    const lines = [
      '{"result":{"a":1},"id":5,"jsonrpc":"2.0","id":7}',
      '{"result":{"a":1},"result":{"b":2},"jsonrpc":"2.0","id":7}',
      '{"jsonrpc":"2.0","id":7,"result":{"a":1},"id":7}',
      '{"jsonrpc":"2.0","id":7,"result":{"a":1},"result":{"b":2}}',
      '{"jsonrpc":"2.0","id":7,"result":{"a":1},"jsonrpc":"2.0"}',
    ];
    for (const line of lines) {
      const parsed = JSON.parse(line) as { result: unknown };
      expect(JSON.parse(relayed(line, 7, 'mine'))).toEqual({ result: parsed.result, jsonrpc: '2.0', id: 'mine' });
    }
  });
});

describe('messageText', () => {
  it('is JSON.stringify for a message made without its text', () => {
    const message = { jsonrpc: '2.0' as const, id: 1, result: { x: [1, 'two'] } };
    expect(messageText(message)).toBe(JSON.stringify(message));
  });

  it('is the text an answer was made with, and that answer serializes to the same JSON', () => {
    const answer = answerWithResultText({ x: 1 }, '{"x":1}', 'id-1');
    expect(messageText(answer)).toBe('{"result":{"x":1},"jsonrpc":"2.0","id":"id-1"}');
    expect(JSON.parse(JSON.stringify(answer))).toEqual(JSON.parse(messageText(answer)));
  });
});
