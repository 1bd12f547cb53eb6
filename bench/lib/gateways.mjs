// Every gateway the bench measures, started the way a user would start it, on 127.0.0.1 and OS-picked ports.
// A gateway handle: { id, label, pid (the gateway process only), fronts: { name: clientSpec }, tool, stop() }.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { EVERYTHING, HTTP_PIPE_RELAY, MCPROXY_MAIN, PEERS_DIR, ROOT, TMP } from './paths.mjs';
import { freePort, startProcess, waitForHttp } from './proc.mjs';

export const PEER_VERSIONS = { supergateway: '4.0.0', 'mcp-proxy': '~6.7.0', 'mcp-hub': '~4.2.0' };
const PEER_BIN = {
  supergateway: join(PEERS_DIR, 'node_modules', 'supergateway', 'dist', 'index.js'),
  'mcp-proxy': join(PEERS_DIR, 'node_modules', 'mcp-proxy', 'dist', 'bin', 'mcp-proxy.mjs'),
  'mcp-hub': join(PEERS_DIR, 'node_modules', 'mcp-hub', 'dist', 'cli.js'),
};

export function peerVersion(name) {
  try {
    return JSON.parse(readFileSync(join(PEERS_DIR, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/** Install the peer gateways into bench/.peers (never into the project) when any is missing. */
export function ensurePeers(log) {
  const missing = Object.keys(PEER_BIN).filter((p) => !existsSync(PEER_BIN[p]));
  if (missing.length === 0) return { ok: true };
  const specs = Object.entries(PEER_VERSIONS).map(([n, v]) => `${n}@${v}`);
  log(`installing peer gateways into bench/.peers: ${specs.join(' ')}`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--prefix', PEERS_DIR, '--no-save', '--no-audit', '--no-fund', ...specs], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 180000,
    encoding: 'utf8',
  });
  const still = Object.keys(PEER_BIN).filter((p) => !existsSync(PEER_BIN[p]));
  if (still.length)
    return { ok: false, missing: still, error: (r.error?.message ?? '') + (r.stderr ?? '').slice(-500) };
  return { ok: true };
}
export const peerAvailable = (name) => existsSync(PEER_BIN[name]);

const stdioCmdLine = `${JSON.stringify(process.execPath)} ${JSON.stringify(EVERYTHING)} stdio`;

// ---------------------------------------------------------------------------------------------------------------
// server-everything's own HTTP transports (reference rows)

export async function startEverythingHttp(mode = 'streamableHttp') {
  const port = await freePort();
  const proc = startProcess(process.execPath, [EVERYTHING, mode], {
    env: { PORT: String(port) },
    name: `server-everything ${mode}`,
  });
  await proc.waitForLine(/listening on port|running on port/i, 20000);
  const base = `http://127.0.0.1:${port}`;
  return {
    id: `everything-${mode}`,
    pid: proc.pid,
    proc,
    fronts:
      mode === 'sse' ? { sse: { kind: 'sse', url: `${base}/sse` } } : { mcp: { kind: 'http', url: `${base}/mcp` } },
    tool: 'echo',
    command: `PORT=<port> node server-everything/dist/index.js ${mode}`,
    stop: () => proc.stop(),
  };
}

/** The trivial HTTP relay (bench/lib/http-pipe-relay.mjs): the floor of a Streamable HTTP hop to a stdio server. */
export async function startHttpPipeRelay({ wrap = [], timeoutMs = 20000 } = {}) {
  // `wrap`: a command the relay runs under (valgrind for the instruction counts); its pid is the relay's.
  const command = [...wrap, process.execPath, HTTP_PIPE_RELAY, process.execPath, EVERYTHING, 'stdio'];
  const proc = startProcess(command[0], command.slice(1), { name: 'trivial HTTP relay' });
  const [, port] = await proc.waitForLine(/^listening (\d+)/, timeoutMs);
  return {
    id: 'http-pipe-relay',
    pid: proc.pid,
    proc,
    fronts: { mcp: { kind: 'http', url: `http://127.0.0.1:${port}/mcp` } },
    tool: 'echo',
    command: 'node bench/lib/http-pipe-relay.mjs node server-everything/dist/index.js stdio',
    stop: () => proc.stop(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// supergateway 4.0.0: one stdio server behind SSE, or behind Streamable HTTP (stateless by default: a new child
// per request; --stateful: a new child per session). It binds all interfaces (no --host option).

export async function startSupergateway(output = 'sse', { stateful = false } = {}) {
  const port = await freePort();
  const args = [
    PEER_BIN.supergateway,
    '--stdio',
    stdioCmdLine,
    '--port',
    String(port),
    '--logLevel',
    'none',
    '--healthEndpoint',
    '/healthz',
  ];
  if (output !== 'sse') args.push('--outputTransport', 'streamableHttp');
  if (stateful) args.push('--stateful');
  const proc = startProcess(process.execPath, args, { name: `supergateway ${output}` });
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, { proc });
  const base = `http://127.0.0.1:${port}`;
  return {
    id: `supergateway-${output}${stateful ? '-stateful' : ''}`,
    pid: proc.pid,
    proc,
    fronts:
      output === 'sse' ? { sse: { kind: 'sse', url: `${base}/sse` } } : { mcp: { kind: 'http', url: `${base}/mcp` } },
    tool: 'echo',
    command:
      `supergateway --stdio "node server-everything/dist/index.js stdio" --port <port> --logLevel none --healthEndpoint /healthz` +
      (output !== 'sse' ? ' --outputTransport streamableHttp' : '') +
      (stateful ? ' --stateful' : ''),
    stop: () => proc.stop(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// mcp-proxy 6.7: one stdio server, one shared upstream client, /mcp (Streamable HTTP) and /sse on one port.

export async function startMcpProxy() {
  const port = await freePort();
  const args = [
    PEER_BIN['mcp-proxy'],
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--',
    process.execPath,
    EVERYTHING,
    'stdio',
  ];
  const proc = startProcess(process.execPath, args, { name: 'mcp-proxy' });
  await waitForHttp(`http://127.0.0.1:${port}/ping`, { proc });
  const base = `http://127.0.0.1:${port}`;
  return {
    id: 'mcp-proxy',
    pid: proc.pid,
    proc,
    fronts: { mcp: { kind: 'http', url: `${base}/mcp` }, sse: { kind: 'sse', url: `${base}/sse` } },
    tool: 'echo',
    command: 'mcp-proxy --port <port> --host 127.0.0.1 -- node server-everything/dist/index.js stdio',
    stop: () => proc.stop(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// mcp-hub 4.2: many servers from a JSON config ({"mcpServers": {...}}), one legacy-SSE endpoint at /mcp, tools named
// `<server>__<tool>`, status at /api/health. State and logs go to XDG dirs, redirected into the run's temp dir.

export function writeHubConfig(
  servers,
  file = join(TMP, `hub-${Date.now()}-${Math.random().toString(36).slice(2, 7)}.json`),
) {
  const mcpServers = {};
  for (const [name, s] of Object.entries(servers))
    mcpServers[name] = { command: s.command, args: s.args, ...(s.env ? { env: s.env } : {}) };
  writeFileSync(file, JSON.stringify({ mcpServers }, null, 2));
  return file;
}

export async function hubHealth(base) {
  const res = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(2000) });
  return res.json();
}

export function hubAllReady(h, count) {
  const servers = Array.isArray(h?.servers) ? h.servers : [];
  return servers.length >= count && servers.every((s) => s.status === 'connected');
}

export async function startMcpHub(servers, { watch = false, waitReady = true, timeoutMs = 60000, configFile } = {}) {
  const port = await freePort();
  const file = configFile ?? writeHubConfig(servers);
  const args = [PEER_BIN['mcp-hub'], '--port', String(port), '--config', file];
  if (watch) args.push('--watch');
  const state = join(TMP, 'hub-xdg');
  const proc = startProcess(process.execPath, args, {
    name: 'mcp-hub',
    env: {
      XDG_STATE_HOME: join(state, 'state'),
      XDG_CONFIG_HOME: join(state, 'config'),
      XDG_DATA_HOME: join(state, 'data'),
      XDG_CACHE_HOME: join(state, 'cache'),
    },
  });
  const base = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  if (waitReady) {
    const count = Object.keys(servers).length;
    for (;;) {
      if (proc.exited) throw new Error(`mcp-hub exited; last output:\n${proc.tail()}`);
      if (performance.now() - t0 > timeoutMs) {
        await proc.stop();
        throw new Error(`mcp-hub: servers not all connected within ${timeoutMs} ms`);
      }
      try {
        if (hubAllReady(await hubHealth(base), count)) break;
      } catch {
        /* not listening yet */
      }
      await sleep(10);
    }
  }
  return {
    id: 'mcp-hub',
    pid: proc.pid,
    proc,
    base,
    configFile: file,
    readyMs: performance.now() - t0,
    // Despite its name, mcp-hub's /mcp is the legacy HTTP+SSE transport (GET /mcp, POST /messages).
    fronts: { sse: { kind: 'sse', url: `${base}/mcp` } },
    tool: `${Object.keys(servers)[0]}__echo`,
    command: `mcp-hub --port <port> --config hub.json${watch ? ' --watch' : ''}`,
    stop: () => proc.stop(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// mcproxy, through its CLI contract. Not available until dist/main.js exists and starts.

export const mcproxyBuilt = () => existsSync(MCPROXY_MAIN);

/**
 * The node flags of dist/main.js's shebang (`#!/usr/bin/env -S node --flag…`): the `mcproxy` bin runs with them,
 * so the bench starts `node <flags> dist/main.js` as the bin would.
 */
export function mcproxyNodeFlags() {
  try {
    const first = readFileSync(MCPROXY_MAIN, 'utf8').split('\n', 1)[0];
    const m = /^#!\S*env\s+-S\s+node\s+(.*)$/.exec(first);
    return m ? m[1].trim().split(/\s+/) : [];
  } catch {
    return [];
  }
}

export function writeMcproxyConfig(
  servers,
  file = join(TMP, `mcproxy-${Date.now()}-${Math.random().toString(36).slice(2, 7)}.json`),
  extra = {},
) {
  const out = {};
  for (const [name, s] of Object.entries(servers))
    out[name] = { command: s.command, args: s.args, ...(s.env ? { env: s.env } : {}) };
  writeFileSync(file, JSON.stringify({ ...extra, servers: out }, null, 2));
  return file;
}

/** Parse mcproxy's /health into { total, ready } whatever its exact shape (object or array of servers). */
export function mcproxyReadiness(h) {
  const raw = h?.servers;
  const list = Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? Object.values(raw) : [];
  const isReady = (s) =>
    ['ready', 'connected', 'running', 'up'].includes(String(s?.state ?? s?.status ?? '').toLowerCase());
  return { total: list.length, ready: list.filter(isReady).length };
}

export async function mcproxyHealth(base) {
  const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) });
  return res.json();
}

/** Poll /health until `count` servers are ready; resolves with elapsed ms since `t0` (performance.now()). */
export async function waitMcproxyReady(
  base,
  count,
  { t0 = performance.now(), timeoutMs = 60000, proc, intervalMs = 10 } = {},
) {
  for (;;) {
    if (proc?.exited) throw new Error(`mcproxy exited; last output:\n${proc.tail()}`);
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`mcproxy: ${count} servers not ready within ${timeoutMs} ms`);
    try {
      const r = mcproxyReadiness(await mcproxyHealth(base));
      if (r.ready >= count) return performance.now() - t0;
    } catch {
      /* not yet */
    }
    await sleep(intervalMs);
  }
}

export async function startMcproxy(
  servers,
  { jsonResponse = false, extraArgs = [], configFile, waitReady = true, timeoutMs = 60000, wrap = [] } = {},
) {
  if (!mcproxyBuilt()) throw new Error('not available: dist/main.js does not exist (gateway not built yet)');
  const file = configFile ?? writeMcproxyConfig(servers);
  const args = [
    ...mcproxyNodeFlags(),
    MCPROXY_MAIN,
    '--config',
    file,
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--log',
    ...(jsonResponse ? ['--json-response'] : []),
    ...extraArgs,
  ];
  const t0 = performance.now();
  // `wrap`: a command the gateway runs under (valgrind for the instruction counts); its pid is the gateway's.
  const proc = wrap.length
    ? startProcess(wrap[0], [...wrap.slice(1), process.execPath, ...args], { name: 'mcproxy' })
    : startProcess(process.execPath, args, { name: 'mcproxy' });
  let base;
  try {
    const m = await proc.waitForLine(/listening on (http:\/\/[^\s/]+)/, timeoutMs);
    base = m[1];
    if (waitReady) await waitMcproxyReady(base, Object.keys(servers).length, { t0, timeoutMs, proc });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const first = Object.keys(servers)[0];
  return {
    id: `mcproxy${jsonResponse ? '-json' : ''}`,
    pid: proc.pid,
    proc,
    base,
    configFile: file,
    readyMs: performance.now() - t0,
    fronts: { mcp: { kind: 'http', url: `${base}/mcp` }, sse: { kind: 'sse', url: `${base}/sse` } },
    tool: `${first}__echo`,
    command: `node dist/main.js --config mcproxy.json --port 0 --host 127.0.0.1 --log${jsonResponse ? ' --json-response' : ''}`,
    stop: () => proc.stop(),
  };
}

/** mcproxy with a stdio front: the client spawns it (children of the gateway are its servers). */
export function mcproxyStdioSpec(servers, configFile = writeMcproxyConfig(servers)) {
  if (!mcproxyBuilt()) throw new Error('not available: dist/main.js does not exist (gateway not built yet)');
  return {
    kind: 'stdio',
    command: process.execPath,
    args: [...mcproxyNodeFlags(), MCPROXY_MAIN, '--stdio', '--config', configFile],
  };
}
