/**
 * JavaScript evaluated inside the guest before the user's code. It is a function expression that the worker
 * calls with four host functions; they stay in this closure and never appear on the guest's global, so the
 * user's code reaches the host only through `api`, `console` and the timers built here, all of which pass
 * JSON strings. The function returns internal helpers (`fire`, `describe`, `serialize`) as handles the
 * worker keeps; user code cannot reach them either.
 *
 * Globals added: `api`, `console`, `ToolError`, `setTimeout`/`clearTimeout`, `fetch` (= `api.fetch`).
 * Globals removed: `SharedArrayBuffer`, `Atomics`, `WebAssembly` (QuickJS has no WebAssembly; deleted anyway).
 * `eval` and `Function` stay: they compile code in the guest's own realm, which holds nothing of the host.
 */
export const GUEST_PRELUDE = String.raw`(function (hostCall, hostLog, timerSet, timerClear) {
  'use strict';
  const g = globalThis;
  // Captured now, so that user code replacing JSON or Promise cannot change how the bridge behaves.
  const parse = JSON.parse;
  const stringify = JSON.stringify;
  const freeze = Object.freeze;

  class ToolError extends Error {
    constructor(message, server, tool, code) {
      super(message);
      this.name = 'ToolError';
      this.server = server;
      this.tool = tool;
      if (code !== undefined) this.code = code;
    }
  }

  function settle(replyJson, callSite) {
    const reply = parse(replyJson);
    if (reply.ok) return reply.value;
    const e = reply.error || {};
    const err = e.name === 'ToolError' ? new ToolError(String(e.message), e.server, e.tool, e.code) : new Error(String(e.message));
    if (e.name !== 'ToolError' && typeof e.name === 'string') err.name = e.name;
    // After an await the user's frames are gone from the stack; the call site keeps the line of the call.
    err.stack = String(err.stack) + callSite;
    throw err;
  }

  async function request(op, payload) {
    const callSite = String(new Error().stack);
    let json;
    try {
      json = stringify(payload);
    } catch (e) {
      throw new TypeError('arguments must be JSON-serialisable: ' + e.message);
    }
    return settle(await hostCall(op, json), callSite);
  }

  function call_tool(server, tool, args) {
    if (typeof server !== 'string' || typeof tool !== 'string') {
      return Promise.reject(new TypeError('api.call_tool(server, tool, args): server and tool must be strings'));
    }
    return request('call_tool', { server: server, tool: tool, args: args === undefined ? {} : args });
  }

  function server(name) {
    if (typeof name !== 'string') throw new TypeError('api.server(name): name must be a string');
    // 'then' stays undefined so that awaiting a proxy does not call a tool named "then".
    return new Proxy(freeze(Object.create(null)), {
      get(_target, prop) {
        if (typeof prop !== 'string' || prop === 'then' || prop === 'toJSON') return undefined;
        return (args) => call_tool(name, prop, args);
      },
    });
  }

  function parallel(calls, options) {
    if (!Array.isArray(calls)) {
      return Promise.reject(new TypeError('api.parallel(calls): calls must be an array of {server, tool, args}'));
    }
    return request('parallel', { calls: calls, concurrency: options && options.concurrency });
  }

  async function fetch(url, init) {
    const i = init || {};
    const r = await request('fetch', { url: String(url), method: i.method, headers: i.headers, body: i.body });
    const body = r.body;
    return freeze({
      ok: r.ok, status: r.status, statusText: r.statusText, url: r.url, headers: r.headers,
      text: async () => body,
      json: async () => parse(body),
    });
  }

  const api = freeze({
    call_tool: call_tool,
    server: server,
    parallel: parallel,
    manifest: () => request('manifest', {}),
    search: (query, options) => request('search', Object.assign({}, options, { query: query == null ? '' : String(query) })),
    fetch: fetch,
  });

  function show(value) {
    if (typeof value === 'string') return value;
    if (value instanceof Error) return value.name + ': ' + value.message;
    try {
      const s = stringify(value);
      return s === undefined ? String(value) : s;
    } catch (_) {
      return String(value);
    }
  }
  const format = (args) => args.map(show).join(' ');
  const console = freeze({
    log: (...a) => hostLog('log', format(a)),
    info: (...a) => hostLog('info', format(a)),
    warn: (...a) => hostLog('warn', format(a)),
    error: (...a) => hostLog('error', format(a)),
    debug: (...a) => hostLog('debug', format(a)),
  });

  const timers = new Map();
  function setTimeout(callback, ms, ...args) {
    if (typeof callback !== 'function') throw new TypeError('setTimeout: callback must be a function');
    const id = timerSet(Number(ms) || 0);
    timers.set(id, () => callback(...args));
    return id;
  }
  function clearTimeout(id) {
    if (timers.delete(id)) timerClear(id);
  }

  function describe(e) {
    try {
      if (e !== null && typeof e === 'object' && 'message' in e) {
        return stringify({
          name: String(e.name === undefined ? 'Error' : e.name),
          message: String(e.message),
          stack: String(e.stack === undefined ? '' : e.stack),
          server: typeof e.server === 'string' ? e.server : undefined,
          tool: typeof e.tool === 'string' ? e.tool : undefined,
        });
      }
      return stringify({ name: 'Error', message: 'Uncaught ' + show(e) });
    } catch (_) {
      return '{"name":"Error","message":"Uncaught exception"}';
    }
  }

  function fire(id) {
    const callback = timers.get(id);
    if (callback === undefined) return undefined;
    timers.delete(id);
    try {
      callback();
      return undefined;
    } catch (e) {
      return describe(e);
    }
  }

  // Counts characters while serialising and gives up early, so a huge value is refused before it is copied.
  const TOO_LARGE = {};
  function serialize(value, budget) {
    let size = 0;
    try {
      const s = stringify(value, function (key, v) {
        size += key.length + 4;
        if (typeof v === 'string') size += v.length;
        if (size > budget) throw TOO_LARGE;
        return v;
      });
      return s === undefined ? 'null' : s;
    } catch (e) {
      if (e === TOO_LARGE) return undefined;
      throw e;
    }
  }

  Object.defineProperty(g, 'api', { value: api, writable: false, enumerable: false, configurable: false });
  g.console = console;
  g.ToolError = ToolError;
  g.setTimeout = setTimeout;
  g.clearTimeout = clearTimeout;
  g.fetch = fetch;
  delete g.SharedArrayBuffer;
  delete g.Atomics;
  delete g.WebAssembly;
  return { fire: fire, describe: describe, serialize: serialize };
})`;
