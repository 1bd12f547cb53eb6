import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { collectLines } from '../helpers/lines.js';
import { GATEWAY_MAIN, REPO_ROOT } from '../helpers/paths.js';
import { waitForExit } from '../helpers/processes.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  ACCESS_ENV,
  bearer,
  expectNoSecrets,
  householdConfig,
  INITIALIZE,
  rawRequest,
  SECRETS,
  TOKENS,
} from './access-helpers.js';

const run = promisify(execFile);

let dir: TempDir;
let child: ChildProcess;
let url: string;
let ca: Buffer;
const lines: string[] = [];

beforeAll(async () => {
  dir = await createTempDir();
  // A self-signed certificate for this test only, valid for the loopback address the gateway binds.
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-days',
    '1',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    dir.resolve('key.pem'),
    '-out',
    dir.resolve('cert.pem'),
  ]);
  ca = await readFile(dir.resolve('cert.pem'));
  // Relative paths: found beside the config file, whatever the gateway's working directory.
  const configPath = await dir.write('tls.json', householdConfig({ tls: { cert: 'cert.pem', key: 'key.pem' } }));
  // startGatewayProcess waits for an http:// URL; this one announces https://.
  child = spawn(
    process.execPath,
    [GATEWAY_MAIN, '--config', configPath, '--port', '0', '--host', '127.0.0.1', '--log', '--log-level', 'debug'],
    { cwd: REPO_ROOT, env: { ...process.env, ...ACCESS_ENV }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  collectLines(child.stdout, lines);
  collectLines(child.stderr, lines);
  url = await waitFor(() => lines.map((line) => /listening on (https:\/\/\S+)/.exec(line)?.[1]).find(Boolean), {
    message: () => `the https listening line\n${lines.join('\n')}`,
  });
  await waitFor(async () => (await rawRequest(`${url}/ready`, { ca })).status === 200, { message: 'ready' });
});

afterAll(async () => {
  if (child?.pid) {
    child.kill('SIGTERM');
    await waitForExit(child.pid, { timeoutMs: 10_000 });
  }
  expectNoSecrets(lines);
  await dir?.[Symbol.asyncDispose]();
});

describe('TLS', () => {
  it('serves HTTPS with the configured certificate, credentials and all', async () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await rawRequest(`${url}/health`, { ca })).status).toBe(200);
    expect((await rawRequest(`${url}/ns/crypto/mcp`, { body: INITIALIZE, ca })).status).toBe(401);
    const opened = await rawRequest(`${url}/ns/crypto/mcp`, {
      body: INITIALIZE,
      ca,
      headers: bearer(TOKENS.BOB_TOKEN),
    });
    expect(opened.status).toBe(200);
    await expect(rawRequest(`${url}/health`)).rejects.toThrow(/self[- ]signed/);
  });

  it('curl --cacert reaches it', async () => {
    const { stdout } = await run('curl', ['-sS', '--cacert', dir.resolve('cert.pem'), `${url}/health`]);
    expect(JSON.parse(stdout)).toMatchObject({ status: expect.any(String) });
  });

  it('the SDK client lists and calls tools over HTTPS, trusting the CA through NODE_EXTRA_CA_CERTS', async () => {
    const script = `
      import { Client } from '@modelcontextprotocol/sdk/client/index.js';
      import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
      const client = new Client({ name: 'tls-test', version: '0' });
      const headers = { authorization: 'Bearer ' + process.env.BOB_TOKEN };
      await client.connect(new StreamableHTTPClientTransport(new URL(process.env.GATEWAY_URL), { requestInit: { headers } }));
      const { tools } = await client.listTools();
      const echoed = await client.callTool({ name: 'covalent__echo', arguments: { message: 'over tls' } });
      process.stdout.write(JSON.stringify({ tools: tools.map((t) => t.name), text: echoed.content[0].text }));
      await client.close();`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: dir.resolve('cert.pem'),
        GATEWAY_URL: `${url}/ns/crypto/mcp`,
        BOB_TOKEN: TOKENS.BOB_TOKEN,
      },
      timeout: 30_000,
    });
    const answer = JSON.parse(stdout) as { tools: string[]; text: string };
    expect(answer.tools).toContain('covalent__echo');
    expect(answer.text).toBe('over tls');
    for (const secret of SECRETS) expect(stdout).not.toContain(secret);
  });
});
