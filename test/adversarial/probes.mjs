// The large-input probes: one request each, as large as the gateway accepts (or just beyond), with the gateway's
// event-loop delay measured around each, and /health polled from outside meanwhile.
import { exchange, judge } from './http.mjs';

const HUGE = 'x'.repeat(3_500_000);
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const rpc = (method, params, id = 1) => JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });

const errorCode = (result) => {
  try {
    const value = JSON.parse(result.body);
    return (Array.isArray(value) ? value[0] : value)?.error?.code;
  } catch {
    return undefined;
  }
};
const answers = (status, code) => (result) => result.status === status && errorCode(result) === code;

/** Each probe: where it goes, what it sends, and what a contained answer is. `session` probes use a live session. */
function probes() {
  const deep = `{"message":${'['.repeat(500_000)}${']'.repeat(500_000)}}`;
  const nested = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ok__echo","arguments":${deep}}}`;
  const longestName = 'z'.repeat(128);
  return [
    {
      name: 'tools/call, 3.5 MB name, bare POST /message',
      path: '/message',
      body: rpc('tools/call', { name: HUGE }),
      ok: answers(200, -32602),
    },
    {
      name: 'tools/call, 3.5 MB name, bare POST /sse',
      path: '/sse',
      body: rpc('tools/call', { name: HUGE }),
      ok: answers(200, -32602),
    },
    {
      name: 'tools/call, 3.5 MB name, /mcp session',
      path: '/mcp',
      session: 'mcp',
      body: rpc('tools/call', { name: HUGE }),
      ok: answers(200, -32602),
    },
    {
      name: 'tools/call, 3.5 MB name, /message?sessionId=',
      path: 'sse',
      session: 'sse',
      body: rpc('tools/call', { name: HUGE }),
      ok: (r) => r.status === 202,
    },
    {
      name: 'prompts/get, 3.5 MB name',
      path: '/message',
      body: rpc('prompts/get', { name: HUGE }),
      ok: answers(200, -32602),
    },
    {
      name: 'resources/read, 3.5 MB URI',
      path: '/message',
      body: rpc('resources/read', { uri: `test://${HUGE}` }),
      ok: answers(200, -32602),
    },
    {
      name: 'resources/subscribe, 3.5 MB URI, /mcp session',
      path: '/mcp',
      session: 'mcp',
      body: rpc('resources/subscribe', { uri: HUGE }),
      ok: answers(200, -32602),
    },
    {
      name: 'tools/list, 3.5 MB cursor',
      path: '/message',
      body: rpc('tools/list', { cursor: HUGE }),
      ok: answers(200, -32602),
    },
    {
      name: 'completion/complete, 3.5 MB prompt name',
      path: '/message',
      body: rpc('completion/complete', {
        ref: { type: 'ref/prompt', name: HUGE },
        argument: { name: 'a', value: 'b' },
      }),
      ok: answers(200, -32602),
    },
    { name: '3.5 MB method name', path: '/message', body: rpc(HUGE), ok: answers(400, -32600) },
    {
      name: '3.5 MB string id',
      path: '/message',
      body: JSON.stringify({ jsonrpc: '2.0', id: HUGE, method: 'ping' }),
      ok: answers(400, -32600),
    },
    {
      name: '3.5 MB member name',
      path: '/message',
      body: `{"jsonrpc":"2.0","id":1,"method":"ping","${HUGE}":1}`,
      ok: answers(400, -32600),
    },
    {
      name: '3.5 MB progress token',
      path: '/message',
      body: rpc('tools/list', { _meta: { progressToken: HUGE } }),
      ok: answers(200, -32602),
    },
    {
      name: 'batch of 100 unknown 128-character tool names (100 suggestions)',
      path: '/message',
      body: JSON.stringify(
        Array.from({ length: 100 }, (_, i) =>
          JSON.parse(rpc('tools/call', { name: `${longestName.slice(0, 120)}${String(i).padStart(8, '0')}` }, i + 1)),
        ),
      ),
      ok: answers(200, -32602),
    },
    {
      name: 'batch of 100 unknown names of 35 KB each',
      path: '/message',
      body: JSON.stringify(
        Array.from({ length: 100 }, (_, i) => JSON.parse(rpc('tools/call', { name: 'q'.repeat(35_000) }, i + 1))),
      ),
      ok: answers(200, -32602),
    },
    {
      name: 'batch of 100 tool calls',
      path: '/message',
      body: JSON.stringify(
        Array.from({ length: 100 }, (_, i) =>
          JSON.parse(rpc('tools/call', { name: 'ok__echo', arguments: { message: `m${i}` } }, i + 1)),
        ),
      ),
      ok: (r) => r.status === 200 && JSON.parse(r.body).length === 100,
    },
    {
      name: 'batch of 101 messages',
      path: '/message',
      body: JSON.stringify(Array.from({ length: 101 }, (_, i) => JSON.parse(rpc('ping', undefined, i)))),
      ok: answers(400, -32600),
    },
    {
      name: 'a 3.9 MB argument, echoed by the server',
      path: '/message',
      body: rpc('tools/call', { name: 'ok__echo', arguments: { message: 'e'.repeat(3_900_000) } }),
      ok: (r) => r.status === 200 && r.body.length > 3_900_000,
    },
    { name: 'arguments nested 500,000 deep', path: '/message', body: nested, ok: answers(400, -32600) },
    {
      name: 'a body over 4 MiB',
      path: '/message',
      body: rpc('tools/call', { name: 'ok__echo', arguments: { message: 'o'.repeat(4_300_000) } }),
      ok: (r) => r.status === 413 && judge(r) === 'contained',
    },
    {
      name: 'an upstream answer of 17 MiB',
      path: '/message',
      body: rpc('tools/call', { name: 'edge__huge' }),
      ok: answers(200, -32603),
    },
    {
      name: '20 KB of request headers',
      path: '/message',
      headers: { 'x-padding': 'p'.repeat(20_000) },
      body: rpc('ping'),
      ok: (r) => r.status === 431 && judge(r) === 'contained',
    },
  ];
}

async function pollHealth(baseUrl, signal) {
  let maxMs = 0;
  while (!signal.aborted) {
    const started = performance.now();
    await fetch(`${baseUrl}/health`, { signal })
      .then((r) => r.arrayBuffer())
      .catch(() => {});
    if (!signal.aborted) maxMs = Math.max(maxMs, performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return maxMs;
}

/**
 * Runs every probe on its own, with the event-loop delay of the gateway reset before and read after it.
 * @returns {Promise<{ name: string, contained: boolean, delayMaxMs: number, delayP99Ms: number, healthMaxMs: number, status: number }[]>}
 */
export async function runProbes(gateway, live) {
  const results = [];
  for (const probe of probes()) {
    const path = probe.session === 'sse' ? live.ssePath() : probe.path;
    const headers = { ...JSON_HEADERS, ...(probe.session === 'mcp' ? live.mcpHeaders() : {}), ...probe.headers };
    await gateway.ask('reset');
    const polling = new AbortController();
    const health = pollHealth(gateway.url, polling.signal);
    const started = performance.now();
    const result = await exchange(gateway.url, { path, headers, body: probe.body, timeoutMs: 20_000 });
    const elapsedMs = performance.now() - started;
    // A few sampling periods more, so that a stall just before the answer has been sampled too.
    await new Promise((resolve) => setTimeout(resolve, 25));
    polling.abort();
    const healthMaxMs = await health;
    const { delayMaxMs, delayP99Ms } = await gateway.ask('stats');
    const verdict = judge(result);
    results.push({
      name: probe.name,
      contained: verdict === 'contained' && probe.ok(result),
      verdict,
      status: result.status,
      answer: result.body.slice(0, 200),
      elapsedMs,
      delayMaxMs,
      delayP99Ms,
      healthMaxMs,
    });
  }
  return results;
}
