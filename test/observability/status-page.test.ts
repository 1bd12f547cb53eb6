import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createMetrics } from '../../src/observability/metrics.js';
import { metricsRoute, statusPageRoute } from '../../src/observability/routes.js';
import { type HealthReport, renderStatusPage } from '../../src/observability/status-page.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.resolve('test-output/status-page.png');

let report: HealthReport = {
  status: 'degraded',
  version: '0.1.0',
  sessions: 2,
  uptimeSeconds: 93_784,
  servers: {
    playwright: {
      state: 'ready',
      transport: 'stdio',
      scope: 'shared',
      instanceCount: 1,
      pid: 41_213,
      restarts: 0,
      toolCount: 21,
      uptimeSeconds: 93_700,
    },
    wikipedia: {
      state: 'ready',
      transport: 'stdio',
      scope: 'shared',
      instanceCount: 1,
      pid: 41_220,
      restarts: 2,
      toolCount: 9,
      uptimeSeconds: 3_725,
    },
    memory: { state: 'starting', transport: 'stdio', scope: 'shared', instanceCount: 1, restarts: 0, toolCount: 0 },
    perplexity: {
      state: 'failed',
      transport: 'stdio',
      scope: 'shared',
      instanceCount: 0,
      restarts: 3,
      toolCount: 0,
      lastError: "Server 'perplexity' exited with code 1: PERPLEXITY_API_KEY is not set",
    },
    search: {
      state: 'ready',
      transport: 'http',
      scope: 'session',
      instanceCount: 1,
      restarts: 0,
      toolCount: 4,
      uptimeSeconds: 51,
    },
    notes: { state: 'idle', transport: 'sse', scope: 'session', instanceCount: 0, restarts: 0, toolCount: 6 },
  },
};
let healthBroken = false;
const metrics = createMetrics({ defaultMetrics: false });

let server: http.Server;
let baseUrl: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run scripts/install-ci-deps.sh (apt-get install -y chromium)`);
  }
  // The gateway's routes as it mounts them (the page with its Content-Security-Policy), plus a fake /health.
  const routes = [statusPageRoute({ refreshSeconds: 0.2 }), metricsRoute(metrics)];
  server = http.createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      for (const route of routes) if (await route(request, response, url)) return;
      if (url.pathname === '/health' && !healthBroken) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(report));
      } else {
        response.writeHead(healthBroken ? 502 : 404).end('no');
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

describe('status page in headless Chromium', () => {
  it('shows every server with its state, tools, restarts and last error', async () => {
    const failedRequests: string[] = [];
    const consoleErrors: string[] = [];
    page.on('requestfailed', (request) => failedRequests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await page.goto(baseUrl);
    await expect.poll(() => page.locator('tr[data-server]').count()).toBe(6);

    for (const [name, health] of Object.entries(report.servers)) {
      const row = page.locator(`tr[data-server="${name}"]`);
      expect(await row.isVisible(), name).toBe(true);
      const cells = await row.locator('td').allInnerTexts();
      expect(cells[0]).toBe(name);
      expect(cells[1]?.toLowerCase()).toBe(health.state);
      expect(cells[2]).toBe(health.transport);
      expect(cells[3]).toBe(String(health.toolCount));
      expect(cells[4]).toBe(String(health.restarts));
      const count = health.instanceCount === 1 ? '1 instance' : `${health.instanceCount} instances`;
      const scope = health.scope === 'shared' ? 'shared' : `${health.scope} · ${count}`;
      expect(cells[7]).toBe(scope);
    }
    const error = page.locator('tr[data-error-for="perplexity"]');
    expect(await error.isVisible()).toBe(true);
    expect(await error.innerText()).toContain('PERPLEXITY_API_KEY is not set');
    expect((await page.locator('#status').innerText()).toLowerCase()).toBe('degraded');
    expect(await page.locator('#s-tools').innerText()).toContain('40');
    expect(await page.locator('#s-ready').innerText()).toContain('3 / 6');
    expect(await page.locator('#s-uptime').innerText()).toContain('1d 2h');
    expect(await page.locator('tr[data-server="wikipedia"] td').nth(5).innerText()).toBe('1h 02m');
    expect(failedRequests).toEqual([]);
    expect(consoleErrors).toEqual([]); // A CSP violation would show here.

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });

  it('refreshes by itself when a server changes state', async () => {
    report = {
      ...report,
      status: 'ok',
      servers: {
        ...report.servers,
        memory: {
          state: 'ready',
          transport: 'stdio',
          scope: 'shared',
          instanceCount: 1,
          pid: 41_300,
          restarts: 1,
          toolCount: 9,
          uptimeSeconds: 2,
        },
      },
    };
    await expect.poll(() => page.locator('tr[data-server="memory"]').getAttribute('data-state')).toBe('ready');
    expect(await page.locator('tr[data-server="memory"] td').nth(4).innerText()).toBe('1');
    expect((await page.locator('#status').innerText()).toLowerCase()).toBe('ok');
  });

  it('says so when the gateway stops answering, and keeps the last known servers', async () => {
    healthBroken = true;
    await expect.poll(async () => (await page.locator('#status').innerText()).toLowerCase()).toBe('unreachable');
    expect(await page.locator('#updated').innerText()).toContain('Gateway unreachable');
    expect(await page.locator('tr[data-server]').count()).toBe(6);
    healthBroken = false;
    await expect.poll(async () => (await page.locator('#status').innerText()).toLowerCase()).toBe('ok');
  });

  it('links to /metrics, which the metrics route serves', async () => {
    metrics.toolCall('playwright', 'browser_navigate', 'ok', 0.3);
    const response = await page.request.get(new URL('metrics', baseUrl).href);
    expect(response.headers()['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await response.text()).toContain(
      'mcproxy_tool_calls_total{server="playwright",tool="browser_navigate",outcome="ok"} 1',
    );
    expect(await page.locator('footer a[href="metrics"]').isVisible()).toBe(true);
  });

  it('needs nothing but itself: no external URLs', () => {
    const html = renderStatusPage();
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/@import|url\(/);
  });
});
