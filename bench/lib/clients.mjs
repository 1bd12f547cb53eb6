// SDK clients for the three transports, and the bounded call loops every scenario uses.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

import { descendants, killPids, trackPid, untrackPid } from './proc.mjs';

export const CALL_TIMEOUT_MS = 10000;

function newClient() {
  return new Client({ name: 'mcproxy-bench', version: '0.1.0' }, { capabilities: {} });
}

/**
 * Connect an SDK client. spec: { kind: 'stdio', command, args, env, cwd } | { kind: 'http', url } | { kind: 'sse', url }.
 * Returns { client, transport, pid (stdio only), close(), onToolsChanged(cb) }.
 */
export async function connect(spec, { timeoutMs = 20000 } = {}) {
  const client = newClient();
  let transport;
  if (spec.kind === 'stdio') {
    transport = new StdioClientTransport({
      command: spec.command,
      args: spec.args,
      env: { ...process.env, ...spec.env },
      cwd: spec.cwd,
      stderr: 'pipe',
    });
    const tail = [];
    transport.stderr?.on('data', (c) => {
      tail.push(String(c));
      if (tail.length > 20) tail.shift();
    });
    spec._stderrTail = tail;
  } else if (spec.kind === 'http') {
    transport = new StreamableHTTPClientTransport(new URL(spec.url));
  } else if (spec.kind === 'sse') {
    transport = new SSEClientTransport(new URL(spec.url));
  } else {
    throw new Error(`unknown client kind ${spec.kind}`);
  }
  const toolsChanged = [];
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    for (const cb of toolsChanged) cb();
  });
  try {
    await client.connect(transport, { timeout: timeoutMs });
  } catch (err) {
    if (spec.kind === 'stdio' && spec._stderrTail?.length)
      err.message += `\nstderr: ${spec._stderrTail.join('').slice(-600)}`;
    await safeClose(client, transport, spec.kind);
    throw err;
  }
  if (spec.kind === 'stdio') trackPid(transport.pid);
  return {
    client,
    transport,
    pid: spec.kind === 'stdio' ? transport.pid : undefined,
    onToolsChanged: (cb) => toolsChanged.push(cb),
    close: () => safeClose(client, transport, spec.kind),
  };
}

async function safeClose(client, transport, kind) {
  const pid = kind === 'stdio' ? transport.pid : null;
  const kids = pid ? descendants(pid) : [];
  try {
    if (kind === 'http' && transport.sessionId) await transport.terminateSession().catch(() => {});
    await Promise.race([client.close(), new Promise((r) => setTimeout(r, 3000))]);
  } catch {
    /* closing anyway */
  }
  // The SDK ends its own child; make sure nothing the child started outlives it.
  await killPids(pid ? [pid, ...kids] : kids, 500);
  if (pid) untrackPid(pid);
}

/** One echo call; throws when the answer is not the echo of the message. */
export async function echo(conn, toolName, message) {
  const res = await conn.client.callTool({ name: toolName, arguments: { message } }, undefined, {
    timeout: CALL_TIMEOUT_MS,
  });
  const text = res?.content?.[0]?.text;
  if (text !== `Echo: ${message}`) {
    const err = new Error(`wrong echo: expected "Echo: ${message}", got ${JSON.stringify(text ?? res).slice(0, 120)}`);
    err.mismatch = true;
    throw err;
  }
}

/**
 * Sequential latency loop: `n` calls one after the other, stopping early at `maxMs`.
 * Returns { samples (ms), errors, mismatches, firstError }.
 */
export async function latencyLoop(conn, toolName, { n, maxMs, tag = 'x' }) {
  const samples = [];
  let errors = 0;
  let mismatches = 0;
  let firstError;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    if (performance.now() - t0 > maxMs) break;
    const msg = `${tag}-${i}`;
    const s = performance.now();
    try {
      await echo(conn, toolName, msg);
      samples.push(performance.now() - s);
    } catch (err) {
      if (err.mismatch) mismatches++;
      else errors++;
      firstError ??= err.message;
      if (errors > 20) break;
    }
  }
  return { samples, errors, mismatches, firstError };
}

/**
 * Closed-loop throughput: every connection keeps exactly one call in flight for `windowMs`.
 * Returns { calls, errors, mismatches, seconds, rate }.
 */
export async function throughputWindow(conns, toolName, { windowMs, tag = 't' }) {
  let calls = 0;
  let errors = 0;
  let mismatches = 0;
  let firstError;
  const t0 = performance.now();
  const end = t0 + windowMs;
  await Promise.all(
    conns.map(async (conn, c) => {
      let i = 0;
      while (performance.now() < end) {
        try {
          await echo(conn, toolName, `${tag}-${c}-${i++}`);
          if (performance.now() <= end) calls++;
        } catch (err) {
          if (err.mismatch) mismatches++;
          else errors++;
          firstError ??= err.message;
          if (errors > 50 * conns.length) return;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { calls, errors, mismatches, firstError, seconds, rate: calls / (windowMs / 1000) };
}

/** Open `count` sessions in small parallel batches (bounded). */
export async function connectMany(spec, count, { batch = 8, timeoutMs = 30000, maxTotalMs = Infinity } = {}) {
  const conns = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i += batch) {
    const settled = await Promise.allSettled(
      Array.from({ length: Math.min(batch, count - i) }, () => connect({ ...spec }, { timeoutMs })),
    );
    for (const s of settled) if (s.status === 'fulfilled') conns.push(s.value);
    const failed = settled.find((s) => s.status === 'rejected');
    const slow = performance.now() - t0 > maxTotalMs && i + batch < count;
    if (failed || slow) {
      await closeMany(conns);
      if (failed) throw failed.reason;
      const err = new Error(`opening ${count} sessions took more than ${maxTotalMs / 1000} s (${i + batch} open)`);
      err.slowSetup = true;
      throw err;
    }
  }
  return conns;
}

export async function closeMany(conns) {
  await Promise.all(conns.map((c) => c.close()));
}
