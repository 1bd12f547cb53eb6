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
      '{"method":"a\\\\b","params":{},"jsonrpc":"2.0","id":7}',
      '{"method":"a\\u0041b","params":{},"jsonrpc":"2.0","id":7}',
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

  it('agrees with JSON.parse on 20,000 lines cut and spliced from the layouts (a careless or hostile server)', () => {
    const layouts = [
      '{"method":"tools/call","params":{"name":"echo","arguments":{"s":"x\\"y"}},"jsonrpc":"2.0","id":77}',
      '{"result":{"content":[{"type":"text","text":"a,\\"jsonrpc\\":\\"2.0\\",\\"id\\":5}"}]},"jsonrpc":"2.0","id":9}',
      '{"jsonrpc":"2.0","id":3,"result":{"k":[1,{"z":null}]}}',
      '{"method":"notifications/progress","params":{"progress":1},"jsonrpc":"2.0"}',
    ];
    const pieces = ['"', '\\"', ',', ':', '{', '}', '[1]', ' ', '\r', '-1', '01', '1e3', 'null', '"id":2'];
    pieces.push(',"jsonrpc":"2.0","id":', ',"params":', '{"result":', '{"method":"', '__proto__', ',"x":1');
    pieces.push('\\\\', '\\u0041', '"jsonrpc":"2.0",');
    // A fixed sequence (a linear congruential generator), so that a failure is the same on every run.
    let seed = 1;
    const next = (below: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % below;
    };
    for (let i = 0; i < 20_000; i++) {
      let line = layouts[next(layouts.length)]!;
      for (let edits = next(4); edits > 0; edits--) {
        const at = next(line.length + 1);
        line = line.slice(0, at) + pieces[next(pieces.length)]! + line.slice(at + next(3));
      }
      let json = true;
      try {
        JSON.parse(line);
      } catch {
        json = false;
      }
      if (json) expectSameAsJsonParse(line);
      else expect(() => parseJsonRpcLine(line), line).toThrow();
      lineDelivered();
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
