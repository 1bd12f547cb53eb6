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

/** A probe: its name, its body, what a contained answer is, and where it goes (a bare POST unless told). */
const probe = (name, body, ok, where = {}) => ({ name, body, ok, path: '/message', ...where });
const MCP_SESSION = { path: '/mcp', session: 'mcp' };
const batchOf = (count, message) => JSON.stringify(Array.from({ length: count }, (_, i) => JSON.parse(message(i))));

function probes() {
  const tooLong = answers(200, -32602);
  const invalid = answers(400, -32600);
  const deep = `{"message":${'['.repeat(500_000)}${']'.repeat(500_000)}}`;
  const echo = (message, id = 1) => rpc('tools/call', { name: 'ok__echo', arguments: { message } }, id);
  return [
    probe('tools/call, 3.5 MB name, bare POST /message', rpc('tools/call', { name: HUGE }), tooLong),
    probe('tools/call, 3.5 MB name, bare POST /sse', rpc('tools/call', { name: HUGE }), tooLong, { path: '/sse' }),
    probe('tools/call, 3.5 MB name, /mcp session', rpc('tools/call', { name: HUGE }), tooLong, MCP_SESSION),
    probe('tools/call, 3.5 MB name, /message?sessionId=', rpc('tools/call', { name: HUGE }), (r) => r.status === 202, {
      session: 'sse',
    }),
    probe('prompts/get, 3.5 MB name', rpc('prompts/get', { name: HUGE }), tooLong),
    probe('resources/read, 3.5 MB URI', rpc('resources/read', { uri: `test://${HUGE}` }), tooLong),
    probe(
      'resources/subscribe, 3.5 MB URI, /mcp session',
      rpc('resources/subscribe', { uri: HUGE }),
      tooLong,
      MCP_SESSION,
    ),
    probe('tools/list, 3.5 MB cursor', rpc('tools/list', { cursor: HUGE }), tooLong),
    probe(
      'completion/complete, 3.5 MB prompt name',
      rpc('completion/complete', { ref: { type: 'ref/prompt', name: HUGE }, argument: { name: 'a', value: 'b' } }),
      tooLong,
    ),
    probe('3.5 MB method name', rpc(HUGE), invalid),
    probe('3.5 MB string id', JSON.stringify({ jsonrpc: '2.0', id: HUGE, method: 'ping' }), invalid),
    probe('3.5 MB member name', `{"jsonrpc":"2.0","id":1,"method":"ping","${HUGE}":1}`, invalid),
    probe('3.5 MB progress token', rpc('tools/list', { _meta: { progressToken: HUGE } }), tooLong),
    probe(
      'batch of 100 unknown 128-character tool names (100 suggestions)',
      batchOf(100, (i) => rpc('tools/call', { name: `${'z'.repeat(120)}${String(i).padStart(8, '0')}` }, i + 1)),
      tooLong,
    ),
    probe(
      'batch of 100 unknown names of 35 KB each',
      batchOf(100, (i) => rpc('tools/call', { name: 'q'.repeat(35_000) }, i + 1)),
      tooLong,
    ),
    probe(
      'batch of 100 tool calls',
      batchOf(100, (i) => echo(`m${i}`, i + 1)),
      (r) => r.status === 200 && JSON.parse(r.body).length === 100,
    ),
    probe(
      'batch of 101 messages',
      batchOf(101, (i) => rpc('ping', undefined, i)),
      invalid,
    ),
    probe(
      'a 3.9 MB argument, echoed by the server',
      echo('e'.repeat(3_900_000)),
      (r) => r.status === 200 && r.body.length > 3_900_000,
    ),
    probe(
      'arguments nested 500,000 deep',
      `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ok__echo","arguments":${deep}}}`,
      invalid,
    ),
    probe('a body over 4 MiB', echo('o'.repeat(4_300_000)), (r) => r.status === 413 && judge(r) === 'contained'),
    probe('an upstream answer of 17 MiB', rpc('tools/call', { name: 'edge__huge' }), answers(200, -32603)),
    probe('20 KB of request headers', rpc('ping'), (r) => r.status === 431 && judge(r) === 'contained', {
      headers: { 'x-padding': 'p'.repeat(20_000) },
    }),
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
    const { delayMaxMs, delayP99Ms, cpuMs } = await gateway.ask('stats');
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
      cpuMs,
      healthMaxMs,
    });
  }
  return results;
}
