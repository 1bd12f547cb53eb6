#!/usr/bin/env node
// mcproxy benchmark harness. `npm run bench` = `npm run build && node bench/run.mjs`; a full run is bounded to 20 minutes.
//
//   node bench/run.mjs                      full run (bounded to twenty minutes), writes BENCHMARKS.md
//   node bench/run.mjs --quick              tiny N everywhere, a smoke test (a few minutes: valgrind is slow to start)
//   node bench/run.mjs --only latency,memory
//   node bench/run.mjs --out FILE --json FILE
//
// A quick or --only run writes its Markdown to a temporary file (printed at the end) unless --out is given, so
// the committed BENCHMARKS.md always comes from a full run.
import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { ensurePeers, mcproxyBuilt } from './lib/gateways.mjs';
import { machineInfo } from './lib/machine.mjs';
import { ROOT, TMP } from './lib/paths.mjs';
import { stopAll, stopAllSync } from './lib/proc.mjs';
import { renderDoc } from './lib/report.mjs';
import { GatewayPool } from './lib/targets.mjs';
import * as codemode from './scenarios/codemode.mjs';
import * as instructions from './scenarios/instructions.mjs';
import * as latency from './scenarios/latency.mjs';
import * as memory from './scenarios/memory.mjs';
import * as reload from './scenarios/reload.mjs';
import * as search from './scenarios/search.mjs';
import * as startup from './scenarios/startup.mjs';
import * as throughput from './scenarios/throughput.mjs';

// Seconds each scenario may use in a full run; time a scenario leaves unused passes to the next ones.
const SCENARIOS = [
  { mod: latency, budget: 120 },
  { mod: throughput, budget: 145 },
  { mod: memory, budget: 180 },
  { mod: startup, budget: 45 },
  { mod: reload, budget: 25 },
  { mod: codemode, budget: 40 },
  { mod: search, budget: 20 },
  { mod: instructions, budget: 600 },
];
const HARD_LIMIT_S = 1200; // run.mjs alone; the build before it takes a few seconds more

const removeTmp = () => {
  try {
    rmSync(TMP, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
};

function parseArgs(argv) {
  const o = { quick: false, only: null, out: null, json: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--only')
      o.only = argv[++i]
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (a.startsWith('--only='))
      o.only = a
        .slice(7)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (a === '--out') o.out = argv[++i];
    else if (a === '--json') o.json = argv[++i];
    else if (a === '--help' || a === '-h') {
      console.log(
        'usage: node bench/run.mjs [--quick] [--only latency,throughput,memory,startup,reload,codemode,search,instructions] [--out FILE] [--json FILE]',
      );
      removeTmp();
      process.exit(0);
    } else {
      console.error(`unknown argument ${a}`);
      removeTmp();
      process.exit(2);
    }
  }
  const known = SCENARIOS.map((s) => s.mod.name);
  for (const n of o.only ?? []) {
    if (!known.includes(n)) {
      console.error(`unknown scenario "${n}"; known: ${known.join(', ')}`);
      removeTmp();
      process.exit(2);
    }
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const t0 = performance.now();
const stamp = () => `[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s]`;
const log = (msg) => console.log(`${stamp()} ${msg}`);
process.stdout.on('error', () => {}); // a closed pipe must not leave servers behind
// fetch (undici) keeps one abort listener per request on the SDK transport's signal until the request is garbage
// collected, and warns past 1,500: thousands of lines in a throughput run, none of them news. Other warnings print.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'MaxListenersExceededWarning') console.error(`${w.name}: ${w.message}`);
});

const results = {};
const info = machineInfo();
const outFile =
  opts.out ?? (opts.quick || opts.only ? join(os.tmpdir(), 'mcproxy-bench-last.md') : join(ROOT, 'BENCHMARKS.md'));

function write(partialNote) {
  info.durationS = (performance.now() - t0) / 1000;
  info.loadEnd = os.loadavg();
  const doc = renderDoc({ info, results, opts, scenarios: SCENARIOS.map((s) => s.mod), partialNote });
  writeFileSync(outFile, doc);
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ info, results }, null, 2));
}

// Cleanup on every way out.
process.on('exit', () => {
  stopAllSync();
  removeTmp();
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    stopAllSync();
    process.exit(130);
  });
}
process.on('uncaughtException', (err) => {
  console.error('uncaught exception:', err);
  stopAllSync();
  process.exit(1);
});
process.on('unhandledRejection', (err) => {
  // SDK transports may reject a stray promise when a gateway closes a stream; log it and carry on.
  console.error('unhandled rejection (ignored):', err?.message ?? err);
});

// Watchdog: whatever happens, end within the budget with what we have.
const watchdog = setTimeout(() => {
  log('hard time limit reached: writing partial results');
  try {
    write('The run hit its hard time limit; sections without figures were not reached.');
  } finally {
    stopAllSync();
    process.exit(3);
  }
}, HARD_LIMIT_S * 1000);
watchdog.unref();

log(
  `mcproxy bench ${opts.quick ? '(quick) ' : ''}on ${info.cpu}, ${info.cores} cores, Node ${info.node}; temp dir ${TMP}`,
);
log(
  mcproxyBuilt() ? 'mcproxy: dist/main.js found' : 'mcproxy: dist/main.js not found, its rows will say "not available"',
);
const peers = ensurePeers(log);
if (!peers.ok) log(`peer gateways missing (${peers.missing.join(', ')}): ${peers.error}`);
Object.assign(info, machineInfo(), { quick: opts.quick });

const selected = SCENARIOS.filter((s) => !opts.only || opts.only.includes(s.mod.name));
// Latency and throughput measure the same gateways: when both run, they share one set of processes
// (throughput stops them when it is done).
const sharePool = selected.some((s) => s.mod === latency) && selected.some((s) => s.mod === throughput);
const pool = sharePool ? new GatewayPool((m) => log(`gateways: ${m}`)) : undefined;
let carry = 0;
for (const [i, s] of selected.entries()) {
  const budgetMs = (opts.quick ? 40 : s.budget) * 1000 + carry;
  const start = performance.now();
  // A scenario stops repeating once its budget is spent, and in any case leaves room for the ones after it.
  const reserve = selected.slice(i + 1).reduce((a, x) => a + (opts.quick ? 5 : x.budget * 0.5) * 1000, 0);
  const deadline = Math.min(start + budgetMs, t0 + HARD_LIMIT_S * 1000 - reserve - 20000);
  const ctx = {
    quick: opts.quick,
    log: (m) => log(`${s.mod.name}: ${m}`),
    outOfTime: () => performance.now() > deadline,
    // Would something that takes `ms` still end before the deadline?
    fits: (ms) => performance.now() + ms <= deadline,
    deadline,
    pool,
  };
  log(`${s.mod.name}: start (budget ${(budgetMs / 1000).toFixed(0)} s)`);
  try {
    results[s.mod.name] = { ok: true, data: await s.mod.run(ctx), seconds: (performance.now() - start) / 1000 };
  } catch (err) {
    log(`${s.mod.name}: FAILED ${err.stack ?? err}`);
    results[s.mod.name] = { ok: false, error: String(err.message ?? err), seconds: (performance.now() - start) / 1000 };
  }
  if (!(sharePool && s.mod === latency)) await stopAll();
  const used = performance.now() - start;
  carry = Math.max(0, budgetMs - used);
  log(`${s.mod.name}: done in ${(used / 1000).toFixed(1)} s`);
  write();
}
write();
log(`wrote ${outFile}${opts.json ? ` and ${opts.json}` : ''} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
process.exit(0);
