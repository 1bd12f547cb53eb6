import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

import { collectLines } from './lines.js';
import { waitFor } from './wait-for.js';

/** Parses /proc/<pid>/stat; the command name may itself contain spaces and parentheses. */
function readProcStat(pid: number): { state: string; ppid: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', ppid: Number(fields[1]) };
}

/**
 * True while `pid` exists and is not a zombie (a zombie has exited; its parent just has not reaped it yet,
 * which happens to orphans in containers whose init does not reap).
 * @example
 *   expect(isAlive(gateway.pid)).toBe(false);
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
  }
  return readProcStat(pid)?.state !== 'Z';
}

/**
 * Resolves once `pid` is gone (ESRCH or zombie); rejects after `timeoutMs` (CI-scaled).
 * @example
 *   await waitForExit(upstreamPid, { timeoutMs: 15_000 });
 */
export async function waitForExit(pid: number, { timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<void> {
  await waitFor(() => !isAlive(pid), { timeoutMs, message: `pid ${pid} to exit` });
}

/**
 * Pids whose parent is `pid`, read from /proc (Linux). With `recursive`, all descendants, depth first.
 * @example
 *   const [upstreamPid] = await waitFor(() => listChildPids(gateway.pid).length && listChildPids(gateway.pid));
 */
export function listChildPids(pid: number, { recursive = false }: { recursive?: boolean } = {}): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat?.ppid === pid && stat.state !== 'Z') children.push(Number(entry));
  }
  if (!recursive) return children;
  return children.flatMap((child) => [child, ...listChildPids(child, { recursive: true })]);
}

/**
 * Children of `pid` that have exited but were not reaped (state Z in /proc/<pid>/stat).
 * @example
 *   expect(zombieChildren(gateway.pid)).toEqual([]);
 */
export function zombieChildren(pid: number): number[] {
  const zombies: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat?.state === 'Z' && stat.ppid === pid) zombies.push(Number(entry));
  }
  return zombies;
}

/**
 * SIGKILLs each pid that is still alive, ignoring the ones already gone. For test cleanup of leaks.
 * @example
 *   afterEach(() => forceKill(leakedPids));
 */
export function forceKill(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export interface FixtureEvent {
  event: string;
  value: string;
}

/**
 * Reads a FIXTURE_EVENTS_FILE: one `EVENT value` line per event (e.g. `CANCELLED 3`, `GRANDCHILD 1234`).
 * A missing file means no events yet.
 * @example
 *   await waitFor(async () => (await readFixtureEvents(file)).some((e) => e.event === 'CANCELLED'));
 */
export async function readFixtureEvents(path: string): Promise<FixtureEvent[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const space = line.indexOf(' ');
      return space < 0 ? { event: line, value: '' } : { event: line.slice(0, space), value: line.slice(space + 1) };
    });
}

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** What it printed on stdout and stderr so far, line by line. */
  readonly lines: string[];
  readonly exited: boolean;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts a real service a test drives (redis-server, haproxy), collecting its output; killed with the test
 * process if the test dies first.
 * @example
 *   const redis = spawnService('redis-server', ['--port', String(port)]);
 *   await waitFor(() => redis.exited || redis.lines.some((line) => line.includes('Ready')));
 */
export function spawnService(command: string, args: string[]): ServiceProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  collectLines(child.stdout, lines);
  collectLines(child.stderr, lines);
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  process.once('exit', () => child.kill('SIGKILL'));
  return {
    child,
    lines,
    get exited() {
      return exited;
    },
    async stop() {
      if (!exited) child.kill('SIGTERM');
      await gone;
    },
  };
}
