import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  closeLogger,
  createLogger,
  createSilentLogger,
  formatHumanLine,
  type LoggerOptions,
} from '../../src/observability/log.js';
import { createSecretMasker } from '../../src/observability/redact.js';

const SEED_LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[(DEBUG|INFO|WARNING|ERROR|CRITICAL)\] .*\n$/;

function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const log = createLogger({ ...options, stream: { write: (line: string) => lines.push(line) } });
  return { log, lines };
}

describe('human format (--log)', () => {
  it("writes the seeds' line: 2025-02-05 10:30:45,123 [INFO] Server 'playwright' started", () => {
    const time = new Date(2025, 1, 5, 10, 30, 45, 123).getTime();
    expect(formatHumanLine({ time, level: 30, msg: "Server 'playwright' started" })).toBe(
      "2025-02-05 10:30:45,123 [INFO] Server 'playwright' started\n",
    );
    const { log, lines } = capture();
    log.info("Server 'playwright' started");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(SEED_LINE);
    expect(lines[0]).toMatch(/ \[INFO\] Server 'playwright' started\n$/);
  });

  it('uses Python level names, filters by level and tags server lines', () => {
    const { log, lines } = capture({ level: 'info' });
    const server = log.child({ server: 'memory' });
    server.debug('hidden');
    server.warn('slow start');
    server.error({ err: new Error('spawn ENOENT') }, "Server 'memory' failed");
    log.fatal('out of memory');
    server.info({ stream: 'stderr' }, 'Knowledge Graph MCP Server running on stdio');
    expect(lines.map((line) => line.slice(24))).toEqual([
      '[WARNING] [memory] slow start\n',
      "[ERROR] [memory] Server 'memory' failed: spawn ENOENT\n",
      '[CRITICAL] out of memory\n',
      '[INFO] [memory] stderr: Knowledge Graph MCP Server running on stdio\n',
    ]);
  });

  it('appends structured fields as JSON and cuts huge messages', () => {
    const { log, lines } = capture({ level: 'debug', maxMessageChars: 100 });
    log.info({ tools: 12, durationMs: 40 }, 'listed');
    log.debug(`response ${'x'.repeat(500)}`);
    expect(lines[0]).toMatch(/\[INFO\] listed \{"tools":12,"durationMs":40\}\n$/);
    expect(lines[1]).toMatch(/x… \(\d+ more chars\)\n$/);
    expect(lines[1]!.length).toBeLessThan(160);
  });
});

describe('JSON format (--log-format json)', () => {
  it('writes one parseable object a line with a level label and an ISO time', () => {
    const { log, lines } = capture({ format: 'json', level: 'debug' });
    log.child({ server: 'playwright' }).info({ tools: 3 }, "Server 'playwright' started");
    log.debug('reload');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records[0]).toMatchObject({
      level: 'info',
      server: 'playwright',
      tools: 3,
      msg: "Server 'playwright' started",
    });
    expect(new Date(records[0]!.time as string).toISOString()).toBe(records[0]!.time);
    expect(records[1]).toMatchObject({ level: 'debug', msg: 'reload' });
  });
});

describe('redaction', () => {
  const secrets = ['sk-live-abcdef', 'p"q\\r-s3cret', 'x'];

  it('masks known secret values anywhere, raw or JSON-escaped, in every format', () => {
    for (const format of ['human', 'json'] as const) {
      const { log, lines } = capture({ format, redactValues: () => secrets });
      log.info({ args: { key: 'p"q\\r-s3cret' } }, 'token sk-live-abcdef used; x stays');
      const text = lines.join('');
      expect(text).not.toContain('sk-live');
      expect(text).not.toContain('s3cret');
      expect(text).toContain('token [redacted] used; x stays');
      if (format === 'json') expect(JSON.parse(lines[0]!)).toMatchObject({ args: { key: '[redacted]' } });
    }
  });

  it('censors env and header values and credential keys by path', () => {
    const { log, lines } = capture({ format: 'json' });
    log.info(
      {
        env: { API_KEY: 'a1' },
        server: { headers: { Authorization: 'Bearer b2' } },
        token: 'c3',
        args: { password: 'd4' },
      },
      'config',
    );
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(record).toMatchObject({
      env: { API_KEY: '[redacted]' },
      server: { headers: { Authorization: '[redacted]' } },
      token: '[redacted]',
      args: { password: '[redacted]' },
    });
  });

  it('re-reads the secret list when the source returns a new array', () => {
    let values = ['first-secret'];
    const mask = createSecretMasker(() => values);
    expect(mask('first-secret second-secret')).toBe('[redacted] second-secret');
    values = ['second-secret'];
    expect(mask('first-secret second-secret')).toBe('first-secret [redacted]');
  });
});

describe('syslog to a unix stream socket (syslog-ng style)', () => {
  it('switches to a newline-framed stream connection', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mcproxy-log-'));
    const socketPath = path.join(dir, 'stream.sock');
    let received = '';
    const server = net.createServer((socket) => socket.on('data', (chunk) => (received += chunk.toString())));
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const { log, lines } = capture({ destination: 'syslog', syslog: { path: socketPath } });
      log.info('first over stream');
      log.warn('second over stream');
      await closeLogger(log);
      await expect.poll(() => received.split('\n').length, { timeout: 5000 }).toBe(3);
      expect(received).toMatch(
        new RegExp(
          `^<30>[A-Z][a-z]{2} [ \\d]\\d [\\d:]{8} mcproxy\\[${process.pid}\\]: \\[INFO\\] first over stream\n`,
        ),
      );
      expect(received).toContain(`<28>`);
      expect(lines).toEqual([]);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

it('createSilentLogger writes nothing', () => {
  const log = createSilentLogger();
  expect(log.isLevelEnabled('fatal')).toBe(false);
});
