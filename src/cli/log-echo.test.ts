import { describe, expect, it } from 'vitest';

import { echoMode } from './log-echo.js';

const facts = (stdout: boolean, stderr: boolean, journal = false) => ({
  stdoutIsTerminal: stdout,
  stderrIsTerminal: stderr,
  stderrIsJournal: journal,
});

describe('echoMode', () => {
  it('on syslog: every line on a terminal, the notable ones on any other stderr, none into the journal', () => {
    expect(echoMode('syslog', facts(false, true))).toBe('all');
    expect(echoMode('syslog', facts(true, true))).toBe('all');
    expect(echoMode('syslog', facts(false, false))).toBe('notable');
    expect(echoMode('syslog', facts(false, false, true))).toBeUndefined();
  });

  it('with --log: the notable lines only when stdout is redirected while a person watches stderr', () => {
    expect(echoMode('stdout', facts(false, true))).toBe('notable');
    expect(echoMode('stdout', facts(true, true))).toBeUndefined();
    expect(echoMode('stdout', facts(false, false))).toBeUndefined();
  });

  it('with --stdio the log is on stderr already', () => {
    expect(echoMode('stderr', facts(false, true))).toBeUndefined();
  });
});
