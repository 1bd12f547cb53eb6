// The operator console in headless Chromium, against a real gateway process with real servers.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchChromium } from '../helpers/chromium.js';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { EVERYTHING_MAIN } from '../helpers/real-servers.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const SCREENSHOT = path.resolve('test-output/console.png');
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const READER_TOKEN = 'reader-token-0123456789abcdef';

let dir: TempDir;
let configPath: string;
let config: Record<string, unknown>;
let gateway: GatewayProcess;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

async function api(route: string, token?: string, body?: unknown): Promise<Response> {
  return fetch(`${gateway.url}/console/api/${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function signIn(token: string): Promise<void> {
  if (await page.locator('#signout-button').isVisible()) await page.click('#signout-button');
  await page.locator('#token').fill(token);
  await page.click('#signin-button');
}

function pidOf(server: string): Promise<string | null> {
  return page.locator(`tr[data-server="${server}"] td[data-pid]`).getAttribute('data-pid');
}

beforeAll(async () => {
  dir = await createTempDir();
  config = {
    auth: {
      tokens: [
        { id: 'ops', token: ADMIN_TOKEN, roles: ['admin'] },
        { id: 'viewer', token: READER_TOKEN },
      ],
    },
    mcpServers: {
      everything: { command: process.execPath, args: [EVERYTHING_MAIN, 'stdio'], description: 'The MCP test server' },
      rug: {
        command: process.execPath,
        args: [fixturePath('rug-pull')],
        env: { FIXTURE_STATE_FILE: dir.resolve('rug.starts') },
      },
      lazy: { command: process.execPath, args: [fixturePath('ok')], lazy: true },
    },
  };
  configPath = await dir.write('mcp.json', config);
  gateway = await startGatewayProcess({ configPath });
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready')), { message: 'start-up' });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    // The 401 of the signed-out page is expected; anything else (a CSP violation, a script error) is not.
    if (message.type() === 'error' && !message.text().includes('status of 401')) pageErrors.push(message.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await dir?.[Symbol.asyncDispose]();
});

describe('operator console in headless Chromium', () => {
  it('is refused without a credential where auth is required, and serves its script under a strict CSP', async () => {
    const refused = await api('state');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('Bearer');
    expect((await api('state', 'not-a-valid-token-at-all')).status).toBe(401);

    const response = await page.goto(gateway.url);
    expect(response?.headers()['content-security-policy']).toMatch(/^default-src 'self'/);
    const html = await response!.text();
    expect(html).toContain('<script src="console.js" defer></script>');
    expect(html).not.toMatch(/<script>|<style>|style="|on(click|load)=/);
    await waitFor(async () => (await page.locator('#notice').innerText()).includes('Unauthorized'));
    expect(await page.locator('tr[data-server]').count()).toBe(0);
    expect(await page.locator('#token').isVisible()).toBe(true);
  });

  it('lists servers and tools to a reader, searches them, and calls everything__echo from the try-it form', async () => {
    await signIn(READER_TOKEN);
    await waitFor(async () => (await page.locator('tr[data-server]').count()) === 3, { message: 'three servers' });
    expect(await page.locator('tr[data-server="everything"]').getAttribute('data-state')).toBe('ready');
    expect(await page.locator('tr[data-server="lazy"]').getAttribute('data-state')).toBe('idle');
    expect(await page.locator('#who').innerText()).toBe('viewer (read-only)');
    await waitFor(() => page.locator('li[data-tool="everything__echo"]').isVisible());
    const all = await page.locator('li[data-tool]').count();
    expect(all).toBeGreaterThan(10);

    await page.locator('#search').fill('echo');
    await waitFor(async () => (await page.locator('li[data-tool]').count()) < all);
    const found = await page.locator('li[data-tool]').evaluateAll((items) => items.map((item) => item.textContent));
    expect(found.length).toBeGreaterThan(0);
    for (const text of found) expect(text?.toLowerCase()).toContain('echo');
    await page.locator('#search').fill('sum');
    await waitFor(async () => (await page.locator('li[data-tool]').count()) === 1);
    expect(await page.locator('li[data-tool]').getAttribute('data-tool')).toBe('everything__get-sum');
    await page.locator('#search').fill('echo');

    await page.click('li[data-tool="everything__echo"]');
    expect(await page.locator('#try-tool').innerText()).toBe('everything__echo');
    expect(await page.locator('#try-schema').innerText()).toContain('"message"');
    await page.locator('#try-args').fill('{"message": "hello from the console"}');
    await page.click('#try-call');
    await waitFor(async () => (await page.locator('#try-result').innerText()).includes('Echo: hello from the console'));
    await page.locator('#try-args').fill('{"message": ');
    await page.click('#try-call');
    await waitFor(async () => (await page.locator('#try-result').innerText()).includes('not JSON'));
  });

  it('refuses the actions to a credential without the admin role', async () => {
    const restart = page.locator('tr[data-server="everything"] button[data-action="restart"]');
    expect(await restart.isDisabled()).toBe(true);
    const pid = await pidOf('everything');
    const refused = await api('action', READER_TOKEN, { action: 'restart', server: 'everything' });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toContain('admin role');
    expect((await api('action', undefined, { action: 'restart', server: 'everything' })).status).toBe(401);
    expect((await api('approve', READER_TOKEN, { server: 'rug', tool: 'echo' })).status).toBe(403);
    expect(await pidOf('everything')).toBe(pid);
  });

  it('restarts a server with an admin credential: the pid changes', async () => {
    await signIn(ADMIN_TOKEN);
    await waitFor(async () => (await page.locator('#who').innerText()) === 'ops (admin)', { message: 'admin' });
    const before = await pidOf('everything');
    expect(before).toMatch(/^\d+$/);
    const restart = page.locator('tr[data-server="everything"] button[data-action="restart"]');
    await waitFor(async () => !(await restart.isDisabled()));
    await restart.click();
    await waitFor(
      async () => {
        const after = await pidOf('everything');
        const state = await page.locator('tr[data-server="everything"]').getAttribute('data-state');
        return state === 'ready' && after !== before && /^\d+$/.test(after ?? '');
      },
      { message: 'a new pid' },
    );
    expect(await page.locator('#action-result').innerText()).toContain('Restarted server "everything"');

    // Start and stop a lazy server. A button is clicked once it is enabled: the page ignores a click on a disabled
    // one (as it is while the state that the restart above sent is rendered).
    const lazyButton = async (action: string) => {
      const button = page.locator(`tr[data-server="lazy"] button[data-action="${action}"]`);
      await waitFor(async () => !(await button.isDisabled()), { message: `lazy ${action} enabled` });
      await button.click();
    };
    await lazyButton('start');
    // A server process starting on a loaded machine may take longer than the default wait.
    await waitFor(async () => (await page.locator('tr[data-server="lazy"]').getAttribute('data-state')) === 'ready', {
      timeoutMs: 30_000,
      message: 'the lazy server ready',
    });
    await lazyButton('stop');
    await waitFor(async () => (await page.locator('tr[data-server="lazy"]').getAttribute('data-state')) === 'idle');
  });

  it('flags a tool that changed on restart and lets the admin approve it', async () => {
    await page.click('tr[data-server="rug"] button[data-action="restart"]');
    const card = page.locator('[data-changed-tool="rug/echo"]');
    await waitFor(() => card.isVisible(), { message: 'the changed tool' });
    expect(await card.innerText()).toContain('description changed');
    expect(await card.innerText()).toContain('<IMPORTANT>');
    expect((await page.locator('tr[data-server="rug"]').innerText()).toLowerCase()).toContain('1 changed');
    await card.locator('button[data-approve]').click();
    await waitFor(async () => (await page.locator('[data-changed-tool]').count()) === 0, { message: 'approval' });
  });

  it('shows a rejected reload with its error; the log tail is masked; try-it left no session behind', async () => {
    await dir.write('mcp.json', {
      ...config,
      mcpServers: { ...(config.mcpServers as object), broken: { comand: 'x' } },
    });
    const rejected = page.locator('li[data-reload-outcome="rejected"]');
    await waitFor(() => rejected.first().isVisible(), { message: 'the rejected reload', timeoutMs: 15_000 });
    const text = await rejected.first().innerText();
    expect(text).toContain('mcpServers.broken');
    expect(text).toContain('comand');
    expect(text).not.toContain(ADMIN_TOKEN);
    await dir.write('mcp.json', config);

    // Log tail: masked, and session ids never in full.
    const log = await page.locator('#log').innerText();
    expect(log).toContain('Config reload');
    expect(log).not.toContain(ADMIN_TOKEN);
    expect(log).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);

    expect(await page.locator('#sessions').innerText()).toContain('No client sessions.');

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
