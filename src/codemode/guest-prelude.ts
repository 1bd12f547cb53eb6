/**
 * JavaScript evaluated inside the guest before the user's code. It is a function expression that the worker
 * calls with four host functions (and four limits); they stay in this closure and never appear on the guest's global, so the
 * user's code reaches the host only through `api`, `console` and the timers built here, all of which pass
 * JSON strings. The function returns internal helpers (`fire`, `describe`, `serialize`, `truncate`, the state's
 * `setState`/`getState`) as handles the
 * worker keeps; user code cannot reach them either.
 *
 * Globals added: `api`, `console`, `ToolError`, `setTimeout`/`clearTimeout`, `fetch` (= `api.fetch`).
 * Globals removed: `SharedArrayBuffer`, `Atomics`, `WebAssembly` (QuickJS has no WebAssembly; deleted anyway).
 * `eval` and `Function` stay: they compile code in the guest's own realm, which holds nothing of the host.
 */
export const GUEST_PRELUDE = String.raw`(function (hostCall, hostLog, timerSet, timerClear, MAX_NAME, MAX_QUERY, PARALLEL_WIDTH, MAX_ERROR) {
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

  function checkName(what, value) {
    if (typeof value !== 'string') throw new TypeError(what + ' must be a string');
    if (value.length === 0 || value.length > MAX_NAME) {
      throw new RangeError(what + ' must be 1 to ' + MAX_NAME + ' characters (got ' + value.length + ')');
    }
  }

  // call_tool(server, tool, args), or call_tool("server__tool", args) with the name tools/list shows.
  function call_tool(server, tool, args) {
    try {
      if (typeof tool !== 'string' && typeof server === 'string' && server.indexOf('__') > 0) {
        checkName('api.call_tool(name, args): name', server);
        return request('call_tool', { name: server, args: tool === undefined ? {} : tool });
      }
      checkName('api.call_tool(server, tool, args): server', server);
      checkName('api.call_tool(server, tool, args): tool', tool);
    } catch (e) {
      return Promise.reject(e);
    }
    return request('call_tool', { server: server, tool: tool, args: args === undefined ? {} : args });
  }

  function server(name) {
    checkName('api.server(name): name', name);
    // 'then' stays undefined so that awaiting a proxy does not call a tool named "then".
    return new Proxy(freeze(Object.create(null)), {
      get(_target, prop) {
        if (typeof prop !== 'string' || prop === 'then' || prop === 'toJSON') return undefined;
        return (args) => call_tool(name, prop, args);
      },
    });
  }

  function describeFailure(e) {
    const error = { name: 'Error', message: String(e) };
    if (e !== null && typeof e === 'object') {
      error.name = String(e.name === undefined ? 'Error' : e.name);
      error.message = String(e.message);
      if (typeof e.server === 'string') error.server = e.server;
      if (typeof e.tool === 'string') error.tool = e.tool;
    }
    return error;
  }

  // Functions and promises run here, in the guest, a few at a time; plain {server, tool, args} go to the host
  // in one request. Either way the answer is one {ok, value} or {ok, error} per call, in order.
  async function parallelHere(calls, concurrency) {
    const width = Math.max(1, Math.min(PARALLEL_WIDTH, Math.trunc(Number(concurrency)) || PARALLEL_WIDTH));
    const results = new Array(calls.length);
    let next = 0;
    async function lane() {
      while (next < calls.length) {
        const index = next++;
        const item = calls[index];
        try {
          let value;
          if (typeof item === 'function') value = await item();
          else if (item !== null && typeof item === 'object' && typeof item.then === 'function') value = await item;
          else if (item !== null && typeof item === 'object') value = await call_tool(item.server, item.tool, item.args);
          else throw new TypeError('each call must be {server, tool, args}, a function or a promise');
          results[index] = { ok: true, value: value === undefined ? null : value };
        } catch (e) {
          results[index] = { ok: false, error: describeFailure(e) };
        }
      }
    }
    const lanes = [];
    for (let i = 0; i < Math.min(width, calls.length); i++) lanes.push(lane());
    await Promise.all(lanes);
    return results;
  }

  function parallel(calls, options) {
    if (!Array.isArray(calls)) {
      return Promise.reject(new TypeError('api.parallel(calls): calls must be an array of {server, tool, args} or functions'));
    }
    const concurrency = options && options.concurrency;
    const plain = calls.every((c) => c !== null && typeof c === 'object' && typeof c.then !== 'function');
    if (!plain) return parallelHere(calls, concurrency);
    return request('parallel', { calls: calls, concurrency: concurrency });
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

  // The session's store: replaced for each execution, read back when it succeeds.
  let state = {};
  function search(query, options) {
    const text = query == null ? '' : String(query);
    if (text.length > MAX_QUERY) {
      return Promise.reject(new RangeError('api.search(query): at most ' + MAX_QUERY + ' characters (got ' + text.length + ')'));
    }
    return request('search', Object.assign({}, options, { query: text }));
  }
  const api = freeze({
    call_tool: call_tool,
    server: server,
    parallel: parallel,
    manifest: () => request('manifest', {}),
    search: search,
    fetch: fetch,
    get state() {
      return state;
    },
    set state(value) {
      state = value;
    },
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

  // An error travels whole into the answer, where the output limit does not apply: its texts are cut here,
  // before they leave the guest.
  function clip(text, max) {
    return text.length > max ? text.slice(0, max) + '… [' + (text.length - max) + ' characters cut]' : text;
  }

  function describe(e) {
    try {
      if (e !== null && typeof e === 'object' && 'message' in e) {
        return stringify({
          name: clip(String(e.name === undefined ? 'Error' : e.name), MAX_NAME),
          message: clip(String(e.message), MAX_ERROR),
          stack: clip(String(e.stack === undefined ? '' : e.stack), MAX_ERROR),
          server: typeof e.server === 'string' ? clip(e.server, MAX_NAME) : undefined,
          tool: typeof e.tool === 'string' ? clip(e.tool, MAX_NAME) : undefined,
        });
      }
      return stringify({ name: 'Error', message: clip('Uncaught ' + show(e), MAX_ERROR) });
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

  // A copy of the value that fits the budget: long strings shortened, the tails of arrays and objects left
  // out, each cut marked where it happened. Returns the counts as JSON, a newline, then the value as JSON.
  function truncate(value, budget) {
    const cut = { items: 0, keys: 0, characters: 0 };
    let left = budget - 200;
    const seen = new Set();
    function walk(v) {
      if (v !== null && typeof v === 'object' && typeof v.toJSON === 'function') v = v.toJSON();
      if (typeof v === 'string') {
        if (v.length + 2 <= left) {
          left -= v.length + 2;
          return v;
        }
        const keep = Math.max(0, left - 60);
        cut.characters += v.length - keep;
        left -= keep + 60;
        return v.slice(0, keep) + '… [' + (v.length - keep) + ' characters cut]';
      }
      if (v === null || typeof v !== 'object') {
        left -= 8;
        return v;
      }
      if (seen.has(v)) throw new TypeError('cyclic object value');
      seen.add(v);
      let out;
      if (Array.isArray(v)) {
        out = [];
        for (let i = 0; i < v.length; i++) {
          if (left < 80) {
            cut.items += v.length - i;
            out.push('… [' + (v.length - i) + ' more items cut]');
            break;
          }
          const item = walk(v[i]);
          out.push(item === undefined ? null : item);
        }
      } else {
        out = {};
        const keys = Object.keys(v);
        for (let i = 0; i < keys.length; i++) {
          if (left < 80) {
            cut.keys += keys.length - i;
            out['…'] = (keys.length - i) + ' more keys cut';
            break;
          }
          left -= keys[i].length + 4;
          const item = walk(v[keys[i]]);
          if (item !== undefined) out[keys[i]] = item;
        }
      }
      seen.delete(v);
      return out;
    }
    const copy = walk(value);
    return stringify(cut) + '\n' + (copy === undefined ? 'null' : stringify(copy));
  }

  function setState(json) {
    state = json === '' ? {} : parse(json);
  }

  // The store as JSON, or undefined when it is over the budget.
  function getState(budget) {
    return serialize(state === undefined ? null : state, budget);
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
  return { fire: fire, describe: describe, serialize: serialize, truncate: truncate, setState: setState, getState: getState };
})`;
