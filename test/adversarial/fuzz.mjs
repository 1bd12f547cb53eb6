// The fuzz: malformed requests generated from valid ones by a seeded random mutator, over every MCP route.
import { exchange, judge } from './http.mjs';

/** mulberry32: small, seeded, and the same cases on every run. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INIT_PARAMS = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz', version: '0' } };
/** Valid messages to start from; the only tools called answer at once (a slow tool would be a slow answer, no hang). */
const TEMPLATES = [
  { jsonrpc: '2.0', id: 1, method: 'initialize', params: INIT_PARAMS },
  { jsonrpc: '2.0', id: 2, method: 'tools/list' },
  { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'ok__echo', arguments: { message: 'hi' } } },
  { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'ok__ecko', arguments: {} } },
  { jsonrpc: '2.0', id: 5, method: 'prompts/list', params: { cursor: 'abc' } },
  { jsonrpc: '2.0', id: 6, method: 'prompts/get', params: { name: 'ok__greet', arguments: { name: 'a' } } },
  { jsonrpc: '2.0', id: 7, method: 'resources/read', params: { uri: 'test://items/1' } },
  { jsonrpc: '2.0', id: 8, method: 'resources/templates/list' },
  {
    jsonrpc: '2.0',
    id: 9,
    method: 'completion/complete',
    params: { ref: { type: 'ref/prompt', name: 'ok__greet' }, argument: { name: 'name', value: 'a' } },
  },
  { jsonrpc: '2.0', id: 10, method: 'logging/setLevel', params: { level: 'warning' } },
  { jsonrpc: '2.0', id: 11, method: 'ping' },
  { jsonrpc: '2.0', method: 'notifications/initialized' },
  { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3 } },
  { jsonrpc: '2.0', id: 12, result: {} },
  { jsonrpc: '2.0', id: 13, error: { code: -32601, message: 'no' } },
];

const deep = (depth) => {
  let value = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};
const IDS = [1.5, -0.5, 2 ** 60, -(2 ** 60), 1e308, null, {}, [], true, '', 'x'.repeat(300), 'é😀', 0, -1];
const VERSIONS = ['1.0', 2, null, '2.0 ', '', ['2.0']];
const METHODS = [
  123,
  '',
  'x'.repeat(300),
  'tools/call\u0000',
  '__proto__',
  'constructor',
  'tools/../list',
  '😀/list',
  null,
];
const PARAMS = [
  [],
  'text',
  42,
  null,
  true,
  { name: 123 },
  { name: null },
  { name: {} },
  { name: 'x'.repeat(129) },
  { name: 'ok__echo', arguments: 'x' },
  { name: 'ok__echo', arguments: [] },
  { name: 'ok__echo', arguments: { message: 5 } },
  { uri: 5 },
  { uri: 'u'.repeat(9_000) },
  { cursor: 5 },
  { cursor: 'c'.repeat(5_000) },
  { _meta: 5 },
  { _meta: { progressToken: 1.5 } },
  { _meta: { progressToken: {} } },
  { ref: 'x' },
  { ref: { type: 'ref/prompt', name: 'n'.repeat(200) } },
  { level: 'loud' },
  { task: 5 },
  { name: 'ok__echo', arguments: { message: deep(2_000) } },
];
const RAW_BODIES = [
  '{',
  '{"jsonrpc":',
  'nul',
  '[1,',
  '\u0000',
  '',
  'null',
  '1',
  '"s"',
  'true',
  '[]',
  '{}',
  '1e999999',
  '{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}',
  '\ufeff{"jsonrpc":"2.0","id":1,"method":"ping"}',
  '{"jsonrpc":"2.0","id":1,"method":"tools/list","__proto__":{"x":1}}',
  '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"__proto__":{"name":"ok__echo"}}}',
];
const CONTENT_TYPES = [
  undefined,
  'text/plain',
  'application/json; charset=utf-16',
  'application/json-seq',
  'multipart/form-data',
];
const ACCEPTS = [undefined, 'application/json', 'text/event-stream', '*/*', 'text/html'];

function pick(rand, list) {
  return list[Math.floor(rand() * list.length)];
}

function mutate(rand, template) {
  const message = structuredClone(template);
  const mutations = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < mutations; i++) {
    switch (Math.floor(rand() * 6)) {
      case 0:
        message.id = pick(rand, IDS);
        break;
      case 1:
        message.jsonrpc = pick(rand, VERSIONS);
        break;
      case 2:
        message.method = pick(rand, METHODS);
        break;
      case 3:
        message.params = pick(rand, PARAMS);
        break;
      case 4:
        message[pick(rand, ['extra', 'ID', 'Method', 'result', 'error', '__proto__x'])] = 1;
        break;
      default:
        delete message[pick(rand, ['id', 'jsonrpc', 'method', 'params'])];
    }
  }
  return message;
}

/** A body: one mutated message, a batch of them (duplicates, nesting, too many), or raw bytes. */
function body(rand) {
  const roll = rand();
  if (roll < 0.12) return pick(rand, RAW_BODIES);
  if (roll < 0.16) return Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28, 0x7d]);
  const message = mutate(rand, pick(rand, TEMPLATES));
  if (roll < 0.7) return JSON.stringify(message);
  const batch = [message, mutate(rand, pick(rand, TEMPLATES))];
  const shape = Math.floor(rand() * 5);
  if (shape === 0) batch.push(structuredClone(batch[0]));
  if (shape === 1) return JSON.stringify([batch]);
  if (shape === 2) return JSON.stringify(Array.from({ length: 101 }, (_, i) => ({ ...pick(rand, TEMPLATES), id: i })));
  if (shape === 3) return JSON.stringify([1, null, 'x', ...batch]);
  return JSON.stringify(batch);
}

const FAMILIES = [
  '/mcp without a session',
  '/mcp in a session',
  '/sse, bare POST',
  '/message, bare POST',
  '/message?sessionId=',
  '/ns/<namespace>/ and /mcp/<server>',
];

/** Where a case goes; the live session's id is filled in when it is sent, so a renewed session is used. */
function route(rand, index) {
  const family = FAMILIES[index % FAMILIES.length];
  const stream = { accept: 'application/json, text/event-stream' };
  switch (index % FAMILIES.length) {
    case 0:
      return { family, path: '/mcp', headers: stream };
    case 1:
      return { family, path: '/mcp', headers: stream, session: 'mcp' };
    case 2:
      return { family, path: '/sse', headers: {} };
    case 3:
      return { family, path: '/message', headers: {} };
    case 4:
      return { family, path: '/message', headers: {}, session: 'sse' };
    default:
      return {
        family,
        path: pick(rand, ['/ns/tools/mcp', '/mcp/ok', '/ns/tools/message', '/ns/nope/mcp']),
        headers: stream,
      };
  }
}

/** Request headers, sometimes wrong: content type, accept, a foreign or huge session id, a bogus protocol version. */
function headers(rand, base) {
  const result = { 'content-type': 'application/json', ...base };
  const roll = rand();
  if (roll < 0.1) {
    const type = pick(rand, CONTENT_TYPES);
    if (type === undefined) delete result['content-type'];
    else result['content-type'] = type;
  } else if (roll < 0.18) {
    const accept = pick(rand, ACCEPTS);
    if (accept === undefined) delete result.accept;
    else result.accept = accept;
  } else if (roll < 0.24) {
    result['mcp-session-id'] = pick(rand, [
      'nope',
      'x'.repeat(8_000),
      '../../etc/passwd',
      '00000000-0000-0000-0000-000000000000',
    ]);
  } else if (roll < 0.28) {
    result['mcp-protocol-version'] = pick(rand, ['1999-01-01', 'x', '2025-06-18, 2025-03-26']);
  }
  return result;
}

/** The cases, generated up front from the seed, so that every run sends the same ones. */
export function fuzzCases(count, seed = 11) {
  const rand = random(seed);
  return Array.from({ length: count }, (_, index) => {
    const target = route(rand, index);
    const method = rand() < 0.03 ? pick(rand, ['GET', 'DELETE', 'PUT', 'OPTIONS']) : 'POST';
    return {
      ...target,
      headers: headers(rand, target.headers),
      method,
      payload: method === 'POST' ? body(rand) : undefined,
    };
  });
}

/**
 * Sends the cases, `concurrency` at a time, and judges every answer. `live` supplies the live sessions' ids and
 * renews a session a case has ended (a fuzzed DELETE).
 * @returns {Promise<{ tried: number, contained: number, failures: Map<string, { count: number, example: string }>, byFamily: Map }>}
 */
export async function runFuzz(baseUrl, live, { count = 2_400, concurrency = 8 } = {}) {
  const cases = fuzzCases(count);
  const failures = new Map();
  const byFamily = new Map(FAMILIES.map((family) => [family, { tried: 0, contained: 0 }]));
  let next = 0;
  let contained = 0;
  async function worker() {
    while (next < cases.length) {
      const sample = cases[next++];
      let { path, headers: requestHeaders } = sample;
      if (sample.session === 'mcp') requestHeaders = { ...live.mcpHeaders(), ...requestHeaders };
      if (sample.session === 'sse') path = live.ssePath();
      const result = await exchange(baseUrl, {
        method: sample.method,
        path,
        headers: requestHeaders,
        body: sample.payload,
      });
      if (result.status === 404 && sample.session) await live.renew();
      const verdict = judge(result);
      const family = byFamily.get(sample.family);
      family.tried++;
      if (verdict === 'contained') {
        contained++;
        family.contained++;
        continue;
      }
      const entry = failures.get(verdict) ?? { count: 0, example: '' };
      entry.count++;
      entry.example ||= `${sample.method} ${path.split('?')[0]} ${String(sample.payload).slice(0, 160)} → ${result.status} ${result.body.slice(0, 160)}`;
      failures.set(verdict, entry);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { tried: cases.length, contained, failures, byFamily };
}
