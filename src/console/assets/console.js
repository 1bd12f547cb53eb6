// The mcproxy operator console. Plain browser JavaScript, no build step: it renders what the gateway pushes
// on /console/api/events (Server-Sent Events read with fetch, so the credential travels in a header) and
// calls the console API for try-it and actions. URLs are relative, so the page works behind a path prefix.
'use strict';

const TOKEN_KEY = 'mcproxy-console-token';
const RECONNECT_MAX_MS = 10_000;
const LOG_LINES = 300;

const view = { state: undefined, catalog: undefined, log: [], tab: 'tools', selected: undefined };
let streamAbort;
let reconnectMs = 500;

const $ = (id) => document.getElementById(id);
function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'className') node.className = value;
    else node[key] = value;
  }
  for (const child of children) if (child !== undefined && child !== null) node.append(child);
  return node;
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

function headers(extra = {}) {
  const value = token();
  return value ? { ...extra, authorization: `Bearer ${value}` } : extra;
}

function duration(seconds) {
  if (seconds === undefined || seconds === null) return '–';
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

function time(ms) {
  return new Date(ms).toLocaleTimeString();
}

function notice(text) {
  $('notice').hidden = !text;
  $('notice').textContent = text ?? '';
}

// Rendering

function renderHeader(state) {
  $('status').textContent = state.gateway.status;
  $('status').className = `pill ${state.gateway.status}`;
  $('version').textContent =
    `v${state.gateway.version} · pinning ${state.gateway.pinning}` + (state.gateway.tracing ? ' · tracing on' : '');
  const signedIn = token() !== '';
  $('who').textContent =
    signedIn || state.viewer.label !== 'anonymous'
      ? `${state.viewer.label}${state.viewer.admin ? ' (admin)' : ' (read-only)'}`
      : 'read-only';
  $('token').hidden = signedIn;
  $('signin-button').hidden = signedIn;
  $('signout-button').hidden = !signedIn;
}

function stat(value, label, alert) {
  return el('li', { className: alert ? 'alert' : '' }, [
    el('b', { textContent: String(value) }),
    el('small', { textContent: label }),
  ]);
}

function renderSummary(state) {
  const servers = state.servers;
  const ready = servers.filter((s) => s.state === 'ready').length;
  const failed = servers.filter((s) => s.state === 'failed').length;
  const tools = servers.reduce((n, s) => n + (s.toolCount || 0), 0);
  $('summary').replaceChildren(
    stat(servers.length, 'servers'),
    stat(`${ready} / ${servers.length}`, 'ready'),
    stat(failed, 'failed', failed > 0),
    stat(tools, 'tools'),
    stat(state.sessions.length, 'sessions'),
    stat(duration((Date.now() - state.gateway.startedAt) / 1000), 'gateway uptime'),
  );
}

function scopeText(server) {
  if (server.scope === 'shared') return 'shared';
  const n = server.instanceCount || 0;
  return `${server.scope} · ${n} ${n === 1 ? 'instance' : 'instances'}`;
}

function renderServers(state) {
  const rows = [];
  for (const server of state.servers) {
    const buttons = server.actions.map((action) =>
      el('button', {
        type: 'button',
        textContent: action.label,
        disabled: !action.allowed,
        title: action.allowed ? '' : 'needs a credential with the admin role',
        dataset: { action: action.id, server: server.name },
      }),
    );
    const changed = server.changedTools?.length
      ? el('span', { className: 'pill changed', textContent: `${server.changedTools.length} changed` })
      : undefined;
    const row = el(
      'tr',
      { className: server.lastError ? 'has-error' : '', dataset: { server: server.name, state: server.state } },
      [
        el('td', { className: 'name', title: server.description ?? '' }, [server.name, ' ', changed]),
        el('td', {}, [el('span', { className: `pill ${server.state}`, textContent: server.state })]),
        el('td', { className: 'mono', textContent: server.transport }),
        el('td', { className: 'mono', textContent: scopeText(server) }),
        el('td', { className: 'num', textContent: String(server.toolCount ?? 0) }),
        el('td', { className: 'num', textContent: String(server.restarts ?? 0) }),
        el('td', { className: 'num', textContent: server.state === 'ready' ? duration(server.uptimeSeconds) : '–' }),
        el('td', {
          className: 'num mono',
          textContent: server.pid ? String(server.pid) : '–',
          dataset: { pid: server.pid ?? '' },
        }),
        el('td', { className: 'actions' }, buttons),
      ],
    );
    rows.push(row);
    if (server.lastError) {
      rows.push(
        el('tr', { className: 'error', dataset: { errorFor: server.name } }, [
          el('td', { colSpan: 9, textContent: `⚠ ${server.lastError}` }),
        ]),
      );
    }
  }
  if (rows.length === 0)
    rows.push(el('tr', {}, [el('td', { colSpan: 9, className: 'empty', textContent: 'No servers configured.' })]));
  $('servers').replaceChildren(...rows);
}

function renderChanged(state) {
  const changed = state.changedTools;
  $('changed-card').hidden = changed.length === 0;
  $('changed').replaceChildren(
    ...changed.map((entry) =>
      el('div', { className: 'changed-tool', dataset: { changedTool: `${entry.server}/${entry.tool}` } }, [
        el('b', { className: 'mono', textContent: `${entry.server}/${entry.tool}` }),
        ' ',
        el('span', {
          className: `pill ${entry.withheld ? 'withheld' : 'changed'}`,
          textContent: entry.withheld ? 'withheld' : 'changed',
        }),
        el('span', {
          className: 'muted',
          textContent: ` ${entry.fields.join(', ')} changed · seen ${new Date(entry.seenAt).toLocaleString()} `,
        }),
        el('button', {
          type: 'button',
          textContent: 'Approve',
          disabled: !state.viewer.admin,
          title: state.viewer.admin ? '' : 'needs a credential with the admin role',
          dataset: { approve: `${entry.server}/${entry.tool}` },
        }),
        el('div', { className: 'diff' }, [
          el('pre', { textContent: `pinned:\n${JSON.stringify(entry.pinned, null, 2)}` }),
          el('pre', { textContent: `now:\n${JSON.stringify(entry.current, null, 2)}` }),
        ]),
      ]),
    ),
  );
}

function matches(query, ...fields) {
  if (!query) return true;
  const text = fields.filter(Boolean).join(' ').toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .every((word) => text.includes(word));
}

function renderCatalog() {
  const catalog = view.catalog;
  if (!catalog) return;
  const query = $('search').value.trim();
  const tools = catalog.tools.filter((t) => matches(query, t.name, t.title, t.description));
  const prompts = catalog.prompts.filter((p) => matches(query, p.name, p.description));
  const resources = [...catalog.resources, ...catalog.templates].filter((r) =>
    matches(query, r.uri ?? r.uriTemplate, r.name, r.description),
  );
  $('count-tools').textContent = String(tools.length);
  $('count-prompts').textContent = String(prompts.length);
  $('count-resources').textContent = String(resources.length);
  for (const button of document.querySelectorAll('.tabs button'))
    button.classList.toggle('active', button.dataset.tab === view.tab);
  let items;
  if (view.tab === 'tools') {
    items = tools.map((tool) =>
      el('li', { className: view.selected === tool.name ? 'selected' : '', dataset: { tool: tool.name } }, [
        el('b', { textContent: tool.name }),
        el('p', { textContent: tool.description ?? '' }),
      ]),
    );
  } else if (view.tab === 'prompts') {
    items = prompts.map((prompt) =>
      el('li', { dataset: { prompt: prompt.name } }, [
        el('b', { textContent: prompt.name }),
        el('p', { textContent: prompt.description ?? '' }),
      ]),
    );
  } else {
    items = resources.map((resource) =>
      el('li', { dataset: { resource: resource.uri ?? resource.uriTemplate } }, [
        el('b', { textContent: resource.uri ?? resource.uriTemplate }),
        el('p', { textContent: [resource.name, resource.mimeType, resource.description].filter(Boolean).join(' · ') }),
      ]),
    );
  }
  if (items.length === 0)
    items = [el('li', { className: 'empty', textContent: query ? 'Nothing matches.' : 'Nothing here.' })];
  $('catalog').replaceChildren(...items);
}

function renderSessions(state) {
  const rows = state.sessions.map((session) =>
    el('tr', { dataset: { session: session.id } }, [
      el('td', { className: 'mono', textContent: session.id }),
      el('td', { className: 'mono', textContent: session.transport }),
      el('td', { textContent: session.credential }),
      el('td', { textContent: session.client ?? '' }),
      el('td', { className: 'num', textContent: duration((Date.now() - session.openedAt) / 1000) }),
      el('td', {
        className: 'mono',
        textContent:
          session.instances.map((i) => `${i.server}: ${i.state}${i.pid ? ` (pid ${i.pid})` : ''}`).join(', ') || '–',
      }),
    ]),
  );
  if (rows.length === 0)
    rows.push(el('tr', {}, [el('td', { colSpan: 6, className: 'empty', textContent: 'No client sessions.' })]));
  $('sessions').replaceChildren(...rows);
}

function renderReloads(state) {
  const items = state.reloads.map((reload) =>
    el('li', { dataset: { reloadOutcome: reload.outcome } }, [
      el('span', { className: `pill ${reload.outcome}`, textContent: reload.outcome }),
      el('span', { className: 'muted', textContent: ` ${time(reload.at)} ` }),
      reload.outcome === 'rejected'
        ? el('pre', { textContent: reload.detail })
        : el('span', { textContent: reload.detail }),
    ]),
  );
  if (items.length === 0)
    items.push(el('li', { className: 'muted', textContent: 'No reloads since the gateway started.' }));
  $('reloads').replaceChildren(...items);
}

function appendLog(entries) {
  view.log.push(...entries);
  if (view.log.length > LOG_LINES) view.log.splice(0, view.log.length - LOG_LINES);
  const box = $('log');
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 20;
  box.replaceChildren(
    ...view.log.map((entry) =>
      el('div', {
        className: entry.level,
        textContent: `${time(entry.time)} ${entry.level.toUpperCase()} ${entry.server ? `[${entry.server}] ` : ''}${entry.msg}`,
      }),
    ),
  );
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function renderState(state) {
  view.state = state;
  renderHeader(state);
  renderSummary(state);
  renderServers(state);
  renderChanged(state);
  renderSessions(state);
  renderReloads(state);
  $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
}

// Try it

function skeleton(schema) {
  const args = {};
  for (const [name, property] of Object.entries(schema?.properties ?? {})) {
    if (!(schema.required ?? []).includes(name)) continue;
    const type = Array.isArray(property.type) ? property.type[0] : property.type;
    args[name] =
      property.default ?? { string: '', number: 0, integer: 0, boolean: false, array: [], object: {} }[type] ?? null;
  }
  return args;
}

function selectTool(name) {
  const tool = view.catalog?.tools.find((t) => t.name === name);
  if (!tool) return;
  view.selected = name;
  $('try-tool').textContent = tool.name;
  $('try-tool').className = 'mono';
  $('try-schema').hidden = false;
  $('try-schema').textContent = JSON.stringify(tool.inputSchema ?? {}, null, 2);
  $('try-args').value = JSON.stringify(skeleton(tool.inputSchema), null, 2);
  $('try-call').disabled = false;
  $('try-result').hidden = true;
  renderCatalog();
}

function showResult(text, failed) {
  $('try-result').hidden = false;
  $('try-result').className = failed ? 'result error' : 'result';
  $('try-result').textContent = text;
}

async function callTool() {
  let args;
  try {
    args = JSON.parse($('try-args').value || '{}');
  } catch (error) {
    return showResult(`The arguments are not JSON: ${error.message}`, true);
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args))
    return showResult('The arguments must be a JSON object.', true);
  $('try-call').disabled = true;
  showResult('Calling…', false);
  try {
    const response = await fetch('console/api/call', {
      method: 'POST',
      headers: headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ tool: view.selected, arguments: args }),
    });
    const answer = await response.json();
    if (answer.error && !answer.jsonrpc) showResult(`Refused (${response.status}): ${answer.error}`, true);
    else if (answer.error) showResult(`Error ${answer.error.code}: ${answer.error.message}`, true);
    else showResult(JSON.stringify(answer.result, null, 2), answer.result?.isError === true);
  } catch (error) {
    showResult(`The call failed: ${error.message}`, true);
  } finally {
    $('try-call').disabled = false;
  }
}

// Actions

async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: headers({ 'content-type': 'application/json' }),
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  return { ok: response.ok, status: response.status, answer };
}

function actionResult(text, failed) {
  $('action-result').hidden = false;
  $('action-result').className = failed ? 'action-result error' : 'action-result';
  $('action-result').textContent = text;
}

async function runAction(action, server, button) {
  button.disabled = true;
  actionResult(`${button.textContent} ${server}…`, false);
  const { ok, status, answer } = await post('console/api/action', { action, server });
  if (ok) {
    actionResult(answer.message, false);
    if (answer.open) window.open(answer.open, '_blank', 'noopener');
  } else {
    actionResult(`Refused (${status}): ${answer.error}`, true);
  }
  button.disabled = false;
}

async function approveTool(key, button) {
  const slash = key.indexOf('/');
  button.disabled = true;
  const { ok, status, answer } = await post('console/api/approve', {
    server: key.slice(0, slash),
    tool: key.slice(slash + 1),
  });
  actionResult(ok ? answer.message : `Refused (${status}): ${answer.error}`, !ok);
  button.disabled = false;
}

// The stream

function handleEvent(event, data) {
  if (event === 'state') renderState(JSON.parse(data));
  else if (event === 'catalog') {
    view.catalog = JSON.parse(data);
    renderCatalog();
  } else if (event === 'log') appendLog(JSON.parse(data));
  else if (event === 'denied') notice(`Signed out: ${JSON.parse(data).message}`);
}

async function connect() {
  streamAbort?.abort();
  const abort = new AbortController();
  streamAbort = abort;
  try {
    const response = await fetch('console/api/events', { headers: headers(), cache: 'no-store', signal: abort.signal });
    if (response.status === 401 || response.status === 403) {
      const answer = await response.json().catch(() => ({}));
      $('status').textContent = 'sign in';
      $('status').className = 'pill';
      $('who').textContent = '';
      $('token').hidden = false;
      $('signin-button').hidden = false;
      $('signout-button').hidden = token() === '';
      notice(`${answer.error ?? 'Unauthorized'}. Sign in with a bearer token to see the gateway.`);
      return;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    notice('');
    reconnectMs = 500;
    view.log = []; // The stream starts with the tail's backlog.
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (data.length > 0) handleEvent(event, data.join('\n'));
      }
    }
  } catch (error) {
    if (abort.signal.aborted) return;
    $('status').textContent = 'unreachable';
    $('status').className = 'pill unreachable';
    $('updated').textContent = `Gateway unreachable since ${new Date().toLocaleTimeString()} (${error.message})`;
  }
  if (abort.signal.aborted) return;
  setTimeout(() => streamAbort === abort && void connect(), reconnectMs);
  reconnectMs = Math.min(RECONNECT_MAX_MS, reconnectMs * 2);
}

// Wiring

$('signin').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = $('token').value.trim();
  if (!value) return;
  sessionStorage.setItem(TOKEN_KEY, value);
  $('token').value = '';
  void connect();
});
$('signout-button').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  void connect();
});
$('search').addEventListener('input', () => renderCatalog());
for (const button of document.querySelectorAll('.tabs button')) {
  button.addEventListener('click', () => {
    view.tab = button.dataset.tab;
    renderCatalog();
  });
}
$('catalog').addEventListener('click', (event) => {
  const item = event.target.closest('li[data-tool]');
  if (item) selectTool(item.dataset.tool);
});
$('try-call').addEventListener('click', () => void callTool());
$('servers').addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  if (button && !button.disabled) void runAction(button.dataset.action, button.dataset.server, button);
});
$('changed').addEventListener('click', (event) => {
  const button = event.target.closest('button[data-approve]');
  if (button && !button.disabled) void approveTool(button.dataset.approve, button);
});
setInterval(() => view.state && renderSummary(view.state), 1000);
void connect();
