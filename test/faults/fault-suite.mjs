#!/usr/bin/env node
// The fault suite (issue 3): several clients call tools in a loop on every server while backends are SIGKILLed,
// one server crashes at every start, and the config is rewritten twenty times. It counts every call by target
// and outcome, prints the counts, and exits non-zero when a server that was neither killed nor changed failed a
// single call, or when anything else the issue promises did not hold. Bounded: it gives up after SUITE_LIMIT_MS.
//
// Run after a build: `npm run build && node test/faults/fault-suite.mjs` (npm run test:faults).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const GATEWAY_MAIN = join(REPO, 'dist/main.js');
const OK = join(REPO, 'test/fixtures/servers/ok.mjs');
const EVERYTHING = join(REPO, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');

/** Generous waits are multiplied by this on CI, as in test/helpers/wait-for.ts (which a plain .mjs cannot import). */
const CI_TIMEOUT_FACTOR = process.env.CI ? 3 : 1;
const SUITE_LIMIT_MS = Number(process.env.FAULT_SUITE_LIMIT_MS ?? 90_000 * CI_TIMEOUT_FACTOR);
const RELOADS = 20;
const RELOAD_SPACING_MS = 500;
/** A rewrite must be applied within this long (the issue: "within a second or two"; generous for loaded CI). */
const RELOAD_APPLY_LIMIT_MS = 5_000 * CI_TIMEOUT_FACTOR;
const KILL_SPACING_MS = 1_300;
const CALL_TIMEOUT_MS = 20_000;
const CRASHER_MAX_ATTEMPTS = 3;

/** Targets that are neither killed nor changed: one failed call to any of them is a violation. */
const UNTOUCHED = ['stable1', 'stable2', 'everything', 'remote'];
const TARGETS = [...UNTOUCHED, 'killed', 'victim', 'extra', 'crasher'];
const KIND = { killed: 'SIGKILLed', victim: 'changed+killed', extra: 'added/removed', crasher: 'always crashes' };

const startedAt = Date.now();
const violations = [];
const cleanups = [];
const watchdog = setTimeout(() => {
  process.stderr.write(`fault suite: gave up after ${SUITE_LIMIT_MS} ms\n`);
  void cleanup().finally(() => process.exit(2));
}, SUITE_LIMIT_MS);

const dir = mkdtempSync(join(tmpdir(), 'mcproxy-faults-'));
cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
const configPath = join(dir, 'mcp.json');
const crasherLog = join(dir, 'crasher.spawns');

// No env: the gateway masks env values in its log, and a value equal to a server name would hide that name.
function okServer(extraArgs = []) {
  return { command: process.execPath, args: [OK, ...extraArgs] };
}

function configFor(generation, remoteUrl) {
  const crashScript = `require('fs').appendFileSync(${JSON.stringify(crasherLog)}, process.pid + '\\n'); process.exit(1)`;
  const servers = {
    stable1: okServer(),
    stable2: okServer(),
    everything: { command: process.execPath, args: [EVERYTHING, 'stdio'] },
    remote: { url: remoteUrl },
    // Killed more often than max_attempts: only the reset after a stable run keeps them from being marked failed.
    killed: { ...okServer(), restart: { max_attempts: 3, stable_after: 0.3 } },
    victim: { ...okServer([`--generation=${generation}`]), restart: { max_attempts: 3, stable_after: 0.3 } },
    crasher: {
      command: process.execPath,
      args: ['-e', crashScript],
      restart: { max_attempts: CRASHER_MAX_ATTEMPTS, backoff_base: 0.05, backoff_max: 0.2 },
    },
  };
  if (generation % 2 === 1) servers.extra = okServer();
  return { restart: { backoff_base: 0.05, backoff_max: 0.5 }, mcpServers: servers };
}

function writeConfig(generation, remoteUrl) {
  const text = `${JSON.stringify(configFor(generation, remoteUrl), null, 2)}\n`;
  if (generation % 2 === 0) {
    // Half the saves go the way editors do it: a new file renamed over the old one.
    const staging = `${configPath}.tmp`;
    writeFileSync(staging, text);
    renameSync(staging, configPath);
  } else {
    writeFileSync(configPath, text);
  }
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function startProcess(command, args, env, readyPattern, what) {
  const child = spawn(command, args, { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const exited = new Promise((resolve) => child.once('exit', resolve));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
    await exited;
    clearTimeout(timer);
  });
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
    });
  }
  const ready = (async () => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const match = lines.map((line) => readyPattern.exec(line)).find(Boolean);
      if (match) return match;
      if (child.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`${what} did not start:\n${lines.slice(-20).join('\n')}`);
  })();
  return { child, lines, exited, ready };
}

async function health(url) {
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) });
  return response.json();
}

function zombieChildren(pid) {
  const zombies = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z' && Number(ppid) === pid) zombies.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return zombies;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function cleanup() {
  for (const step of cleanups.splice(0).reverse()) await Promise.resolve(step()).catch(() => {});
}

const counts = new Map(TARGETS.map((target) => [target, { ok: 0, failed: 0, errors: new Map() }]));
function record(target, error) {
  const entry = counts.get(target);
  if (!error) {
    entry.ok++;
    return;
  }
  entry.failed++;
  const message = String(error.message ?? error)
    .replace(/\d+/g, 'N')
    .slice(0, 90);
  entry.errors.set(message, (entry.errors.get(message) ?? 0) + 1);
  if (UNTOUCHED.includes(target) && entry.failed <= 3) {
    violations.push(`call to untouched server "${target}" failed: ${error.message ?? error}`);
  }
}

async function main() {
  // A remote server the gateway reaches over Streamable HTTP; it is never killed.
  const port = await freePort();
  const remote = startProcess(
    process.execPath,
    [EVERYTHING, 'streamableHttp'],
    { PORT: String(port) },
    /listening on port/,
    'server-everything (HTTP)',
  );
  await remote.ready;
  const remoteUrl = `http://127.0.0.1:${port}/mcp`;

  writeConfig(0, remoteUrl);
  const gateway = startProcess(
    process.execPath,
    [GATEWAY_MAIN, '--config', configPath, '--port', '0', '--host', '127.0.0.1', '--log', '--reload-interval', '0.5'],
    {},
    /listening on (http:\/\/\S+)/,
    'the gateway',
  );
  const url = (await gateway.ready)[1];
  const gatewayPid = gateway.child.pid;
  const reloaderUp = /Watching .* for changes/;
  while (!gateway.lines.some((line) => reloaderUp.test(line))) {
    if (Date.now() - startedAt > 45_000) throw new Error('the gateway did not finish starting');
    await sleep(50);
  }

  const seenPids = new Set();
  const clients = [];
  for (let i = 0; i < 4; i++) {
    const transport =
      i % 2 === 0
        ? new StreamableHTTPClientTransport(new URL(`${url}/mcp`))
        : new SSEClientTransport(new URL(`${url}/sse`));
    const client = new Client({ name: `fault-client-${i}`, version: '0.0.0' });
    await client.connect(transport);
    cleanups.push(() => client.close());
    clients.push(client);
  }

  let running = true;
  // One loop per client and target, so that a call waiting for a restarting server holds up nothing else.
  const callLoops = clients.flatMap((client, index) =>
    TARGETS.map(async (target) => {
      let turn = 0;
      while (running) {
        try {
          await client.callTool({ name: `${target}__echo`, arguments: { message: `c${index}-${turn++}` } }, undefined, {
            timeout: CALL_TIMEOUT_MS,
          });
          record(target);
          await sleep(10); // leave the machine to the servers and the gateway, too
        } catch (error) {
          record(target, error);
          await sleep(20); // a failing target answers at once; do not spin
        }
      }
    }),
  );

  const healthLoop = (async () => {
    while (running) {
      const report = await health(url).catch(() => undefined);
      for (const server of Object.values(report?.servers ?? {})) if (server.pid) seenPids.add(server.pid);
      await sleep(200);
    }
  })();

  let kills = 0;
  let killsOfKilled = 0;
  const killLoop = (async () => {
    let round = 0;
    while (running) {
      await sleep(KILL_SPACING_MS);
      const report = await health(url).catch(() => undefined);
      // The victim is killed too, every third round. Both only once up for longer than stable_after (0.3 s; the
      // report rounds uptime to whole seconds, so 1 means at least 0.5 s): a kill sooner after a restart is, by
      // the policy, a failed attempt, and on a loaded machine four of those in a row marked "killed" failed.
      const names = round++ % 3 === 0 ? ['killed', 'victim'] : ['killed'];
      for (const name of names) {
        const server = report?.servers?.[name];
        if (running && server?.state === 'ready' && server.pid && (server.uptimeSeconds ?? 0) >= 1) {
          try {
            process.kill(server.pid, 'SIGKILL');
            kills++;
            if (name === 'killed') killsOfKilled++;
          } catch {
            // Already gone.
          }
        }
      }
    }
  })();

  // Each rewrite waits for the previous one to be applied, so that twenty reloads really happen (quick saves
  // in a row are merged into one reload, by design).
  const reloadLine = /Config reloaded: .*restarted victim/;
  const applied = () => gateway.lines.filter((line) => reloadLine.test(line)).length;
  const latencies = [];
  for (let generation = 1; generation <= RELOADS; generation++) {
    await sleep(RELOAD_SPACING_MS);
    const written = Date.now();
    writeConfig(generation, remoteUrl);
    while (applied() < generation && Date.now() - written < RELOAD_APPLY_LIMIT_MS) await sleep(20);
    if (applied() < generation) {
      violations.push(`rewrite ${generation} was not applied within ${RELOAD_APPLY_LIMIT_MS} ms`);
      break;
    }
    latencies.push(Date.now() - written);
  }
  running = false;
  await Promise.all([...callLoops, healthLoop, killLoop]);

  // Settle: every server that should be up comes back, and answers one more call from the first client.
  const expectedUp = ['stable1', 'stable2', 'everything', 'remote', 'killed', 'victim'];
  const settleDeadline = Date.now() + 15_000;
  let report = await health(url);
  while (expectedUp.some((name) => report.servers[name]?.state !== 'ready') && Date.now() < settleDeadline) {
    await sleep(100);
    report = await health(url);
  }
  for (const name of expectedUp) {
    try {
      await clients[0].callTool({ name: `${name}__echo`, arguments: { message: 'final' } }, undefined, {
        timeout: CALL_TIMEOUT_MS,
      });
    } catch (error) {
      violations.push(`server "${name}" did not serve after the faults: ${error.message}`);
    }
  }

  const reloadsApplied = applied();
  const reloadFailures = gateway.lines.filter((line) => line.includes('Config reload') && line.includes('failed'));
  const crasherSpawns = readFileSync(crasherLog, 'utf8').split('\n').filter(Boolean).length;
  if (reloadsApplied !== RELOADS) violations.push(`${reloadsApplied} of ${RELOADS} rewrites were applied`);
  if (reloadFailures.length > 0) {
    const at = gateway.lines.indexOf(reloadFailures[0]);
    violations.push(
      `${reloadFailures.length} reload failures were logged: ${gateway.lines.slice(at, at + 3).join(' / ')}`,
    );
  }
  if (crasherSpawns !== 1 + CRASHER_MAX_ATTEMPTS) {
    violations.push(`the crasher was spawned ${crasherSpawns} times, not ${1 + CRASHER_MAX_ATTEMPTS}`);
  }
  if (report.servers.crasher?.state !== 'failed') violations.push(`the crasher is ${report.servers.crasher?.state}`);
  if (report.servers.extra !== undefined) violations.push('"extra" is still there after its removal');
  for (const name of UNTOUCHED) {
    if (report.servers[name]?.restarts !== 0) violations.push(`untouched "${name}" restarted`);
    if (counts.get(name).ok === 0) violations.push(`no call to "${name}" succeeded`);
  }
  if (kills === 0) violations.push('no backend was killed');
  const zombies = zombieChildren(gatewayPid);
  if (zombies.length > 0) violations.push(`zombie children of the gateway: ${zombies.join(', ')}`);

  // Retired processes (replaced victims, removed extras) must be gone once their drain is over.
  const current = new Set(
    Object.values(report.servers)
      .map((server) => server.pid)
      .filter(Boolean),
  );
  const drainDeadline = Date.now() + 10_000;
  let leftovers = [...seenPids].filter((pid) => !current.has(pid) && isAlive(pid));
  while (leftovers.length > 0 && Date.now() < drainDeadline) {
    await sleep(100);
    leftovers = leftovers.filter(isAlive);
  }
  if (leftovers.length > 0) violations.push(`retired server processes still alive: ${leftovers.join(', ')}`);

  // Shutdown: the gateway ends and takes every server process with it.
  for (const client of clients) await client.close().catch(() => {});
  gateway.child.kill('SIGTERM');
  const exit = await Promise.race([gateway.exited.then(() => 'exited'), sleep(10_000).then(() => 'timeout')]);
  if (exit !== 'exited') violations.push('the gateway did not exit within 10 s of SIGTERM');
  await sleep(200);
  const orphans = [...seenPids].filter(isAlive);
  if (orphans.length > 0) violations.push(`server processes outlived the gateway: ${orphans.join(', ')}`);

  printTable({ kills, killsOfKilled, reloadsApplied, crasherSpawns, pids: seenPids.size, latencies });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function printTable(totals) {
  const rows = TARGETS.map((target) => {
    const { ok, failed, errors } = counts.get(target);
    const top = [...errors.entries()].sort((a, b) => b[1] - a[1])[0];
    return [target, KIND[target] ?? 'untouched', String(ok), String(failed), top ? `${top[1]}× ${top[0]}` : ''];
  });
  const header = ['target', 'faults', 'ok', 'failed', 'most frequent error'];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells) =>
    cells.map((cell, i) => (i === 2 || i === 3 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  const total = (key) => TARGETS.reduce((sum, target) => sum + counts.get(target)[key], 0);
  out.push(
    '',
    `calls: ${total('ok') + total('failed')} (${total('ok')} ok, ${total('failed')} failed); ` +
      `SIGKILLs: ${totals.kills} (${totals.killsOfKilled} of "killed", whose max_attempts is 3); ` +
      `reloads applied: ${totals.reloadsApplied}/${RELOADS} (write to applied: median ` +
      `${median(totals.latencies)} ms, max ${Math.max(0, ...totals.latencies)} ms); ` +
      `crasher spawns: ${totals.crasherSpawns} ` +
      `(1 + max_attempts ${CRASHER_MAX_ATTEMPTS}); server pids seen: ${totals.pids}; ` +
      `duration: ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

try {
  await main();
} catch (error) {
  violations.push(`the suite itself failed: ${error.stack ?? error}`);
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
if (violations.length > 0) {
  process.stdout.write(
    `\nFAILED: ${violations.length} violation(s)\n${violations.map((v) => `  - ${v}`).join('\n')}\n`,
  );
  process.exit(1);
}
process.stdout.write('\nfault suite: OK (zero failed calls to untouched servers)\n');
process.exit(0);
