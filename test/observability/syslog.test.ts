import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { closeLogger, createLogger, type Logger, type LoggerOptions } from '../../src/observability/log.js';
import { CI_TIMEOUT_FACTOR } from '../helpers/wait-for.js';
import { type Rsyslog, startRsyslog } from './helpers/rsyslog.js';

// These tests need a real rsyslogd (scripts/install-ci-deps.sh installs it); without one they fail, not skip.
let rsyslog: Rsyslog;
const loggers: Logger[] = [];
const pid = process.pid;

beforeAll(async () => {
  rsyslog = await startRsyslog();
});

afterAll(async () => {
  await Promise.all(loggers.map((logger) => closeLogger(logger)));
  await rsyslog?.stop();
});

function syslogLogger(syslog: LoggerOptions['syslog'], extra: Partial<LoggerOptions> = {}) {
  const fallback: string[] = [];
  const log = createLogger({
    level: 'debug',
    destination: 'syslog',
    syslog,
    stream: { write: (line: string) => fallback.push(line) },
    ...extra,
  });
  loggers.push(log);
  return { log, fallback };
}

/** The `fields` line rsyslog wrote for the message containing `needle`. */
async function fieldsLine(needle: string): Promise<string> {
  await expect.poll(() => rsyslog.fields(), { timeout: 5000 }).toContain(needle);
  return (
    rsyslog
      .fields()
      .split('\n')
      .find((line) => line.includes(needle)) ?? ''
  );
}

describe('syslog, local socket (rsyslog imuxsock, the /dev/log setup)', () => {
  it('has the native unix-dgram module, without which /dev/log (a datagram socket) is unreachable', () => {
    expect(
      () => createRequire(import.meta.url)('unix-dgram') as unknown,
      'unix-dgram did not build: it needs python3, make and g++; run npm rebuild unix-dgram',
    ).not.toThrow();
  });

  it("lands in rsyslog's log in the seeds' shape: mcproxy[PID]: [INFO] Server 'playwright' started", async () => {
    const { log, fallback } = syslogLogger({ path: rsyslog.socketPath });
    log.info("Server 'playwright' started");
    const pattern = new RegExp(
      String.raw`^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ mcproxy\[${pid}\]: \[INFO\] Server 'playwright' started$`,
      'm',
    );
    await expect.poll(() => rsyslog.traditional(), { timeout: 5000 }).toMatch(pattern);
    expect(await fieldsLine("Server 'playwright' started")).toContain(
      `input=imuxsock sev=info fac=daemon host=${os.hostname()} app=mcproxy proc=${pid}`,
    );
    expect(fallback).toEqual([]);
  });

  it('maps levels to severities and tags child loggers with their server', async () => {
    const { log } = syslogLogger({ path: rsyslog.socketPath, facility: 'local3' });
    const server = log.child({ server: 'wikipedia' });
    server.warn("Server 'wikipedia' exited with code 1; restart 1 in 1s");
    server.error({ err: new Error('spawn npx ENOENT') }, "Server 'wikipedia' failed");
    server.info({ stream: 'stderr' }, 'Wikipedia MCP server running on stdio');
    server.debug('tools/call search {"query":"Bitcoin"}');

    expect(await fieldsLine('restart 1 in 1s')).toContain('sev=warning fac=local3');
    expect(await fieldsLine('[WARNING] [wikipedia] Server')).toContain('app=mcproxy');
    expect(await fieldsLine("[ERROR] [wikipedia] Server 'wikipedia' failed: spawn npx ENOENT")).toContain('sev=err');
    expect(await fieldsLine('[INFO] [wikipedia] stderr: Wikipedia MCP server running')).toContain('sev=info');
    expect(await fieldsLine('[DEBUG] [wikipedia] tools/call search')).toContain('sev=debug');
  });

  it('never lets a known secret or a structured env/header value through', async () => {
    const secret = 'pplx-9f8e7d6c5b4a';
    const { log } = syslogLogger({ path: rsyslog.socketPath }, { redactValues: () => [secret] });
    log.info(
      { env: { PERPLEXITY_API_KEY: 'not-listed-but-an-env-value' } },
      `config reloaded key=${secret} (redact-1)`,
    );
    log.info({ headers: { Authorization: 'Bearer abcdef123456' } }, 'remote connect (redact-2)');

    const first = await fieldsLine('(redact-1)');
    const second = await fieldsLine('(redact-2)');
    expect(first).toContain('key=[redacted]');
    expect(first).toContain('"PERPLEXITY_API_KEY":"[redacted]"');
    expect(second).toContain('"Authorization":"[redacted]"');
    expect(rsyslog.fields() + rsyslog.traditional()).not.toMatch(/pplx-9f8e|not-listed|abcdef123456/);
  });
});

describe('syslog over the network (RFC 5424)', () => {
  it('delivers over UDP with app name, pid, hostname and severity parsed', async () => {
    const { log, fallback } = syslogLogger({
      address: `udp://127.0.0.1:${rsyslog.udpPort}`,
      appName: 'mcproxy',
      hostname: 'gw-test-host',
    });
    log.info('Config reloaded: 1 added, 0 removed, 0 changed (udp)');
    expect(await fieldsLine('(udp)')).toBe(
      `input=imudp sev=info fac=daemon host=gw-test-host app=mcproxy proc=${pid} ` +
        `msg=[INFO] Config reloaded: 1 added, 0 removed, 0 changed (udp)`,
    );
    expect(fallback).toEqual([]);
  });

  it('delivers over TCP with octet counting, keeping messages apart, and flushes on close', async () => {
    const { log, fallback } = syslogLogger({ address: `tcp://127.0.0.1:${rsyslog.tcpPort}` });
    for (let i = 0; i < 20; i++) log.info(`tcp message ${i} (tcp-burst)`);
    log.warn('a message\nspanning two lines (tcp-multiline)');
    await closeLogger(log);

    await expect.poll(() => rsyslog.fields().match(/\(tcp-burst\)/g)?.length ?? 0, { timeout: 5000 }).toBe(20);
    expect(await fieldsLine('tcp message 19 (tcp-burst)')).toContain(`input=imtcp sev=info fac=daemon`);
    expect(await fieldsLine('spanning two lines (tcp-multiline)')).toContain('sev=warning');
    expect(fallback).toEqual([]);

    log.info('logged after close');
    expect(fallback.join('')).toMatch(/logger closed\); logging here\n.*\[INFO\] logged after close\n$/);
  });
});

describe('syslog at process exit', () => {
  it('neither holds the process open nor loses its last lines when nobody calls closeLogger', () => {
    const built = path.resolve(import.meta.dirname, '../../dist/observability/log.js');
    if (!existsSync(built)) throw new Error('dist/ is missing: run npm run build (npm test does it first)');
    const script = `
      import { createLogger } from ${JSON.stringify(built)};
      const unix = createLogger({ destination: 'syslog', syslog: { path: ${JSON.stringify(rsyslog.socketPath)} } });
      const tcp = createLogger({ destination: 'syslog', syslog: { address: 'tcp://127.0.0.1:${rsyslog.tcpPort}' } });
      const udp = createLogger({ destination: 'syslog', syslog: { address: 'udp://127.0.0.1:${rsyslog.udpPort}' } });
      unix.info('last words (exit-unix)');
      tcp.info('last words (exit-tcp)');
      udp.info('last words (exit-udp)');`;
    // A logger that held the process open would keep it running until spawnSync's timeout killed it.
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 10_000 * CI_TIMEOUT_FACTOR,
    });
    expect(result.signal, 'killed at the timeout: something held the process open').toBeNull();
    expect(result.status, result.stderr).toBe(0);
    return Promise.all(['(exit-unix)', '(exit-tcp)', '(exit-udp)'].map((needle) => fieldsLine(needle)));
  });
});

describe('syslog delivery failures', () => {
  it('writes to the fallback stream, with one warning, when the socket does not exist', () => {
    const missing = path.join(os.tmpdir(), `mcproxy-no-such-socket-${pid}`);
    const { log, fallback } = syslogLogger({ path: missing });
    log.info("Server 'playwright' started");
    log.info("Server 'memory' started");
    expect(fallback).toHaveLength(3);
    expect(fallback[0]).toMatch(/\[WARNING\] syslog delivery failed \(unix:.*ENOENT\); logging here/);
    expect(fallback[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[INFO\] Server 'playwright' started\n$/);
    expect(fallback[2]).toContain("[INFO] Server 'memory' started");
  });

  it('falls back when nothing listens on the TCP port', async () => {
    const { log, fallback } = syslogLogger({ address: 'tcp://127.0.0.1:1' });
    log.error('cannot reach the log host');
    await expect.poll(() => fallback.join(''), { timeout: 5000 }).toContain('[ERROR] cannot reach the log host');
    expect(fallback[0]).toContain('ECONNREFUSED');
  });

  it('rejects an address it does not understand', () => {
    expect(() => createLogger({ destination: 'syslog', syslog: { address: 'http://x:1' } })).toThrow(/unsupported/);
  });
});
