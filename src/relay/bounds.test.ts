import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';

import {
  jsonNestsDeeperThan,
  MAX_BATCH_MESSAGES,
  MAX_CURSOR_LENGTH,
  MAX_ID_LENGTH,
  MAX_METHOD_LENGTH,
  MAX_URI_LENGTH,
  refusalResponse,
  screenBody,
  screenMessage,
} from './bounds.js';

const request = (extra: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id: 7, method: 'tools/list', ...extra });

function refusalOf(value: unknown) {
  const screened = screenMessage(value);
  if (screened.ok) throw new Error(`accepted: ${JSON.stringify(value).slice(0, 100)}`);
  return screened.refusal;
}

describe('screenMessage', () => {
  it('accepts every kind of valid message unchanged', () => {
    for (const message of [
      request(),
      request({ id: 'abc', params: { cursor: 'c', _meta: { progressToken: 3 } } }),
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 0, result: {} },
      { jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'no' } },
      request({ method: 'tools/call', params: { name: 'a'.repeat(128), arguments: { big: 'x'.repeat(100_000) } } }),
    ]) {
      expect(screenMessage(message)).toEqual({ ok: true, message });
    }
  });

  it('refuses the messages the SDK would drop without an answer, with the id when it is readable', () => {
    expect(refusalOf(request({ id: 1.5 }))).toMatchObject({ id: null, code: -32600, kind: 'envelope' });
    expect(refusalOf(request({ id: 2 ** 60 }))).toMatchObject({ id: null, code: -32600 });
    expect(refusalOf(request({ id: 'x'.repeat(MAX_ID_LENGTH + 1) }))).toMatchObject({ id: null });
    expect(refusalOf(request({ extra: true }))).toMatchObject({
      id: 7,
      code: -32600,
      message: /unexpected member "extra"/,
    });
    expect(refusalOf(request({ jsonrpc: '1.0' }))).toMatchObject({ id: 7, message: /"jsonrpc" must be "2.0"/ });
    expect(refusalOf({ jsonrpc: '2.0', id: 1 })).toMatchObject({
      id: 1,
      message: /needs "method", "result" or "error"/,
    });
    expect(refusalOf({ jsonrpc: '2.0', id: 1, result: {}, error: {} })).toMatchObject({ id: 1, code: -32600 });
    expect(refusalOf({ jsonrpc: '2.0', id: 1, result: 5 })).toMatchObject({ id: 1, code: -32600 });
    expect(refusalOf(request({ params: { _meta: { progressToken: 1.5 } } }))).toMatchObject({ id: 7, code: -32600 });
    for (const junk of [null, 3, 'text', [request()]])
      expect(refusalOf(junk)).toMatchObject({ id: null, code: -32600 });
  });

  it('refuses params that are not an object as invalid params of that request', () => {
    for (const params of [[1, 2], 'text', null, 5]) {
      expect(refusalOf(request({ params }))).toMatchObject({ id: 7, code: -32602, kind: 'params' });
    }
    expect(refusalOf({ jsonrpc: '2.0', method: 'notifications/x', params: [] })).toMatchObject({ kind: 'envelope' });
  });

  it('bounds methods, names, URIs, cursors and progress tokens before any lookup', () => {
    const huge = 'x'.repeat(3_500_000);
    expect(refusalOf(request({ method: 'm'.repeat(MAX_METHOD_LENGTH + 1) }))).toMatchObject({ id: 7, code: -32600 });
    expect(refusalOf(request({ method: 'tools/call', params: { name: 'a'.repeat(129) } }))).toMatchObject({
      id: 7,
      code: -32602,
      message: /"name" is longer than 128 characters/,
    });
    expect(refusalOf(request({ method: 'prompts/get', params: { name: huge } }))).toMatchObject({ code: -32602 });
    for (const method of ['resources/read', 'resources/subscribe', 'resources/unsubscribe']) {
      expect(refusalOf(request({ method, params: { uri: 'u'.repeat(MAX_URI_LENGTH + 1) } }))).toMatchObject({
        message: /"uri" is longer/,
      });
    }
    expect(refusalOf(request({ params: { cursor: 'c'.repeat(MAX_CURSOR_LENGTH + 1) } }))).toMatchObject({
      message: /"cursor" is longer/,
    });
    const complete = (ref: object) => request({ method: 'completion/complete', params: { ref, argument: {} } });
    expect(refusalOf(complete({ type: 'ref/prompt', name: huge }))).toMatchObject({ message: /"name"/ });
    expect(refusalOf(complete({ type: 'ref/resource', uri: huge }))).toMatchObject({ message: /"uri"/ });
    expect(refusalOf(request({ params: { _meta: { progressToken: huge } } }))).toMatchObject({
      message: /progressToken/,
    });
  });

  it('gives a request the verdict of the SDK schema, also where it skips the schema parse', () => {
    const task = 'io.modelcontextprotocol/related-task';
    const metas: unknown[] = [
      undefined,
      {},
      { progressToken: 'p' },
      { progressToken: 12 },
      { progressToken: 1.5 },
      { progressToken: null },
      { progressToken: true },
      { progressToken: 2 ** 60 },
      { [task]: { taskId: 't' } },
      { [task]: { taskId: 3 } },
      { [task]: null },
      { [task]: 'x' },
      { other: { any: 'thing' }, progressToken: 'p' },
      null,
      [],
      'meta',
    ];
    for (const meta of metas) {
      for (const params of [undefined, { name: 'a__b', arguments: { x: 1 } }, {}]) {
        const value = request({ method: 'tools/call', params: params && { ...params, _meta: meta } });
        if (params === undefined && meta !== undefined) continue;
        const sdk = JSONRPCMessageSchema.safeParse(value).success;
        expect({ value, ok: screenMessage(value).ok }).toEqual({ value, ok: sdk });
      }
    }
  });

  it('never echoes an attacker-sized member name', () => {
    const { message } = refusalOf({ ...request(), ['k'.repeat(1_000_000)]: 1 });
    expect(message.length).toBeLessThan(200);
  });
});

describe('screenBody', () => {
  it('screens each message of a batch and refuses an id used twice', () => {
    const { batch, messages } = screenBody([request({ id: 1 }), request({ id: 1 }), request({ id: 2, x: 1 })]);
    expect(batch).toBe(true);
    expect(messages.map((m) => (m.ok ? 'ok' : m.refusal.message))).toEqual([
      'ok',
      'Invalid Request: id 1 is used twice in this batch',
      'Invalid Request: unexpected member "x"',
    ]);
  });

  it('refuses an empty or over-long batch as a whole', () => {
    expect(screenBody([]).refusal?.message).toMatch(/empty batch/);
    const tooMany = Array.from({ length: MAX_BATCH_MESSAGES + 1 }, (_, i) => request({ id: i }));
    expect(screenBody(tooMany)).toMatchObject({ messages: [], refusal: { id: null, code: -32600 } });
    expect(screenBody(tooMany.slice(1)).refusal).toBeUndefined();
  });

  it('turns a refusal into the JSON-RPC error response that answers it', () => {
    const screened = screenBody({ jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'n'.repeat(200) } });
    expect(screened.batch).toBe(false);
    const [first] = screened.messages;
    expect(first?.ok).toBe(false);
    if (first && !first.ok) {
      expect(refusalResponse(first.refusal)).toEqual({
        jsonrpc: '2.0',
        id: 'a',
        error: { code: -32602, message: expect.stringMatching(/"name" is longer/) },
      });
    }
  });
});

describe('jsonNestsDeeperThan', () => {
  it('counts the nesting of arrays and objects, not brackets inside strings', () => {
    expect(jsonNestsDeeperThan(Buffer.from('[[[]]]'), 3)).toBe(false);
    expect(jsonNestsDeeperThan(Buffer.from('[[[]]]'), 2)).toBe(true);
    expect(jsonNestsDeeperThan(Buffer.from('{"a":{"b":[1]}}'), 2)).toBe(true);
    expect(jsonNestsDeeperThan(Buffer.from(`{"s":"${'['.repeat(500)}"}`), 2)).toBe(false);
    expect(jsonNestsDeeperThan(Buffer.from(JSON.stringify({ s: '\\"[[[[' })), 1)).toBe(false);
    expect(jsonNestsDeeperThan(Buffer.from('['.repeat(500_000) + ']'.repeat(500_000)))).toBe(true);
    expect(jsonNestsDeeperThan(Buffer.from(JSON.stringify({ a: [[[{ b: 1 }]]] })))).toBe(false);
    // A string that ends in an escaped backslash ends there: what follows is counted again.
    expect(jsonNestsDeeperThan(Buffer.from(JSON.stringify({ s: 'a\\', t: [[1]] })), 2)).toBe(true);
    expect(jsonNestsDeeperThan(Buffer.from(JSON.stringify({ s: 'a\\"[[[', t: 1 })), 1)).toBe(false);
    expect(jsonNestsDeeperThan(Buffer.from('{"unterminated": "[[[['), 1)).toBe(false);
  });
});
