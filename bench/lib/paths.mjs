// Where things are. Everything is resolved from the repository root so the bench runs from any cwd.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BENCH = join(ROOT, 'bench');
export const PEERS_DIR = join(BENCH, '.peers');
// MCPROXY_BENCH_MAIN measures another build (an older commit's, for the "before" instruction counts).
export const MCPROXY_MAIN = process.env.MCPROXY_BENCH_MAIN ?? join(ROOT, 'dist', 'main.js');
/** The trivial stdio relay, the floor the stdio front is judged against. */
export const PIPE_RELAY = join(BENCH, 'lib', 'pipe-relay.mjs');
/** The trivial HTTP relay, the floor the /mcp front is judged against. */
export const HTTP_PIPE_RELAY = join(BENCH, 'lib', 'http-pipe-relay.mjs');

const mod = (pkg) => join(ROOT, 'node_modules', '@modelcontextprotocol', pkg, 'dist', 'index.js');
export const EVERYTHING = mod('server-everything');
export const MEMORY = mod('server-memory');
export const FILESYSTEM = mod('server-filesystem');
export const SEQUENTIAL = mod('server-sequential-thinking');

/** One temporary directory per bench run (configs, memory files, mcp-hub state). */
export const TMP = mkdtempSync(join(tmpdir(), 'mcproxy-bench-'));
