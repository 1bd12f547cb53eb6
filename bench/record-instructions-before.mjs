#!/usr/bin/env node
// Records the "before" figures of the instructions table (bench/instructions-before.json) from a build of an
// older commit, so that BENCHMARKS.md can set this run's instruction counts beside them:
//
//   git archive <commit> | tar -x -C /tmp/base && ln -s "$PWD/node_modules" /tmp/base/node_modules
//   (cd /tmp/base && npx tsc -p tsconfig.build.json && node scripts/copy-assets.mjs)
//   node bench/record-instructions-before.mjs <commit> /tmp/base/dist/main.js ["note"]
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { BENCH, ROOT } from './lib/paths.mjs';
import { median } from './lib/stats.mjs';

const [commit, main, note] = process.argv.slice(2);
if (!commit || !main) {
  console.error('usage: node bench/record-instructions-before.mjs <commit> <path/to/dist/main.js> ["note"]');
  process.exit(2);
}
const json = join(BENCH, '.instructions-before-run.json');
const run = spawnSync(
  process.execPath,
  [
    join(BENCH, 'run.mjs'),
    '--only',
    'instructions',
    '--json',
    json,
    '--out',
    join(BENCH, '.instructions-before-run.md'),
  ],
  { cwd: ROOT, stdio: 'inherit', env: { ...process.env, MCPROXY_BENCH_MAIN: main } },
);
if (run.status !== 0) process.exit(run.status ?? 1);
const { results } = JSON.parse(readFileSync(json, 'utf8'));
const rows = results.instructions?.data?.rows ?? [];
const perCall = Object.fromEntries(rows.filter((r) => r.perCall.length).map((r) => [r.id, median(r.perCall)]));
const windows = Object.fromEntries(rows.filter((r) => r.perCall.length).map((r) => [r.id, r.windows]));
const allThreads = Object.fromEntries(
  rows.filter((r) => r.allThreads?.length).map((r) => [r.id, median(r.allThreads)]),
);
// perCall: the main thread's instructions per call, the figure the table compares. Figures of the same commit
// recorded before (MCPROXY_BENCH_INSTRUCTIONS=sse records one subject) are kept unless measured again.
let prior = {};
try {
  prior = JSON.parse(readFileSync(join(BENCH, 'instructions-before.json'), 'utf8'));
} catch {
  /* none yet */
}
const same = prior.commit === commit;
const merge = (key, fresh) => ({ ...(same ? prior[key] : {}), ...fresh });
const out = {
  commit,
  date: new Date().toISOString().slice(0, 10),
  note,
  perCall: merge('perCall', perCall),
  allThreads: merge('allThreads', allThreads),
  windows: merge('windows', windows),
};
writeFileSync(join(BENCH, 'instructions-before.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote bench/instructions-before.json: ${JSON.stringify(out.perCall)}`);
