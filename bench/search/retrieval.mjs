// The retrieval benchmark's core: a catalog of real tools, the task sets, three rankers and their scores.
// Used by bench/scenarios/search.mjs (real servers, started here) and by bench/search/tune.mjs (a saved catalog).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import MiniSearch from 'minisearch';

import { ROOT } from '../lib/paths.mjs';

const HERE = join(ROOT, 'bench', 'search');

/** The task sets, by name: the tuning set, and held-apart sets that are never run while tuning. */
export const TASK_SETS = {
  tuning: 'tasks.json',
  'held-apart': 'held-apart.json',
  'held-apart-2': 'held-apart-2.json',
  'held-apart-3': 'held-apart-3.json',
  'held-apart-4': 'held-apart-4.json',
};

/** A task set: [{ query, expect: ['server/tool', …] }]. */
export function loadTasks(which) {
  const file = TASK_SETS[which];
  if (!file) throw new Error(`unknown task set ${which}; known: ${Object.keys(TASK_SETS).join(', ')}`);
  return JSON.parse(readFileSync(join(HERE, file), 'utf8')).tasks.map(([query, expect]) => ({ query, expect }));
}

/**
 * The catalog copied under numbered server names until it has `size` tools: a large catalog with real
 * vocabulary, for timing the ranking (its retrieval figures would mean nothing: every tool has twins).
 */
export function scaledCatalog(catalog, size) {
  const out = [];
  for (let copy = 0; out.length < size; copy++) {
    for (const tool of catalog) {
      if (out.length >= size) break;
      const server = `${tool.server}${copy}`;
      out.push({
        ...tool,
        server,
        publicName: `${server}__${tool.originalName}`,
        definition: { ...tool.definition, name: `${server}__${tool.originalName}` },
      });
    }
  }
  return out;
}

/** Mean ms to build the index (first query) and per query after it, for our ranker over `catalog`. */
export async function rankingLatency(catalog, queries, rounds = 3) {
  const started = performance.now();
  const rank = await ourRanker(catalog);
  rank(queries[0]);
  const buildMs = performance.now() - started;
  const samples = [];
  for (let round = 0; round < rounds; round++) {
    for (const query of queries) {
      const t = performance.now();
      rank(query);
      samples.push(performance.now() - t);
    }
  }
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { buildMs, meanMs: mean, p90Ms: samples[Math.floor(samples.length * 0.9)] };
}

/** Catalog entries (the shape the gateway's catalog gives Code Mode) from { server: Tool[] }. */
export function catalogOf(toolsByServer) {
  return Object.entries(toolsByServer).flatMap(([server, tools]) =>
    tools.map((tool) => ({
      publicName: `${server}__${tool.name}`,
      server,
      originalName: tool.name,
      definition: { ...tool, name: `${server}__${tool.name}` },
    })),
  );
}

/** mcproxy's own search (dist/), over a static host. */
export async function ourRanker(catalog, options = {}) {
  const { CatalogSearch } = await import(join(ROOT, 'dist', 'codemode', 'search.js'));
  const servers = [...new Set(catalog.map((t) => t.server))].map((name) => ({ name, state: 'ready', toolCount: 0 }));
  const host = {
    listServers: () => servers,
    listTools: () => catalog,
    callTool: () => Promise.reject(new Error('not used')),
    onCatalogChanged: () => () => {},
  };
  const search = new CatalogSearch(host, options);
  return (query) => search.rank(query).map((t) => `${t.server}/${t.originalName}`);
}

/** Textbook BM25 (k1 1.2, b 0.75) over one field, name + description; lower-case words, no stemming or stop words. */
export function plainBm25Ranker(catalog) {
  const tokenize = (text) =>
    text
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter(Boolean);
  const docs = catalog.map((t) => tokenize(`${t.originalName} ${t.definition.description ?? ''}`));
  const avg = docs.reduce((a, d) => a + d.length, 0) / docs.length;
  const df = new Map();
  for (const d of docs) for (const w of new Set(d)) df.set(w, (df.get(w) ?? 0) + 1);
  const tfs = docs.map((d) => {
    const m = new Map();
    for (const w of d) m.set(w, (m.get(w) ?? 0) + 1);
    return m;
  });
  return (query) => {
    const words = [...new Set(tokenize(query))];
    const scored = [];
    tfs.forEach((tf, i) => {
      let score = 0;
      for (const w of words) {
        const f = tf.get(w);
        if (!f) continue;
        const idf = Math.log(1 + (docs.length - df.get(w) + 0.5) / (df.get(w) + 0.5));
        score += (idf * f * 2.2) / (f + 1.2 * (0.25 + (0.75 * docs[i].length) / avg));
      }
      if (score > 0) scored.push({ i, score });
    });
    scored.sort((a, b) => b.score - a.score || a.i - b.i);
    return scored.map(({ i }) => `${catalog[i].server}/${catalog[i].originalName}`);
  };
}

/** minisearch with its default options, fields name and description. */
export function minisearchRanker(catalog) {
  const engine = new MiniSearch({ fields: ['name', 'description'] });
  engine.addAll(catalog.map((t, id) => ({ id, name: t.originalName, description: t.definition.description ?? '' })));
  return (query) => engine.search(query).map((hit) => `${catalog[hit.id].server}/${catalog[hit.id].originalName}`);
}

/** top-1, top-5 and MRR of a ranker on a task set, plus the tasks it missed at top-1. */
export function evaluate(rank, tasks) {
  let top1 = 0;
  let top5 = 0;
  let reciprocal = 0;
  const misses = [];
  for (const task of tasks) {
    const results = rank(task.query);
    const position = results.findIndex((id) => task.expect.includes(id));
    if (position === 0) top1++;
    else misses.push({ query: task.query, expect: task.expect[0], got: results.slice(0, 3), position });
    if (position >= 0 && position < 5) top5++;
    if (position >= 0) reciprocal += 1 / (position + 1);
  }
  const n = tasks.length;
  return { n, top1: top1 / n, top5: top5 / n, mrr: reciprocal / n, misses };
}
