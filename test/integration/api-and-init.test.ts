import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { bareRpc } from '../helpers/bare-rpc.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';
import { GATEWAY_MAIN, REPO_ROOT } from '../helpers/paths.js';
import { createTempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const run = promisify(execFile);

describe('the README', () => {
  it("runs its embedding example as written, importing 'mcproxy'", async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const example = /## Embedding[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toContain("from 'mcproxy'");
    // Inside the package, 'mcproxy' resolves to this package through its own exports map.
    const dir = join(REPO_ROOT, 'test-output');
    await mkdir(dir, { recursive: true });
    const script = join(dir, 'readme-example.mjs');
    await writeFile(script, example!);
    const { stdout } = await run(process.execPath, [script], { cwd: REPO_ROOT, timeout: 60_000 });
    expect(stdout).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(stdout).toContain('everything__echo');
    expect(stdout).toContain('memory__read_graph');
  });
});

describe('mcproxy init', () => {
  it('writes a starter config and its .env that the gateway then runs, in a fresh directory', async () => {
    await using dir = await createTempDir();
    const { stdout } = await run(process.execPath, [GATEWAY_MAIN, 'init', dir.path], { timeout: 30_000 });
    expect(stdout).toContain('mcp-servers.json');
    expect(await dir.read('.env')).toContain(`MCPROXY_FS_ROOT="${dir.path}"`);
    expect(JSON.parse(await dir.read('mcp-client.json'))).toEqual({
      mcpServers: { mcproxy: { type: 'http', url: 'http://127.0.0.1:12010/mcp' } },
    });
    await expect(run(process.execPath, [GATEWAY_MAIN, 'init', dir.path])).rejects.toThrow(/already exists/);

    // The variables come from the .env beside the config, not from the test's environment.
    await using gateway = await startGatewayProcess({ configPath: dir.resolve('mcp-servers.json') });
    await waitFor(async () => (await fetch(`${gateway.url}/health`)).status === 200, {
      timeoutMs: 30_000,
      message: 'all starter servers ready',
    });
    const answer = await bareRpc(gateway.url, 'tools/call', {
      name: 'everything__echo',
      arguments: { message: 'initialised' },
    });
    expect(JSON.stringify(answer)).toContain('Echo: initialised');
  });
});
