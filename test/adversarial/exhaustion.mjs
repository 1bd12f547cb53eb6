// Exhaustion: tens of thousands of sessions opened and abandoned or refused, streams dropped, and sockets that
// send half their headers (or nothing) and wait. Memory is read before and after, once the gateway has settled.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { exchange, judge } from './http.mjs';

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'abandoned', version: '0' } },
});
const SETTLE_LIMIT_MS = 30_000;
const MB = 1024 * 1024;

async function inParallel(count, concurrency, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/** Polls until `condition` holds or the limit passes; returns whether it held. */
async function settle(condition, limitMs = SETTLE_LIMIT_MS) {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(250);
  }
  return condition();
}

const openSessions = async (baseUrl) => (await (await fetch(`${baseUrl}/health`)).json()).sessions;

/**
 * Opens `abandoned` sessions and never ends them, sends `refused` initializes that must be refused (406, 415),
 * opens and drops `streams` SSE streams; then waits for the idle sessions to expire and for memory to settle.
 */
export async function runSessionExhaustion(
  gateway,
  { abandoned = 20_000, refused = 20_000, streams = 1_000, keep = 2 } = {},
) {
  const before = await gateway.ask('memory');
  await gateway.ask('reset');
  const tally = { tried: 0, contained: 0, failures: new Map(), statuses: new Map() };
  let peakRssBytes = before.rssBytes;
  const count = (verdict, status, example) => {
    tally.tried++;
    tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1);
    if (verdict === 'contained') return void tally.contained++;
    const entry = tally.failures.get(verdict) ?? { count: 0, example };
    entry.count++;
    tally.failures.set(verdict, entry);
  };
  const sampler = setInterval(() => {
    gateway.ask('stats').then(
      ({ rssBytes }) => (peakRssBytes = Math.max(peakRssBytes, rssBytes)),
      () => {},
    );
  }, 250);
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  await inParallel(abandoned, 32, async () => {
    const result = await exchange(gateway.url, { path: '/mcp', headers, body: INITIALIZE });
    const ok = result.status === 200 && typeof result.headers['mcp-session-id'] === 'string';
    count(ok ? judge(result) : `initialize answered ${result.status}`, result.status, result.body.slice(0, 200));
  });
  await inParallel(refused, 32, async (i) => {
    const wrong = i % 2 === 0 ? { accept: 'application/json' } : { 'content-type': 'text/plain' };
    const result = await exchange(gateway.url, { path: '/mcp', headers: { ...headers, ...wrong }, body: INITIALIZE });
    const expected = i % 2 === 0 ? 406 : 415;
    count(
      result.status === expected ? judge(result) : `refusal answered ${result.status}`,
      result.status,
      result.body.slice(0, 200),
    );
  });
  await inParallel(streams, 16, async () => {
    const result = await exchange(gateway.url, {
      method: 'GET',
      path: '/sse',
      headers: { accept: 'text/event-stream' },
    });
    count(
      result.status === 200 ? 'contained' : `stream answered ${result.status}`,
      result.status,
      result.body.slice(0, 200),
    );
  });
  clearInterval(sampler);
  const load = await gateway.ask('stats');
  const expired = await settle(async () => (await openSessions(gateway.url)) <= keep);
  // Freed memory goes back to the system a few seconds after the last collection (V8's memory reducer).
  let after = await gateway.ask('memory');
  await settle(async () => {
    after = await gateway.ask('memory');
    return after.rssBytes - before.rssBytes <= 20 * MB;
  }, 20_000);
  return {
    ...tally,
    delayMaxMs: load.delayMaxMs,
    delayP99Ms: load.delayP99Ms,
    expired,
    sessionsLeft: await openSessions(gateway.url),
    rss: { beforeBytes: before.rssBytes, peakBytes: Math.max(peakRssBytes, load.rssBytes), afterBytes: after.rssBytes },
    heap: { beforeBytes: before.heapUsedBytes, afterBytes: after.heapUsedBytes },
  };
}

/** Opens a socket and sends `prefix`; resolves with what the gateway answered and whether it closed the socket. */
function slowSocket(baseUrl, prefix) {
  const target = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(target.port), target.hostname);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (received += chunk));
    socket.on('error', () => {});
    socket.once('connect', () => {
      if (prefix !== '') socket.write(prefix);
      resolve({
        closed: new Promise((done) => socket.once('close', () => done(received))),
        destroy: () => socket.destroy(),
      });
    });
  });
}

/**
 * Opens `slow` sockets that send half their request headers and `silent` ones that send nothing, and waits (up to
 * `limitMs`) for the gateway to close every one of them.
 */
export async function runSocketExhaustion(gateway, { slow = 1_500, silent = 500, limitMs = 25_000 } = {}) {
  await gateway.ask('reset');
  const before = await gateway.ask('memory');
  const sockets = [];
  for (let i = 0; i < slow + silent; i++) {
    sockets.push(await slowSocket(gateway.url, i < slow ? 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' : ''));
  }
  const started = Date.now();
  let closed = 0;
  const answers = { timeout: 0, other: 0 };
  const watched = sockets.map(({ closed: whenClosed }) =>
    whenClosed.then((received) => {
      closed++;
      if (received === '' || /^HTTP\/1\.1 408 /.test(received)) answers.timeout++;
      else answers.other++;
    }),
  );
  await Promise.race([Promise.all(watched), sleep(limitMs)]);
  const closedWithinMs = Date.now() - started;
  for (const socket of sockets) socket.destroy();
  const stats = await gateway.ask('stats');
  const after = await gateway.ask('memory');
  return {
    tried: sockets.length,
    contained: closed,
    failures:
      closed === sockets.length
        ? new Map()
        : new Map([['socket left open', { count: sockets.length - closed, example: '' }]]),
    closedWithinMs,
    answers,
    delayMaxMs: stats.delayMaxMs,
    delayP99Ms: stats.delayP99Ms,
    rss: { beforeBytes: before.rssBytes, peakBytes: stats.rssBytes, afterBytes: after.rssBytes },
  };
}
