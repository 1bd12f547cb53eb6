import { describe, expect, it } from 'vitest';

import { closeLogger, createLogger, type LoggerOptions } from '../../src/observability/log.js';

// The logger's echo: what a person sees on stderr while the log itself goes elsewhere (issue 16).

function capture(options: LoggerOptions, mode: 'all' | 'notable') {
  const main: string[] = [];
  const echo: string[] = [];
  const log = createLogger({
    ...options,
    stream: { write: (line: string) => main.push(line) },
    echo: { mode, stream: { write: (line: string) => echo.push(line) } },
  });
  return { log, main, echo };
}

describe('the echo of the log', () => {
  it('notable: errors and notices only, in the human format, secrets masked', () => {
    const { log, main, echo } = capture({ destination: 'stdout', redactValues: () => ['s3cr3t-value'] }, 'notable');
    log.info('ordinary line');
    log.info({ notice: true }, 'listening on http://127.0.0.1:1');
    log.warn('a warning');
    log.error('cannot listen: s3cr3t-value');
    log.fatal('the end');
    expect(main).toHaveLength(5);
    expect(echo.map((line) => line.replace(/^\S+ \S+ /, ''))).toEqual([
      '[INFO] listening on http://127.0.0.1:1\n',
      '[ERROR] cannot listen: [redacted]\n',
      '[CRITICAL] the end\n',
    ]);
    expect(echo.join('')).not.toContain('{"notice":true}');
  });

  it('all: every line, in JSON when the log is JSON', () => {
    const { log, echo } = capture({ destination: 'stdout', format: 'json' }, 'all');
    log.info('one');
    log.debug('below the level');
    log.error('two');
    expect(echo.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['one', 'two']);
  });

  it('on syslog that cannot be reached: an echoed line is not written to the same stream twice', async () => {
    const lines: string[] = [];
    const stream = { write: (line: string) => lines.push(line) };
    const log = createLogger({
      destination: 'syslog',
      syslog: { path: '/nonexistent/mcproxy-test.sock' },
      stream,
      echo: { mode: 'notable', stream },
    });
    log.info('ordinary');
    log.error('fatal-ish');
    await closeLogger(log);
    expect(lines.filter((line) => line.includes('fatal-ish'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('ordinary'))).toHaveLength(1);
  });
});
