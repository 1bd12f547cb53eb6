import { describe, expect, it } from 'vitest';

import { NdjsonDecoder } from './ndjson.js';

function decode(chunks: string[]) {
  const messages: unknown[] = [];
  const garbage: string[] = [];
  const decoder = new NdjsonDecoder({ onMessage: (m) => messages.push(m), onGarbage: (line) => garbage.push(line) });
  for (const chunk of chunks) decoder.push(Buffer.from(chunk));
  return { messages, garbage };
}

describe('NdjsonDecoder', () => {
  it('splits messages across and within chunks', () => {
    const { messages } = decode(['{"jsonrpc":"2.0","id":1,"res', 'ult":{}}\n{"jsonrpc":"2.0","method":"x"}\r\n']);
    expect(messages).toEqual([
      { jsonrpc: '2.0', id: 1, result: {} },
      { jsonrpc: '2.0', method: 'x' },
    ]);
  });

  it('reports lines that are not JSON-RPC 2.0 and keeps going', () => {
    const { messages, garbage } = decode([
      'starting up...\n{"partial":\n[1,2]\n{"jsonrpc":"1.0"}\n\n{"jsonrpc":"2.0","id":2,"result":1}\n',
    ]);
    expect(garbage).toEqual(['starting up...', '{"partial":', '[1,2]', '{"jsonrpc":"1.0"}']);
    expect(messages).toHaveLength(1);
  });

  it('keeps multi-byte characters split across chunks intact', () => {
    const bytes = Buffer.from('{"jsonrpc":"2.0","method":"é→😀"}\n');
    const decoder = new NdjsonDecoder({ onMessage: (m) => expect((m as { method: string }).method).toBe('é→😀') });
    decoder.push(bytes.subarray(0, 25));
    decoder.push(bytes.subarray(25));
  });
});
