// The rows of the latency and throughput tables: which process serves them and how a client reaches it.
import * as G from './gateways.mjs';
import { PIPE_RELAY } from './paths.mjs';
import { everythingStdio, serverSet } from './servers.mjs';

const ONE = () => serverSet(1); // { everything: server-everything over stdio }

/** Processes a row may need, started once per scenario and shared by the rows that use them. */
export const STARTERS = {
  'everything-http': { peer: null, start: () => G.startEverythingHttp('streamableHttp') },
  'everything-sse': { peer: null, start: () => G.startEverythingHttp('sse') },
  'http-pipe-relay': { peer: null, start: () => G.startHttpPipeRelay() },
  mcproxy: { mcproxy: true, start: () => G.startMcproxy(ONE()) },
  'mcproxy-json': { mcproxy: true, start: () => G.startMcproxy(ONE(), { jsonResponse: true }) },
  'supergateway-sse': { peer: 'supergateway', start: () => G.startSupergateway('sse') },
  'supergateway-http': { peer: 'supergateway', start: () => G.startSupergateway('streamableHttp') },
  'supergateway-http-stateful': {
    peer: 'supergateway',
    start: () => G.startSupergateway('streamableHttp', { stateful: true }),
  },
  'mcp-proxy': { peer: 'mcp-proxy', start: () => G.startMcpProxy() },
  'mcp-hub': { peer: 'mcp-hub', start: () => G.startMcpHub(ONE()) },
};

/**
 * Rows. `gateway` names a STARTERS entry and `front` one of its fronts; `stdio` rows spawn their own process
 * through the client. `slow` rows get a handful of calls only; `concurrency: false` rows are skipped in the
 * throughput table.
 */
export const ROWS = [
  {
    id: 'direct-stdio',
    group: 'limit',
    label: 'SDK client → server-everything, stdio (**the limit**)',
    stdio: () => ({ kind: 'stdio', ...everythingStdio() }),
    tool: 'echo',
    concurrency: 'one',
  },
  {
    id: 'pipe-relay-stdio',
    group: 'reference',
    label: 'SDK client → trivial relay (pipes bytes, parses nothing) → server-everything, stdio (**the floor**)',
    stdio: () => {
      const e = everythingStdio();
      return { kind: 'stdio', command: process.execPath, args: [PIPE_RELAY, e.command, ...e.args] };
    },
    tool: 'echo',
    concurrency: 'one',
  },
  {
    id: 'http-pipe-relay',
    group: 'reference',
    label:
      'SDK client → trivial HTTP relay (POST body to stdin, next answer as one SSE event) → server-everything, stdio (**the HTTP floor**)',
    gateway: 'http-pipe-relay',
    front: 'mcp',
    concurrency: 'one',
  },
  {
    id: 'everything-http',
    group: 'reference',
    label: 'server-everything’s own Streamable HTTP (reference)',
    gateway: 'everything-http',
    front: 'mcp',
  },
  {
    id: 'everything-sse',
    group: 'reference',
    label: 'server-everything’s own legacy SSE (reference)',
    gateway: 'everything-sse',
    front: 'sse',
  },
  {
    id: 'mcproxy-stdio',
    group: 'mcproxy',
    label: 'mcproxy, stdio front',
    stdio: () => G.mcproxyStdioSpec(ONE()),
    tool: 'everything__echo',
    mcproxy: true,
    concurrency: 'one',
  },
  {
    id: 'mcproxy-mcp-sse',
    group: 'mcproxy',
    label: 'mcproxy, /mcp (default: a quick answer as JSON to a client that prefers it, else SSE)',
    gateway: 'mcproxy',
    front: 'mcp',
  },
  {
    id: 'mcproxy-mcp-json',
    group: 'mcproxy',
    label: 'mcproxy, /mcp (JSON responses, `--json-response`)',
    gateway: 'mcproxy-json',
    front: 'mcp',
  },
  { id: 'mcproxy-sse', group: 'mcproxy', label: 'mcproxy, /sse (legacy SSE)', gateway: 'mcproxy', front: 'sse' },
  {
    id: 'supergateway-sse',
    group: 'peer',
    label: 'supergateway 4.0.0, stdio→SSE',
    gateway: 'supergateway-sse',
    front: 'sse',
  },
  {
    id: 'supergateway-http-stateful',
    group: 'peer',
    label: 'supergateway, stdio→Streamable HTTP `--stateful`',
    gateway: 'supergateway-http-stateful',
    front: 'mcp',
  },
  {
    id: 'supergateway-http',
    group: 'peer',
    label: 'supergateway, stdio→Streamable HTTP (default, stateless)',
    gateway: 'supergateway-http',
    front: 'mcp',
    slow: true,
    concurrency: false,
  },
  {
    id: 'mcp-proxy-mcp',
    group: 'peer',
    label: 'mcp-proxy, /mcp (Streamable HTTP)',
    gateway: 'mcp-proxy',
    front: 'mcp',
  },
  { id: 'mcp-proxy-sse', group: 'peer', label: 'mcp-proxy, /sse (legacy SSE)', gateway: 'mcp-proxy', front: 'sse' },
  { id: 'mcp-hub', group: 'peer', label: 'mcp-hub, /mcp (legacy SSE)', gateway: 'mcp-hub', front: 'sse' },
];

/** Starts gateways on demand, remembers failures, stops everything at the end. */
export class GatewayPool {
  constructor(log) {
    this.log = log;
    this.handles = new Map();
    this.failures = new Map();
  }
  /** Start several gateways at once (their start-up is mostly waiting on child processes). */
  async startAll(keys) {
    await Promise.all([...new Set(keys)].map((k) => this.get(k).catch(() => {})));
  }
  async get(key) {
    if (this.handles.has(key)) return this.handles.get(key);
    if (this.failures.has(key)) throw new Error(this.failures.get(key));
    if (this.pending?.has(key)) return this.pending.get(key);
    this.pending ??= new Map();
    const p = this._start(key).finally(() => this.pending.delete(key));
    this.pending.set(key, p);
    return p;
  }
  async _start(key) {
    const st = STARTERS[key];
    if (st.mcproxy && !G.mcproxyBuilt()) {
      this.failures.set(key, 'not available: dist/main.js does not exist yet');
      throw new Error(this.failures.get(key));
    }
    if (st.peer && !G.peerAvailable(st.peer)) {
      this.failures.set(key, `not available: ${st.peer} is not installed in bench/.peers`);
      throw new Error(this.failures.get(key));
    }
    try {
      const h = await st.start();
      this.handles.set(key, h);
      return h;
    } catch (err) {
      const msg = `${st.mcproxy ? 'not available' : 'failed to start'}: ${firstLine(err.message)}`;
      this.log(`  ${key}: ${err.message}`);
      this.failures.set(key, msg);
      throw new Error(msg);
    }
  }
  async stopAll() {
    await Promise.all([...this.handles.values()].map((h) => h.stop()));
    this.handles.clear();
  }
}

export const firstLine = (s) => String(s).split('\n')[0].slice(0, 160);

/** Resolve a row to { spec, tool } (starting its gateway if needed). */
export async function rowClientSpec(row, pool) {
  if (row.stdio) {
    if (row.mcproxy && !G.mcproxyBuilt()) throw new Error('not available: dist/main.js does not exist yet');
    return { spec: row.stdio(), tool: row.tool };
  }
  const g = await pool.get(row.gateway);
  return { spec: g.fronts[row.front], tool: g.tool, gateway: g };
}
