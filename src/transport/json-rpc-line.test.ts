import { describe, expect, it } from 'vitest';

import { lineDelivered, parseJsonRpcLine, resultTextOfLine } from './json-rpc-line.js';

/** The parse must be JSON.parse's, members in the same order, whatever the layout. */
function expectSameAsJsonParse(line: string): void {
  const parsed = parseJsonRpcLine(line);
  expect(parsed, line).toStrictEqual(JSON.parse(line));
  expect(JSON.stringify(parsed), line).toBe(JSON.stringify(JSON.parse(line)));
}

describe('parseJsonRpcLine', () => {
  it('parses the layouts SDKs write as JSON.parse does', () => {
    const lines = [
      '{"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}},"jsonrpc":"2.0","id":7}',
      '{"method":"notifications/progress","params":{"progressToken":3,"progress":1},"jsonrpc":"2.0"}',
      '{"method":"x","params":null,"jsonrpc":"2.0","id":0}',
      '{"method":"caf\u00e9/\u2603","params":[1,{"a":"\\u0000"}],"jsonrpc":"2.0","id":123456789012345}',
      '{"result":{"content":[{"type":"text","text":"Echo: \\"hi\\""}]},"jsonrpc":"2.0","id":12}',
      '{"result":null,"jsonrpc":"2.0","id":1}',
      '{"result": {"a" : 1} ,"jsonrpc":"2.0","id":1}',
      '{"jsonrpc":"2.0","id":5,"result":{"a":[1,2,{"b":null}]}}',
      '{"jsonrpc":"2.0","id":5,"result":"text"}',
    ];
    for (const line of lines) expectSameAsJsonParse(line);
  });

  it('gives JSON.parse the lines whose ends are not exactly those layouts', () => {
    const lines = [
      // Another member, a repeated one, an escape in the method, ids it does not read itself.
      '{"method":"m","params":{},"x":1,"jsonrpc":"2.0","id":7}',
      '{"method":"m","params":{},"jsonrpc":"2.0","id":5,"jsonrpc":"2.0","id":7}',
      '{"method":"m","params":{},"id":5,"jsonrpc":"2.0","id":7}',
      '{"result":{"a":1},"result":{"b":2},"jsonrpc":"2.0","id":7}',
      '{"result":{"a":1},"id":5,"jsonrpc":"2.0","id":7}',
      '{"jsonrpc":"2.0","id":7,"result":{"a":1},"id":8}',
      '{"method":"a\\"b","params":{},"jsonrpc":"2.0","id":7}',
      '{"method":"m","params":{},"jsonrpc":"2.0","id":-1}',
      '{"method":"m","params":{},"jsonrpc":"2.0","id":07}',
      '{"method":"m","params":{},"jsonrpc":"2.0","id":1.5}',
      '{"method":"m","params":{},"jsonrpc":"2.0","id":1234567890123456789}',
      '{"method":"m","params":{},"jsonrpc":"2.0","id":"abc"}',
      '{"jsonrpc":"2.0","id":0012,"result":{}}',
      '{"method":"m","jsonrpc":"2.0","id":1}',
      '{"method":"m","params":{},"jsonrpc":"2.0","id":1 }',
      '{"result":{},"jsonrpc":"2.0","id":1}',
    ];
    for (const line of lines) {
      let expected: unknown;
      try {
        expected = JSON.parse(line);
      } catch {
        expect(() => parseJsonRpcLine(line), line).toThrow(SyntaxError);
        continue;
      }
      expect(parseJsonRpcLine(line), line).toStrictEqual(expected);
    }
  });

  it('throws for a line that is not JSON, as JSON.parse does', () => {
    const lines = [
      '{"method":"m","params":{,"jsonrpc":"2.0","id":7}',
      '{"method":"m\u0001","params":{},"jsonrpc":"2.0","id":7}',
      '{"method":"m","params":,"jsonrpc":"2.0","id":7}',
      '{"result":{"a":1}}},"jsonrpc":"2.0","id":7}',
      '{"jsonrpc":"2.0","id":7,"result":}',
    ];
    for (const line of lines) expect(() => parseJsonRpcLine(line), line).toThrow(SyntaxError);
  });

  it('keeps the text of the result being delivered when it is one object with no carriage return', () => {
    const result = '{"content":[{"type":"text","text":"caf\\u00e9"}]}';
    for (const line of [`{"result":${result},"jsonrpc":"2.0","id":4}`, `{"jsonrpc":"2.0","id":4,"result":${result}}`]) {
      parseJsonRpcLine(line);
      expect(resultTextOfLine(line, 4)).toBe(result);
      expect(resultTextOfLine(line, 5)).toBeUndefined();
      lineDelivered();
      expect(resultTextOfLine(line, 4)).toBeUndefined();
    }
    for (const line of [
      '{"result":{"a":\r1},"jsonrpc":"2.0","id":4}',
      '{"result": {"a":1},"jsonrpc":"2.0","id":4}',
      '{"result":[1],"jsonrpc":"2.0","id":4}',
      '{"result":null,"jsonrpc":"2.0","id":4}',
      '{"result":{"a":1},"x":{},"jsonrpc":"2.0","id":4}',
    ]) {
      parseJsonRpcLine(line);
      expect(resultTextOfLine(line, 4), line).toBeUndefined();
      lineDelivered();
    }
  });
});
