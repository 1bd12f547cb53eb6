// Fair shares of Code Mode's sandbox (issue 11): one anonymous client starts 18 executions that spin forever;
// another client's `return 1` must still answer at once. A gateway of its own in code mode, so that the spinners
// share the machine with nothing else of the suite.
import { setMaxListeners } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { startGateway } from './gateway.mjs';

const SPINNERS = 18;
/** Longer than any wait here: a spinner is ended by the client, not by the sandbox's timeout. */
const SANDBOX_TIMEOUT_S = 60;
const BUSY_WAIT_MS = 20_000;

/**
 * @returns {Promise<{ spinners: number, busy: number, answered: boolean, tookMs: number }>} how many spinners
 *   were refused as Busy at once, and how long the other client's `return 1` took beside the rest.
 */
export async function runSandboxShares(dir, fixtures) {
  const configPath = join(dir, 'code-mode.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      mode: 'code',
      mcpServers: { ok: { command: process.execPath, args: [join(fixtures, 'ok.mjs')] } },
      sandbox: { timeout_secs: SANDBOX_TIMEOUT_S },
    }),
  );
  const gateway = await startGateway(configPath);
  const clients = [];
  const connect = async (name) => {
    const client = new Client({ name, version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
    clients.push(client);
    return client;
  };
  const controller = new AbortController();
  // One signal ends every spinner: each call adds its listener.
  setMaxListeners(SPINNERS + 1, controller.signal);
  const execute = (client, code, signal) =>
    client
      .callTool({ name: 'execute', arguments: { code } }, undefined, {
        timeout: 120_000,
        ...(signal ? { signal } : {}),
      })
      .then((result) => result.structuredContent);
  let spinners = [];
  try {
    const [spinner, other] = await Promise.all([connect('spinner'), connect('other')]);
    const answers = [];
    spinners = Array.from({ length: SPINNERS }, () =>
      execute(spinner, 'for (;;) {}', controller.signal)
        .then((answer) => answers.push(answer))
        .catch(() => {}),
    );
    // The client's share is one running and four waiting: the rest are refused at once.
    const deadline = Date.now() + BUSY_WAIT_MS;
    while (answers.length < SPINNERS - 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const busy = answers.filter((answer) => answer?.error?.type === 'Busy').length;
    const started = performance.now();
    const answer = await execute(other, 'return 1');
    const tookMs = performance.now() - started;
    return { spinners: SPINNERS, busy, answered: answer?.ok === true && answer.result === 1, tookMs };
  } finally {
    controller.abort();
    await Promise.all(spinners);
    await Promise.allSettled(clients.map((client) => client.close()));
    await gateway.stop();
  }
}
