// The rate-limit lines of issue 11: a batch pays for each of its requests, and a credential has one budget over
// every endpoint. Tool calls actually run are read from the gateway's audit log.
import { readFile } from 'node:fs/promises';

import { exchange, judge } from './http.mjs';

export const LIMIT_PER_MINUTE = 10;
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'limited', version: '0' } },
});
const LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
const ENDPOINTS = [
  { path: '/mcp', body: INITIALIZE },
  { path: '/mcp/ok', body: INITIALIZE },
  { path: '/ns/tools/mcp', body: INITIALIZE },
  { path: '/sse', body: LIST },
  { path: '/message', body: LIST },
  { path: '/ns/tools/sse', body: LIST },
  { path: '/ns/tools/message', body: LIST },
];

async function callsOf(auditPath, credential) {
  const text = await readFile(auditPath, 'utf8').catch(() => '');
  return text.split('\n').filter((line) => line !== '' && JSON.parse(line).credential === credential).length;
}

export async function runRateLimits(gateway, { auditPath, batchToken, sevenToken }) {
  const headers = (token) => ({
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  });
  const batch = JSON.stringify(
    Array.from({ length: 500 }, (_, i) => ({
      jsonrpc: '2.0',
      id: i + 1,
      method: 'tools/call',
      params: { name: 'ok__echo', arguments: { message: `b${i}` } },
    })),
  );
  await gateway.ask('reset');
  const refused = await exchange(gateway.url, { path: '/message', headers: headers(batchToken), body: batch });
  // Give the audit log a moment: a call that ran would be written as it ends.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const batchCalls = await callsOf(auditPath, 'batch');

  const started = Date.now();
  const outcomes = [];
  for (let round = 0; round < 3; round++) {
    for (const endpoint of ENDPOINTS) {
      const result = await exchange(gateway.url, {
        path: endpoint.path,
        headers: headers(sevenToken),
        body: endpoint.body,
      });
      outcomes.push({ path: endpoint.path, status: result.status, verdict: judge(result) });
    }
  }
  const elapsedMs = Date.now() - started;
  const granted = outcomes.filter((outcome) => outcome.status === 200).length;
  const allowed = LIMIT_PER_MINUTE + Math.floor((elapsedMs / 60_000) * LIMIT_PER_MINUTE);
  const stats = await gateway.ask('stats');
  const batchHolds =
    refused.status === 429 &&
    judge(refused) === 'contained' &&
    Number(refused.headers['retry-after']) >= 1 &&
    batchCalls === 0;
  const sevenHolds =
    granted <= allowed && outcomes.every((o) => (o.status === 200 || o.status === 429) && o.verdict === 'contained');
  const failures = new Map();
  if (!batchHolds)
    failures.set('batch not refused as a whole', { count: 1, example: `${refused.status}, ${batchCalls} calls run` });
  if (!sevenHolds) failures.set('more than one budget', { count: 1, example: JSON.stringify(outcomes) });
  return {
    tried: 1 + outcomes.length,
    contained: (batchHolds ? 1 : 0) + (sevenHolds ? outcomes.length : 0),
    failures,
    batch: { status: refused.status, retryAfter: refused.headers['retry-after'], callsRun: batchCalls, size: 500 },
    seven: { endpoints: ENDPOINTS.length, attempts: outcomes.length, granted, allowed },
    delayMaxMs: stats.delayMaxMs,
    delayP99Ms: stats.delayP99Ms,
  };
}
