import { spawn } from 'node:child_process';

import { collectLines } from './lines.js';
import { fixturePath, REPO_ROOT } from './paths.js';
import { waitFor } from './wait-for.js';

export interface ConformanceCheck {
  /** `<scenario>/<check id>`, unique among SUCCESS/FAILURE checks. */
  key: string;
  scenario: string;
  id: string;
  name?: string;
  errorMessage?: string;
  details?: unknown;
}

export interface ConformanceResult {
  passed: ConformanceCheck[];
  failed: ConformanceCheck[];
  warnings: ConformanceCheck[];
  scenarios: string[];
  exitCode: number;
  durationMs: number;
}

export interface RunConformanceOptions {
  /** One scenario (e.g. `dns-rebinding-protection`) instead of a suite. */
  scenario?: string;
  /** `active` (default: every scenario but the pending and draft ones), `all`, `draft` or `pending`. */
  suite?: 'active' | 'all' | 'draft' | 'pending';
  /** The scenarios a revision requires, each run at that revision's wire (replaces `suite`). */
  requirements?: '2025-11-25' | '2026-07-28';
  timeoutMs?: number;
}

interface ConformanceModule {
  runConformance(url: string, options?: RunConformanceOptions): Promise<ConformanceResult>;
  ensureConformanceInstalled(): Promise<{ nodeBin: string; suiteEntry: string }>;
}

const scriptUrl = new URL('../../scripts/conformance.mjs', import.meta.url).href;

/**
 * Typed entry to scripts/conformance.mjs: installs node@22 + the suite on first use, runs it against `url`.
 * @example
 *   const { failed } = await runConformance(`${gateway.url}/mcp`);
 *   expect(failed).toEqual([]);
 */
export async function runConformance(url: string, options?: RunConformanceOptions): Promise<ConformanceResult> {
  const module = (await import(scriptUrl)) as ConformanceModule;
  return module.runConformance(url, options);
}

export interface HttpFixture {
  /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  readonly pid: number;
  readonly stderr: string[];
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts test/fixtures/servers/conformance.mjs over Streamable HTTP on an OS-picked port.
 * @example
 *   await using fixture = await startConformanceFixtureHttp();
 *   const { failed } = await runConformance(fixture.url);
 */
export async function startConformanceFixtureHttp(env?: NodeJS.ProcessEnv): Promise<HttpFixture> {
  const child = spawn(process.execPath, [fixturePath('conformance'), '--http', '0'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  collectLines(child.stderr, stderr);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let exitedAlready = false;
  void exited.then(() => (exitedAlready = true));
  const stop = async () => {
    if (exitedAlready) return;
    child.kill('SIGTERM');
    const escalate = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(escalate);
  };
  try {
    const url = await waitFor(
      () => {
        if (exitedAlready) throw new Error(`conformance fixture exited: ${stderr.join('\n')}`);
        return stderr.map((line) => /listening on (http:\/\/\S+)/.exec(line)?.[1]).find(Boolean);
      },
      { timeoutMs: 10_000, message: 'the conformance fixture to listen' },
    );
    return { url, pid: child.pid ?? -1, stderr, stop, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
