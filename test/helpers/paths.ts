import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root (with a trailing separator). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The built gateway entry point (`npm run build` produces it). */
export const GATEWAY_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** Tools the `ok` fixture lists (checked against the fixture itself in test/fixtures.test.ts). */
export const OK_FIXTURE_TOOL_COUNT = 15;

export type FixtureName =
  | 'ok'
  | 'closes-stdin'
  | 'hangs-after-initialize'
  | 'fails-to-start'
  | 'crash-mid-call'
  | 'never-answers'
  | 'slow-start'
  | 'garbage-stdout'
  | 'ignores-sigterm'
  | 'spawns-child'
  | 'many-tools'
  | 'modern-only'
  | 'conformance'
  | 'rug-pull'
  | 'trace-peer'
  | 'edge-answers'
  | 'hostile';

/**
 * Absolute path of a fixture server under test/fixtures/servers.
 * @example
 *   const config = { mcpServers: { ok: { command: process.execPath, args: [fixturePath('ok')] } } };
 */
export function fixturePath(name: FixtureName): string {
  return fileURLToPath(new URL(`../fixtures/servers/${name}.mjs`, import.meta.url));
}
