#!/usr/bin/env node
// Tuning aid: scores the TUNING set only, against a catalog saved by `npm run bench -- --only search`
// (written to $TMPDIR/mcproxy-search-catalog.json), and prints the misses. Never runs the held-apart set.
//   npm run build && node bench/search/tune.mjs [catalog.json]
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { catalogOf, evaluate, loadTasks, minisearchRanker, ourRanker, plainBm25Ranker } from './retrieval.mjs';

const file = process.argv[2] ?? join(os.tmpdir(), 'mcproxy-search-catalog.json');
const catalog = catalogOf(JSON.parse(readFileSync(file, 'utf8')));
const tasks = loadTasks('tuning');
const result = evaluate(await ourRanker(catalog), tasks);
for (const miss of result.misses) {
  console.log(`#${miss.position + 1}\t${miss.query}\t→ ${miss.got.join(', ')}\t(want ${miss.expect})`);
}
const pct = (x) => `${(x * 100).toFixed(1)} %`;
console.log(`${result.n} tasks: top-1 ${pct(result.top1)}, top-5 ${pct(result.top5)}, MRR ${result.mrr.toFixed(3)}`);
for (const [label, make] of [
  ['plain BM25', plainBm25Ranker],
  ['minisearch defaults', minisearchRanker],
]) {
  const r = evaluate(make(catalog), tasks);
  console.log(`${label}: top-1 ${pct(r.top1)}, top-5 ${pct(r.top5)}, MRR ${r.mrr.toFixed(3)}`);
}
