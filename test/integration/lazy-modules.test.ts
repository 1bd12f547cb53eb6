// Issue 15: a plain deployment (stdio servers, a JSON config, /mcp, no OAuth, no TLS, no tracing, no Code Mode)
// must not load at start what only other deployments use; each part is loaded when it is first used. The gateway
// runs with a preload that logs every module it loads (ES modules through a load hook, CommonJS through
// Module._load), so a static import that creeps back in fails this test.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

/** Logs the modules of the gateway process only (its servers inherit NODE_OPTIONS too). */
const PRELOAD = `
if (process.argv[1] && process.argv[1].endsWith('main.js')) {
  const fs = require('node:fs');
  const Module = require('node:module');
  const log = process.env.MCPROXY_TEST_MODULE_LOG;
  const hook = "import { appendFileSync } from 'node:fs';" +
    "export async function load(url, context, next) { appendFileSync(" + JSON.stringify(log) + ", url + '\\\\n'); return next(url, context); }";
  Module.register('data:text/javascript,' + encodeURIComponent(hook));
  const load = Module._load;
  Module._load = function (request, parent) {
    try { fs.appendFileSync(log, Module._resolveFilename(request, parent) + '\\n'); } catch {}
    return load.apply(this, arguments);
  };
}
`;

/** What a plain deployment must not have loaded once it is ready, each with what it belongs to. */
const NOT_AT_START: Record<string, RegExp> = {
  'the YAML parser': /\/node_modules\/yaml\//,
  "the SDK's Streamable HTTP transport": /\/sdk\/dist\/esm\/server\/(streamableHttp|webStandardStreamableHttp)\.js/,
  "Hono's Node adapter (Node's fetch with it)": /\/node_modules\/@hono\//,
  "the SDK's legacy SSE transport": /\/sdk\/dist\/esm\/server\/sse\.js/,
  'the CLI commands': /\/dist\/cli\/commands\//,
  'the Code Mode sandbox': /quickjs|\/dist\/codemode\/sandbox/,
  'the OpenTelemetry SDK': /@opentelemetry\/(sdk-trace|exporter-trace)/,
  'the Redis client': /\/node_modules\/@?redis\//,
  'the OAuth libraries': /\/node_modules\/(jose|oauth4webapi|express)\//,
};

let dir: TempDir;
let gateway: GatewayProcess;
let logPath: string;

beforeAll(async () => {
  dir = await createTempDir();
  const preload = await dir.write('log-modules.cjs', PRELOAD);
  logPath = dir.resolve('modules.log');
  const configPath = await dir.write('mcp.json', {
    servers: { ok: { command: process.execPath, args: [fixturePath('ok')] } },
  });
  gateway = await startGatewayProcess({
    configPath,
    env: { NODE_OPTIONS: `--require ${preload}`, MCPROXY_TEST_MODULE_LOG: logPath },
  });
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready')), { message: 'start-up' });
});

afterAll(async () => {
  await gateway?.stop();
  await dir?.[Symbol.asyncDispose]();
});

async function loaded(): Promise<string[]> {
  return (await dir.read('modules.log')).split('\n').filter(Boolean);
}

describe('what a plain deployment loads (issue 15)', () => {
  it('loads none of the parts it does not use at start, and the /mcp transport with the first session', async () => {
    const atStart = await loaded();
    // The log sees the gateway's own modules, so an absence below means something.
    expect(atStart.some((url) => url.endsWith('/dist/gateway.js'))).toBe(true);
    const found = Object.entries(NOT_AT_START)
      .map(([part, pattern]) => [part, atStart.find((url) => pattern.test(url))] as const)
      .filter(([, url]) => url !== undefined);
    expect(found).toEqual([]);

    const client = new Client({ name: 'lazy-modules', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`));
    await client.connect(transport);
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    await transport.terminateSession();
    await client.close();
    expect((await loaded()).some((url) => NOT_AT_START["the SDK's Streamable HTTP transport"]!.test(url))).toBe(true);
  });
});
