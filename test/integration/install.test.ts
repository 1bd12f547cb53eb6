import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freePort } from '../helpers/everything-http.js';
import { collectLines } from '../helpers/lines.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

// A real CLI install (issue 16): the project is packed from a copy with no dist/ (as a fresh clone is), the
// tarball installed into an empty folder outside the repository with no dev dependencies, and a new user's
// first steps run there: init, check --start, the gateway, a client calling a tool. The servers come from the
// npm registry through npx, as they would on any machine.

const run = promisify(execFile);
const STEP_TIMEOUT_MS = 240_000;

let work: TempDir;
let tarball: string;
let prefix: string;
let env: NodeJS.ProcessEnv;

/** The files a fresh clone has: tracked and new ones, without ignored ones (node_modules, dist). */
function copySources(target: string): void {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: REPO_ROOT })
    .toString('utf8')
    .split('\0')
    .filter((file) => file !== '');
  for (const file of files) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    try {
      copyFileSync(join(REPO_ROOT, file), join(target, file));
    } catch (error) {
      // A file deleted in the working tree but still tracked.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  // Only the build (prepack) needs the dev tools; the tarball never contains node_modules.
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(target, 'node_modules'));
}

beforeAll(async () => {
  work = await createTempDir('mcproxy-install-');
  const clone = join(work.path, 'clone');
  copySources(clone);
  await run('npm', ['pack', '--pack-destination', work.path, '--silent'], {
    cwd: clone,
    timeout: STEP_TIMEOUT_MS,
  });
  tarball = join(
    work.path,
    readdirSync(work.path).find((file) => file.endsWith('.tgz'))!,
  );
  prefix = join(work.path, 'global');
  // Only the user's PATH and HOME (npm's cache) and npm's own settings: nothing of the test's environment leaks
  // in. --prefix would also move npm's global config (where a machine keeps its registry's CA, say): keep it.
  const globalconfig = execFileSync('npm', ['config', 'get', 'globalconfig'], { encoding: 'utf8' }).trim();
  env = {
    PATH: `${join(prefix, 'bin')}:${process.env.PATH}`,
    HOME: process.env.HOME,
    npm_config_globalconfig: globalconfig,
    // The headers native modules build against, when CI runs this on another Node than the system's.
    ...(process.env.npm_config_nodedir ? { npm_config_nodedir: process.env.npm_config_nodedir } : {}),
  };
  await run('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', tarball], {
    timeout: STEP_TIMEOUT_MS,
    env,
  });
}, STEP_TIMEOUT_MS * 2);

afterAll(async () => {
  await work?.[Symbol.asyncDispose]();
});

describe('installed from the packed tarball', () => {
  it('ships dist/, the example config and its schema, and no tests or sources', () => {
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    expect(listing).toContain('package/dist/main.js');
    expect(listing).toContain('package/config/mcp-servers.example.json');
    expect(listing).toContain('package/config/mcp-servers.schema.json');
    expect(listing.filter((file) => /\.test\.|^package\/(src|test)\//.test(file))).toEqual([]);
    const installed = readdirSync(join(prefix, 'lib', 'node_modules', 'mcproxy', 'node_modules'));
    expect(installed).not.toContain('vitest');
    expect(installed).not.toContain('@modelcontextprotocol/server-everything');
  });

  it(
    'init, check --start and the gateway work in an empty folder, and a client calls a tool',
    { timeout: STEP_TIMEOUT_MS * 2 },
    async () => {
      const home = join(work.path, 'home');
      mkdirSync(home);
      const port = await freePort();
      const mcproxy = (...args: string[]) =>
        run('mcproxy', args, { cwd: home, env, timeout: STEP_TIMEOUT_MS }).then(({ stdout }) => stdout);

      expect(await mcproxy('init', '--port', String(port))).toContain(join(home, 'mcp-servers.json'));
      const checked = await mcproxy('check', '--start');
      expect(checked).toContain('OK: 4 servers (everything, memory, filesystem, sequential-thinking)');
      expect(checked).toMatch(/^everything: \d+ tools$/m);
      expect(checked).toMatch(/^sequential-thinking: 1 tool$/m);

      const gateway = spawn('mcproxy', ['--port', String(port)], { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise((resolve) => gateway.once('exit', resolve));
      const stderr: string[] = [];
      collectLines(gateway.stderr, stderr);
      try {
        await waitFor(() => stderr.some((line) => line.includes('Gateway ready: 4 of 4 servers')), {
          timeoutMs: STEP_TIMEOUT_MS,
          message: () => `the gateway ready; stderr:\n${stderr.join('\n')}`,
        });
        // The snippet init wrote is what the client uses.
        const snippet = JSON.parse(readFileSync(join(home, 'mcp-client.json'), 'utf8')) as {
          mcpServers: { mcproxy: { url: string } };
        };
        const client = new Client({ name: 'first-user', version: '1.0.0' });
        await client.connect(new StreamableHTTPClientTransport(new URL(snippet.mcpServers.mcproxy.url)));
        const result = (await client.callTool({ name: 'everything__echo', arguments: { message: 'installed' } })) as {
          content: { text: string }[];
        };
        expect(result.content[0]!.text).toBe('Echo: installed');
        const written = (await client.callTool({
          name: 'filesystem__write_file',
          arguments: { path: join(home, 'note.txt'), content: 'from the installed gateway' },
        })) as { isError?: boolean };
        expect(written.isError).toBeFalsy();
        await client.close();
      } finally {
        gateway.kill('SIGTERM');
        await exited;
      }
      expect(readFileSync(join(home, 'note.txt'), 'utf8')).toBe('from the installed gateway');
    },
  );

  it('runs straight from the tarball with npx', { timeout: STEP_TIMEOUT_MS }, async () => {
    // As the README writes it: a path npx reads as a package, not as a command, starts with ./
    const { stdout } = await run('npx', ['--yes', `./${basename(tarball)}`, '--version'], {
      cwd: work.path,
      env,
      timeout: STEP_TIMEOUT_MS,
    });
    expect(stdout).toMatch(/^mcproxy \d+\.\d+\.\d+\n$/);
  });
});
