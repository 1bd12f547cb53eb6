import { describe, expect, it } from 'vitest';

import { NdjsonDecoder, type OversizedLine } from './ndjson.js';

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

  it('says which messages came in a chunk of their own', () => {
    const seen: [unknown, boolean][] = [];
    const decoder = new NdjsonDecoder({
      onMessage: (m, _line, alone) => seen.push([(m as { id: unknown }).id, alone]),
    });
    for (const chunk of [
      '{"jsonrpc":"2.0","id":1,"result":{}}\n',
      '{"jsonrpc":"2.0","id":2,"result":{}}\n{"jsonrpc"',
    ]) {
      decoder.push(Buffer.from(chunk));
    }
    decoder.push(Buffer.from(':"2.0","id":3,"result":{}}\n'));
    expect(seen).toEqual([
      [1, true],
      [2, false],
      [3, false],
    ]);
  });

  it('keeps multi-byte characters split across chunks intact', () => {
    const bytes = Buffer.from('{"jsonrpc":"2.0","method":"é→😀"}\n');
    const decoder = new NdjsonDecoder({ onMessage: (m) => expect((m as { method: string }).method).toBe('é→😀') });
    decoder.push(bytes.subarray(0, 25));
    decoder.push(bytes.subarray(25));
  });

  describe('a line over the limit (issue 11: an oversized result waited for the tool timeout)', () => {
    function decodeSmall(line: string, chunkSize: number) {
      const oversized: OversizedLine[] = [];
      const messages: unknown[] = [];
      const decoder = new NdjsonDecoder({
        maxMessageBytes: 1_000,
        onMessage: (m) => messages.push(m),
        onOversized: (o) => oversized.push(o),
      });
      const bytes = Buffer.from(`${line}\n{"jsonrpc":"2.0","id":9,"result":{}}\n`);
      for (let at = 0; at < bytes.length; at += chunkSize) decoder.push(bytes.subarray(at, at + chunkSize));
      return { oversized, messages };
    }
    const big = JSON.stringify({ content: [{ type: 'text', text: 'x'.repeat(5_000) }] });

    it('reads the id of a response whose id leads, and keeps decoding after it', () => {
      const { oversized, messages } = decodeSmall(`{"jsonrpc":"2.0","id":42,"result":${big}}`, 100);
      expect(oversized).toEqual([{ bytes: expect.any(Number), id: 42, kind: 'response' }]);
      expect(oversized[0]!.bytes).toBeGreaterThan(5_000);
      expect(messages).toEqual([{ jsonrpc: '2.0', id: 9, result: {} }]);
    });

    it('reads the id of a response whose id trails, as the TypeScript SDK writes it', () => {
      for (const chunkSize of [1, 7, 4096, 100_000]) {
        const { oversized } = decodeSmall(`{"result":${big},"jsonrpc":"2.0","id":"req-7"}\r`, chunkSize);
        expect(oversized).toEqual([{ bytes: expect.any(Number), id: 'req-7', kind: 'response' }]);
      }
    });

    it('tells a request of the peer from a response, and guesses nothing from other layouts', () => {
      expect(decodeSmall(`{"method":"x","params":${big},"jsonrpc":"2.0","id":3}`, 512).oversized[0]).toMatchObject({
        id: 3,
        kind: 'request',
      });
      expect(decodeSmall(`{"jsonrpc":"2.0","result":{"id":5,"x":${big}}}`, 512).oversized[0]).toEqual({
        bytes: expect.any(Number),
      });
      expect(decodeSmall(`[${big}]`, 512).oversized[0]).toEqual({ bytes: expect.any(Number) });
    });
  });
});
