#!/usr/bin/env node
// Runs the @modelcontextprotocol/conformance server suite against a URL and reports each check.
//
//   node scripts/conformance.mjs --url http://127.0.0.1:PORT/mcp [--scenario NAME] [--suite active|all|pending|draft]
//   node scripts/conformance.mjs --url http://127.0.0.1:PORT/mcp --requirements 2025-11-25|2026-07-28
//   node scripts/conformance.mjs --install      (only install the pinned tools)
//
// The suite needs Node >= 22 (it imports fs.globSync); this machine runs Node 20, so node@22 from npm and
// the suite are installed into .cache/conformance/ on first use and the suite runs under that binary.
// `--requirements REV` runs exactly the scenarios revision REV requires, each at that revision's wire (2026-07-28:
// stateless, no initialize); the scenarios it runs but does not score are in the result too.
// Prints { passed, failed, warnings, scenarios, durationMs } as JSON; exits 1 if any check failed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const CONFORMANCE_VERSION = '0.2.0-alpha.12';
export const CONFORMANCE_NODE_MAJOR = 22;
const DEFAULT_RUN_TIMEOUT_MS = 5 * 60_000;
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const LOCK_STALE_MS = INSTALL_TIMEOUT_MS + 60_000;

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const cacheDir = join(repoRoot, '.cache', 'conformance');
const nodeBin = join(cacheDir, 'node_modules', '.bin', 'node');
const suiteEntry = join(cacheDir, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
const suitePackageJson = join(cacheDir, 'node_modules', '@modelcontextprotocol', 'conformance', 'package.json');
const lockDir = join(repoRoot, '.cache', 'conformance.lock');

function installedCorrectly() {
  if (!existsSync(nodeBin) || !existsSync(suiteEntry)) return false;
  const { version } = JSON.parse(readFileSync(suitePackageJson, 'utf8'));
  const probe = spawnSync(nodeBin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return (
    version === CONFORMANCE_VERSION && probe.status === 0 && probe.stdout.startsWith(`v${CONFORMANCE_NODE_MAJOR}.`)
  );
}

async function withInstallLock(fn) {
  mkdirSync(join(repoRoot, '.cache'), { recursive: true });
  const deadline = Date.now() + LOCK_STALE_MS;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      let age = 0;
      try {
        age = Date.now() - statSync(lockDir).mtimeMs;
      } catch {
        continue; // released between mkdir and stat
      }
      if (age > LOCK_STALE_MS) rmSync(lockDir, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lockDir}`);
      else await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/** Installs node@22 and the pinned conformance suite into .cache/conformance/ unless already there. */
export async function ensureConformanceInstalled({ log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  if (installedCorrectly()) return { nodeBin, suiteEntry };
  await withInstallLock(async () => {
    if (installedCorrectly()) return;
    log(
      `conformance: installing node@${CONFORMANCE_NODE_MAJOR} and @modelcontextprotocol/conformance@${CONFORMANCE_VERSION}`,
    );
    mkdirSync(cacheDir, { recursive: true });
    const packages = [`node@${CONFORMANCE_NODE_MAJOR}`, `@modelcontextprotocol/conformance@${CONFORMANCE_VERSION}`];
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const result = spawnSync(
      npm,
      ['install', '--prefix', cacheDir, '--no-save', '--no-audit', '--no-fund', ...packages],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: INSTALL_TIMEOUT_MS,
      },
    );
    if (result.status !== 0) {
      throw new Error(`npm install failed (${result.status ?? result.signal}): ${result.stderr?.slice(-2000)}`);
    }
    if (!installedCorrectly()) {
      // node@22 fetches its binary in a preinstall script; an npm that skips install scripts leaves no binary.
      throw new Error(
        `conformance install incomplete: ${nodeBin} is not Node ${CONFORMANCE_NODE_MAJOR} (install scripts blocked?)`,
      );
    }
  });
  return { nodeBin, suiteEntry };
}

const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;
const SUMMARY_LINE = /^[✓✗] (\S+): (\d+) passed, (\d+) failed$/;

function collectChecks(outputDir, stdout) {
  const passed = [];
  const failed = [];
  const warnings = [];
  const scenarios = new Set();
  for (const entry of readdirSync(outputDir).sort()) {
    const scenario = RESULT_DIR.exec(entry)?.[1];
    const file = join(outputDir, entry, 'checks.json');
    if (!scenario || !existsSync(file)) continue;
    scenarios.add(scenario);
    for (const check of JSON.parse(readFileSync(file, 'utf8'))) {
      const row = { key: `${scenario}/${check.id}`, scenario, id: check.id, name: check.name };
      if (check.errorMessage) row.errorMessage = check.errorMessage;
      if (check.status === 'SUCCESS') passed.push(row);
      else if (check.status === 'FAILURE') failed.push({ ...row, details: check.details });
      else if (check.status === 'WARNING') warnings.push(row);
    }
  }
  // A scenario that threw inside the suite is only in its stdout summary, with no checks.json.
  for (const line of stdout.split('\n')) {
    const match = SUMMARY_LINE.exec(line.trim());
    if (match && !scenarios.has(match[1])) {
      scenarios.add(match[1]);
      if (Number(match[3]) > 0) {
        failed.push({
          key: `${match[1]}/${match[1]}`,
          scenario: match[1],
          id: match[1],
          errorMessage: 'scenario crashed',
        });
      }
    }
  }
  return { passed, failed, warnings, scenarios: [...scenarios] };
}

/**
 * Runs the conformance server suite against `url` and returns every check, grouped by outcome.
 * @example
 *   const { failed } = await runConformance('http://127.0.0.1:8080/mcp');
 */
export async function runConformance(
  url,
  { scenario, suite = 'active', requirements, timeoutMs = DEFAULT_RUN_TIMEOUT_MS } = {},
) {
  await ensureConformanceInstalled();
  const outputDir = mkdtempSync(join(tmpdir(), 'mcproxy-conformance-'));
  const started = Date.now();
  try {
    const args = [suiteEntry, 'server', '--url', url, '--output-dir', outputDir];
    if (scenario) args.push('--scenario', scenario);
    else if (requirements) args.push('--requirements', requirements);
    else args.push('--suite', suite);
    const child = spawn(nodeBin, args, { cwd: outputDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const [code, signal] = await new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c, s) => resolve([c, s]));
    }).finally(() => clearTimeout(timer));
    if (signal || (code !== 0 && code !== 1)) {
      const reason = signal === 'SIGKILL' ? `timed out after ${timeoutMs} ms` : `exited ${code ?? signal}`;
      throw new Error(`conformance suite ${reason}\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`);
    }
    const result = collectChecks(outputDir, stdout);
    if (result.scenarios.length === 0) throw new Error(`conformance suite ran no scenario\n${stdout}\n${stderr}`);
    return { ...result, exitCode: code, durationMs: Date.now() - started };
  } finally {
    rmSync(outputDir, { recursive: true, force: true });
  }
}

function parseCli(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--install') options.install = true;
    else if (['--url', '--scenario', '--suite', '--requirements', '--timeout-ms'].includes(flag)) {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${flag} needs a value`);
      options[flag.slice(2).replace(/-(\w)/g, (_, c) => c.toUpperCase())] = value;
    } else throw new Error(`Unknown argument: ${flag}`);
  }
  return options;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const options = parseCli(process.argv.slice(2));
    if (options.install) {
      await ensureConformanceInstalled();
    } else {
      if (!options.url)
        throw new Error(
          'Usage: node scripts/conformance.mjs --url URL [--scenario NAME | --suite SUITE | --requirements REV]',
        );
      const result = await runConformance(options.url, {
        scenario: options.scenario,
        suite: options.suite,
        requirements: options.requirements,
        timeoutMs: options.timeoutMs ? Number(options.timeoutMs) : undefined,
      });
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      process.exitCode = result.failed.length > 0 ? 1 : 0;
    }
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  }
}
