import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { collectLines } from '../helpers/lines.js';
import { fixturePath, GATEWAY_MAIN, REPO_ROOT } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { type Rsyslog, startRsyslog } from '../observability/helpers/rsyslog.js';

// What a person sees when the log goes to syslog (the default) and stderr is not a terminal (issue 16): the
// URL, fatal errors and config rejections still reach stderr; stdout stays empty; syslog has everything.

interface Run {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

let rsyslog: Rsyslog | undefined;
let dir: TempDir | undefined;
const cleanups: (() => Promise<unknown> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await rsyslog?.stop();
  rsyslog = undefined;
  await dir?.[Symbol.asyncDispose]();
  dir = undefined;
});

async function setUp(): Promise<string> {
  rsyslog = await startRsyslog();
  dir = await createTempDir();
  return dir.write('mcp-servers.json', { servers: { ok: { command: process.execPath, args: [fixturePath('ok')] } } });
}

function start(args: string[]): Run {
  // Not under systemd: a JOURNAL_STREAM inherited from the test's own session would mean "stderr is the journal".
  const env = { ...process.env };
  delete env['JOURNAL_STREAM'];
  const child = spawn(process.execPath, [GATEWAY_MAIN, '--syslog', rsyslog!.socketPath, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Run = {
    child,
    stdout: [],
    stderr: [],
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  collectLines(child.stdout, run.stdout);
  collectLines(child.stderr, run.stderr);
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await run.exited;
  });
  return run;
}

async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { port: (server.address() as { port: number }).port, server };
}

describe('with a syslog socket and no terminal', () => {
  it('a port in use: the error on stderr (and in syslog), exit 1, nothing on stdout', async () => {
    const configPath = await setUp();
    const { port } = await holdPort();
    const run = start(['--config', configPath, '--port', String(port)]);
    expect(await run.exited).toBe(1);
    const stderr = run.stderr.join('\n');
    expect(stderr).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    expect(stderr).not.toContain('syslog delivery failed');
    expect(run.stdout).toEqual([]);
    await waitFor(() => rsyslog!.traditional().includes('EADDRINUSE'), { message: 'the error in syslog too' });
  });

  it('a normal start prints the URL on stderr; a rejected reload reaches stderr too; the rest stays in syslog', async () => {
    const configPath = await setUp();
    const run = start(['--config', configPath, '--port', '0']);
    const url = await waitFor(
      () => run.stderr.map((line) => /listening on (http:\/\/\S+)/.exec(line)?.[1]).find(Boolean),
      {
        timeoutMs: 20_000,
        message: () => `the URL on stderr; stderr so far:\n${run.stderr.join('\n')}`,
      },
    );
    expect((await fetch(`${url}/health`)).status).toBeLessThan(600);
    await waitFor(() => run.stderr.some((line) => line.includes('Gateway ready: 1 of 1 servers')), {
      timeoutMs: 20_000,
      message: 'the ready line on stderr',
    });
    await waitFor(() => rsyslog!.traditional().includes('Watching'), { message: 'the watcher is on' });

    await dir!.write('mcp-servers.json', '{ "servers": { "ok": { "comand": "x" } } }\n');
    await waitFor(() => run.stderr.some((line) => line.includes('Config reload (file changed) failed')), {
      timeoutMs: 20_000,
      message: () => `the rejected reload on stderr; stderr so far:\n${run.stderr.join('\n')}`,
    });
    const stderr = run.stderr.join('\n');
    expect(stderr).toContain('mcp-servers.json:1:24: servers.ok.comand: unknown field; did you mean "command"?');
    // Ordinary lines are syslog's alone.
    expect(rsyslog!.traditional()).toMatch(/mcproxy\[\d+\]: \[INFO\] \[ok\] Server 'ok' started/);
    expect(stderr).not.toContain("Server 'ok' started");
    expect(run.stdout).toEqual([]);
  });

  it('a config that does not exist, or none found at all: the reason on stderr, exit 1', async () => {
    await setUp();
    const missing = start(['--config', dir!.resolve('nope.json'), '--port', '0']);
    expect(await missing.exited).toBe(1);
    expect(missing.stderr.join('\n')).toContain(`config file not found: ${dir!.resolve('nope.json')}`);

    const empty = dir!.resolve('empty');
    await mkdir(empty);
    const nowhere = spawn(process.execPath, [GATEWAY_MAIN, '--port', '0'], {
      cwd: empty,
      env: { PATH: process.env.PATH, HOME: empty, XDG_CONFIG_HOME: join(empty, 'xdg') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => void nowhere.kill('SIGKILL'));
    const stderr: string[] = [];
    collectLines(nowhere.stderr, stderr);
    const code = await new Promise((resolve) => nowhere.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr.join('\n')).toContain(`no config file found (looked for ${join(empty, 'mcp-servers.json')}`);
    expect(stderr.join('\n')).toContain('mcproxy init');
  });

  it('says which servers it is still waiting for while they start', async () => {
    await setUp();
    const configPath = await dir!.write('slow.json', {
      servers: {
        quick: { command: process.execPath, args: [fixturePath('ok')] },
        slow: { command: process.execPath, args: [fixturePath('slow-start')], env: { START_DELAY_MS: '7000' } },
      },
    });
    const run = start(['--config', configPath, '--port', '0']);
    const note = await waitFor(() => run.stderr.find((line) => line.includes('still starting after')), {
      timeoutMs: 20_000,
      message: () => `the note on stderr; stderr so far:\n${run.stderr.join('\n')}`,
    });
    expect(note).toMatch(/still starting after \d+ s: slow \(up to 30 s\)$/);
    await waitFor(() => run.stderr.some((line) => line.includes('Gateway ready: 2 of 2 servers')), {
      timeoutMs: 20_000,
      message: 'the ready line',
    });
  });
});
