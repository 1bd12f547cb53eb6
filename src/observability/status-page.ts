import { createHash } from 'node:crypto';

/** The page polls the gateway's `/health`; the report's shape is the gateway's own. */
export type { HealthReport, ServerHealth } from '../gateway.js';

export interface StatusPageOptions {
  /** Seconds between two polls of `/health` (5). */
  refreshSeconds?: number;
  /** Page title and heading (`mcproxy`). */
  title?: string;
  /** URL polled for the report, relative to the page so it works behind a path prefix (`health`). */
  healthUrl?: string;
}

const STYLE = `
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--fg:#1c2330;--muted:#667085;--line:#e4e7ec;
--ok:#12805c;--ok-bg:#e3f6ee;--warn:#a15c07;--warn-bg:#fdf1dc;--bad:#b42318;--bad-bg:#fde8e7;--idle:#475467;--idle-bg:#eef1f5}
@media (prefers-color-scheme:dark){:root{--bg:#0f1318;--card:#171c23;--fg:#e6e9ef;--muted:#98a2b3;--line:#273040;
--ok:#4ade80;--ok-bg:#12301f;--warn:#fbbf24;--warn-bg:#36290c;--bad:#f87171;--bad-bg:#3a1515;--idle:#a4b0c2;--idle-bg:#222a35}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:1100px;margin:0 auto;padding:28px 20px 40px}
header{display:flex;flex-wrap:wrap;align-items:center;gap:12px 18px;margin-bottom:18px}
h1{font-size:22px;margin:0;letter-spacing:-.01em}h1 span{color:var(--muted);font-weight:400}
.summary{display:flex;flex-wrap:wrap;gap:10px;margin:0 0 16px;padding:0;list-style:none}
.summary li{flex:1;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 14px;min-width:120px}
.summary li.alert{background:var(--bad-bg);border-color:transparent;color:var(--bad)}.summary li.alert small{color:inherit}
.summary b{display:block;font-size:20px}.summary small{color:var(--muted)}
.pill{display:inline-flex;align-items:center;gap:6px;border-radius:999px;padding:2px 10px;font-weight:600;font-size:12px;
text-transform:uppercase;letter-spacing:.03em;background:var(--idle-bg);color:var(--idle);white-space:nowrap}
.pill::before{content:"";width:7px;height:7px;border-radius:50%;background:currentColor}
.ok,.ready{background:var(--ok-bg);color:var(--ok)}.degraded,.starting,.restarting,.stopping{background:var(--warn-bg);color:var(--warn)}
.failed,.unreachable{background:var(--bad-bg);color:var(--bad)}
.starting::before,.restarting::before{animation:pulse 1s ease-in-out infinite alternate}@keyframes pulse{to{opacity:.25}}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;overflow:hidden}
table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:10px 14px;border-bottom:1px solid var(--line)}
th{font-size:12px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.04em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}tbody tr:last-child td{border-bottom:0}
td.name{font-weight:600}td.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px;color:var(--muted)}
tr.error td{padding-top:0;color:var(--bad);font-size:13px;font-family:ui-monospace,"DejaVu Sans Mono",monospace;word-break:break-word}
tr.has-error td{border-bottom:0}.empty{padding:28px;text-align:center;color:var(--muted)}
footer{margin-top:14px;color:var(--muted);font-size:12px;display:flex;gap:16px;flex-wrap:wrap}a{color:inherit}
`;

const SCRIPT = `
const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, children = []) => {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
};
function duration(seconds) {
  if (seconds === undefined || seconds === null) return '–';
  const s = Math.floor(seconds), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  if (d) return d + 'd ' + h + 'h';
  if (h) return h + 'h ' + String(m).padStart(2, '0') + 'm';
  if (m) return m + 'm ' + String(s % 60).padStart(2, '0') + 's';
  return s + 's';
}
function scope(s) {
  if (!s.scope || s.scope === 'shared') return s.scope || '';
  const n = s.instanceCount || 0;
  return s.scope + ' · ' + n + (n === 1 ? ' instance' : ' instances');
}
function stat(id, value, label) {
  $(id).replaceChildren(el('b', { textContent: String(value) }), el('small', { textContent: label }));
}
function render(report) {
  const names = Object.keys(report.servers || {}).sort();
  const servers = names.map((name) => [name, report.servers[name]]);
  const ready = servers.filter(([, s]) => s.state === 'ready').length;
  const failed = servers.filter(([, s]) => s.state === 'failed').length;
  $('status').textContent = report.status;
  $('status').className = 'pill ' + report.status;
  stat('s-servers', servers.length, 'servers');
  stat('s-ready', ready + ' / ' + servers.length, 'ready');
  stat('s-failed', failed, 'failed');
  $('s-failed').className = failed ? 'alert' : '';
  stat('s-tools', servers.reduce((n, [, s]) => n + (s.toolCount || 0), 0), 'tools');
  stat('s-uptime', duration(report.uptimeSeconds), 'gateway uptime');
  const rows = [];
  for (const [name, s] of servers) {
    const row = el('tr', { className: s.lastError ? 'has-error' : '' }, [
      el('td', { className: 'name', textContent: name }),
      el('td', {}, [el('span', { className: 'pill state ' + s.state, textContent: s.state })]),
      el('td', { className: 'mono', textContent: s.transport || '' }),
      el('td', { className: 'num', textContent: String(s.toolCount ?? 0) }),
      el('td', { className: 'num', textContent: String(s.restarts ?? 0) }),
      el('td', { className: 'num', textContent: s.state === 'ready' ? duration(s.uptimeSeconds) : '–' }),
      el('td', { className: 'num mono', textContent: s.pid ? String(s.pid) : '–' }),
      el('td', { className: 'mono', textContent: scope(s) }),
    ]);
    row.dataset.server = name;
    row.dataset.state = s.state;
    rows.push(row);
    if (s.lastError) {
      const error = el('tr', { className: 'error' }, [el('td', { colSpan: 8, textContent: '⚠ ' + s.lastError })]);
      error.dataset.errorFor = name;
      rows.push(error);
    }
  }
  if (!rows.length) rows.push(el('tr', {}, [el('td', { colSpan: 8, className: 'empty', textContent: 'No servers configured.' })]));
  $('servers').replaceChildren(...rows);
}
async function poll() {
  try {
    const response = await fetch(HEALTH_URL, { cache: 'no-store', headers: { accept: 'application/json' } });
    const report = await response.json();
    render(report);
    $('updated').textContent = 'Updated ' + new Date().toLocaleTimeString();
  } catch (error) {
    $('status').textContent = 'unreachable';
    $('status').className = 'pill unreachable';
    $('updated').textContent = 'Gateway unreachable since ' + new Date().toLocaleTimeString() + ' (' + error.message + ')';
  } finally {
    setTimeout(poll, REFRESH_MS);
  }
}
poll();
`;

/**
 * The status page: one self-contained HTML document (no external assets, no build step) that polls
 * `/health` and shows each server's state, tools, restarts, uptime and last error.
 *
 * @example
 * if (url.pathname === '/') return new Response(renderStatusPage(), { headers: { 'content-type': 'text/html; charset=utf-8' } });
 */
export function renderStatusPage(options: StatusPageOptions = {}): string {
  const refreshMs = Math.max(100, Math.round((options.refreshSeconds ?? 5) * 1000));
  const title = escapeHtml(options.title ?? 'mcproxy');
  const healthUrl = JSON.stringify(options.healthUrl ?? 'health').replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} status</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header><h1>${title} <span>status</span></h1><span id="status" class="pill">loading</span></header>
<ul class="summary">
<li id="s-servers"></li><li id="s-ready"></li><li id="s-failed"></li><li id="s-tools"></li><li id="s-uptime"></li>
</ul>
<div class="card"><table>
<thead><tr><th>Server</th><th>State</th><th>Transport</th><th class="num">Tools</th><th class="num">Restarts</th>
<th class="num">Uptime</th><th class="num">PID</th><th>Scope</th></tr></thead>
<tbody id="servers"><tr><td colspan="7" class="empty">Loading…</td></tr></tbody>
</table></div>
<footer><span id="updated"></span><span>Refreshes every ${refreshMs / 1000}s</span>
<a href="health">health JSON</a><a href="metrics">Prometheus metrics</a></footer>
</main>
<script>const HEALTH_URL = ${healthUrl}; const REFRESH_MS = ${refreshMs};${SCRIPT}</script>
</body>
</html>
`;
}

/**
 * Response headers for a rendered page: HTML, never cached, and a Content-Security-Policy that allows only
 * the page's own inline script and style (by hash) and fetches to its own origin.
 *
 * @example
 * res.writeHead(200, statusPageHeaders(html)).end(html);
 */
export function statusPageHeaders(html: string): Record<string, string> {
  const hashes = (tag: string) =>
    [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))]
      .map((match) => `'sha256-${createHash('sha256').update(match[1]!).digest('base64')}'`)
      .join(' ');
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy':
      `default-src 'none'; script-src ${hashes('script')}; style-src ${hashes('style')}; ` +
      `connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  };
}

/** The page with its defaults, ready to serve at `/`. */
export const STATUS_PAGE_HTML = renderStatusPage();

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
