import { fstatSync } from 'node:fs';

import type { EchoMode, LogDestination } from '../observability/log.js';

export interface TerminalFacts {
  stdoutIsTerminal: boolean;
  stderrIsTerminal: boolean;
  /** systemd connected stderr to the journal, where syslog lines land too. */
  stderrIsJournal: boolean;
}

/**
 * What a person sees on stderr besides the log itself. The log goes to syslog (the default, for services), to
 * stdout (`--log`) or to stderr (`--stdio`). On syslog, a terminal gets every line and any other stderr the
 * notable ones (the URL, exposure warnings, every error); under systemd that stderr is the journal that already
 * has the syslog lines, so nothing is repeated. With `--log`, the notable lines are repeated only when stdout
 * is redirected while stderr is a terminal.
 *
 * @example echoMode('syslog', { stdoutIsTerminal: false, stderrIsTerminal: true, stderrIsJournal: false }) // 'all'
 */
export function echoMode(destination: LogDestination, facts: TerminalFacts): EchoMode | undefined {
  if (destination === 'stderr') return undefined;
  if (destination === 'syslog') {
    if (facts.stderrIsTerminal) return 'all';
    return facts.stderrIsJournal ? undefined : 'notable';
  }
  return facts.stderrIsTerminal && !facts.stdoutIsTerminal ? 'notable' : undefined;
}

/** The facts of this process. */
export function terminalFacts(env: NodeJS.ProcessEnv = process.env): TerminalFacts {
  return {
    stdoutIsTerminal: process.stdout.isTTY === true,
    stderrIsTerminal: process.stderr.isTTY === true,
    stderrIsJournal: isJournal(env['JOURNAL_STREAM']),
  };
}

/** JOURNAL_STREAM is `device:inode` of the journal stream; it counts only if stderr still is that stream. */
function isJournal(journalStream: string | undefined): boolean {
  if (!journalStream) return false;
  try {
    const stat = fstatSync(2);
    return journalStream === `${stat.dev}:${stat.ino}`;
  } catch {
    return false;
  }
}
