import { readFileSync } from 'node:fs';

/**
 * The console's page: a static HTML shell, its stylesheet and its script, served as separate files so that a
 * strict Content-Security-Policy (`default-src 'self'`, no inline code) holds. No build step, no framework:
 * the script is plain JavaScript that renders what `/console/api/events` pushes. The shell holds no data.
 */
export const CONSOLE_CSP =
  "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mcproxy console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="console.css">
<script src="console.js" defer></script>
</head>
<body>
<header>
  <h1>mcproxy <span>console</span></h1>
  <span id="status" class="pill">connecting</span>
  <span id="version" class="muted"></span>
  <form id="signin" class="signin" autocomplete="off">
    <span id="who" class="muted"></span>
    <input id="token" type="password" placeholder="Bearer token" aria-label="Bearer token">
    <button id="signin-button" type="submit">Sign in</button>
    <button id="signout-button" type="button" hidden>Sign out</button>
  </form>
</header>
<main>
  <p id="notice" class="notice" hidden></p>
  <ul class="summary" id="summary"></ul>
  <section class="card">
    <h2>Servers</h2>
    <table>
      <thead><tr><th>Server</th><th>State</th><th>Transport</th><th>Scope</th><th class="num">Tools</th>
      <th class="num">Restarts</th><th class="num">Uptime</th><th class="num">PID</th><th>Actions</th></tr></thead>
      <tbody id="servers"><tr><td colspan="9" class="empty">Loading…</td></tr></tbody>
    </table>
    <p id="action-result" class="action-result" hidden></p>
  </section>
  <section class="card" id="changed-card" hidden>
    <h2>Changed tools <span class="muted">(tool pinning)</span></h2>
    <div id="changed"></div>
  </section>
  <div class="columns">
    <section class="card">
      <h2>Catalog</h2>
      <input id="search" type="search" placeholder="Search tools, prompts and resources" aria-label="Search">
      <div class="tabs" role="tablist">
        <button type="button" data-tab="tools" class="active">Tools <span id="count-tools"></span></button>
        <button type="button" data-tab="prompts">Prompts <span id="count-prompts"></span></button>
        <button type="button" data-tab="resources">Resources <span id="count-resources"></span></button>
      </div>
      <ul id="catalog" class="catalog"></ul>
    </section>
    <section class="card">
      <h2>Try it</h2>
      <p id="try-tool" class="muted">Pick a tool from the catalog.</p>
      <pre id="try-schema" class="schema" hidden></pre>
      <label for="try-args">Arguments (JSON)</label>
      <textarea id="try-args" rows="6" spellcheck="false">{}</textarea>
      <button id="try-call" type="button" disabled>Call</button>
      <pre id="try-result" class="result" hidden></pre>
    </section>
  </div>
  <section class="card">
    <h2>Sessions</h2>
    <table>
      <thead><tr><th>Session</th><th>Transport</th><th>Credential</th><th>Client</th><th class="num">Age</th>
      <th>Own instances</th></tr></thead>
      <tbody id="sessions"></tbody>
    </table>
  </section>
  <div class="columns">
    <section class="card">
      <h2>Reloads</h2>
      <ul id="reloads" class="reloads"></ul>
    </section>
    <section class="card">
      <h2>Log <span class="muted">(secrets masked)</span></h2>
      <pre id="log" class="log"></pre>
    </section>
  </div>
</main>
<footer><span id="updated"></span><a href="health">health JSON</a><a href="metrics">Prometheus metrics</a></footer>
</body>
</html>
`;

const asset = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');

/** The script and stylesheet, read once (they sit beside this module, in src/ and in dist/). */
export const CONSOLE_ASSETS: Record<string, { type: string; body: string }> = {
  '/console.js': { type: 'text/javascript; charset=utf-8', body: asset('console.js') },
  '/console.css': { type: 'text/css; charset=utf-8', body: asset('console.css') },
};
