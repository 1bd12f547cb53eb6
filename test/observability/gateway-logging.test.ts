import { type ChildProcess, spawn } from 'node:child_process';

import { afterEach, describe, expect, it } from 'vitest';

import { collectLines } from '../helpers/lines.js';
import { fixturePath, GATEWAY_MAIN, REPO_ROOT } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { type Rsyslog, startRsyslog } from './helpers/rsyslog.js';

// The gateway's own lifecycle lines, as an operator sees them: in syslog by default, on stdout with --log.

const SEEDS_LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[(INFO|WARNING|ERROR|DEBUG)\] /;
let dir: TempDir | undefined;
let gateway: ChildProcess | undefined;
let rsyslog: Rsyslog | undefined;

afterEach(async () => {
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((resolve) => gateway!.once('exit', resolve));
    gateway.kill('SIGTERM');
    await exited;
  }
  gateway = undefined;
  await rsyslog?.stop();
  rsyslog = undefined;
  await dir?.[Symbol.asyncDispose]();
  dir = undefined;
});

async function startWith(args: string[]): Promise<{ stdout: string[]; configPath: string }> {
  dir = await createTempDir();
  const configPath = await dir.write('mcp.json', {
    servers: { ok: { command: process.execPath, args: [fixturePath('ok')] } },
  });
  gateway = spawn(process.execPath, [GATEWAY_MAIN, '--config', configPath, '--port', '0', ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  collectLines(gateway.stdout, stdout);
  return { stdout, configPath };
}

async function addServer(configPath: string): Promise<void> {
  await dir!.write(configPath.slice(dir!.path.length + 1), {
    servers: {
      ok: { command: process.execPath, args: [fixturePath('ok')] },
      second: { command: process.execPath, args: [fixturePath('ok')] },
    },
  });
}

describe('gateway logging', () => {
  it('without --log, a server start and a config reload reach syslog (a real rsyslogd)', async () => {
    rsyslog = await startRsyslog();
    const { stdout, configPath } = await startWith(['--syslog', rsyslog.socketPath]);
    await waitFor(() => /mcproxy\[\d+\]: \[INFO\] .*Server 'ok' started/.test(rsyslog!.traditional()), {
      timeoutMs: 20_000,
      message: 'the server start in syslog',
    });
    await waitFor(() => rsyslog!.traditional().includes('Watching'), { message: 'the watcher is on' });
    await addServer(configPath);
    await waitFor(() => /mcproxy\[\d+\]: \[INFO\] Config reloaded: added second/.test(rsyslog!.traditional()), {
      timeoutMs: 20_000,
      message: 'the reload in syslog',
    });
    expect(stdout).toEqual([]);
  });

  it("with --log, the same lines go to stdout in the seeds' format", async () => {
    const { stdout, configPath } = await startWith(['--log']);
    await waitFor(() => stdout.some((line) => line.includes('Watching')), { timeoutMs: 20_000, message: 'started' });
    await addServer(configPath);
    await waitFor(() => stdout.some((line) => line.includes('Config reloaded: added second')), { message: 'reloaded' });
    const started = stdout.find((line) => line.includes("Server 'ok' started"));
    expect(started).toMatch(SEEDS_LINE);
    expect(stdout.find((line) => line.includes('Config reloaded'))).toMatch(SEEDS_LINE);
  });

  it('with --log --log-format json, every line is a JSON object', async () => {
    const { stdout } = await startWith(['--log', '--log-format', 'json']);
    await waitFor(() => stdout.some((line) => line.includes('Watching')), { timeoutMs: 20_000, message: 'started' });
    const records = stdout.map(
      (line) => JSON.parse(line) as { level: string; msg: string; time: string; server?: string },
    );
    expect(records.find((record) => record.msg.includes("Server 'ok' started"))).toMatchObject({
      level: 'info',
      server: 'ok',
    });
    expect(records.every((record) => !Number.isNaN(Date.parse(record.time)))).toBe(true);
  });
});
