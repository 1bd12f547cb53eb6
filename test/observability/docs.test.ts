import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { parseConfigText } from '../../src/config/load.js';
import { GatewayErrorCode } from '../../src/errors.js';
import { createMetrics } from '../../src/observability/metrics.js';

const docsDir = path.resolve(import.meta.dirname, '../../docs');
const docs = readdirSync(docsDir).filter((file) => file.endsWith('.md'));
const read = (file: string) => readFileSync(path.join(docsDir, file), 'utf8');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const headings = [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((match) => match[1]!);
  return new Set(
    headings.map((heading) =>
      heading
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    ),
  );
}

describe('docs', () => {
  it('errors.md has exactly one row per GatewayErrorCode', () => {
    const rows = [...read('errors.md').matchAll(/^\| `([A-Z_]+)` +\|/gm)].map((match) => match[1]);
    expect(rows.sort()).toEqual(Object.values(GatewayErrorCode).sort());
  });

  it('deployment.md lists every mcproxy_ metric the gateway exports', async () => {
    const exported = new Set(
      [...(await createMetrics({ defaultMetrics: false }).render()).matchAll(/^# TYPE (mcproxy_\w+)/gm)].map(
        (match) => match[1],
      ),
    );
    const documented = new Set([...read('deployment.md').matchAll(/^\| `(mcproxy_\w+)` +\|/gm)].map((m) => m[1]));
    expect([...documented].sort()).toEqual([...exported].sort());
  });

  it('every relative link points at an existing file and heading', () => {
    for (const file of docs) {
      for (const [, target] of read(file).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [relative, anchor] = target!.split('#');
        const resolved = relative ? path.resolve(docsDir, relative) : path.join(docsDir, file);
        expect(existsSync(resolved), `${file} → ${target}`).toBe(true);
        if (anchor && resolved.endsWith('.md')) {
          expect(anchors(readFileSync(resolved, 'utf8')), `${file} → ${target}`).toContain(anchor);
        }
      }
    }
  });

  it('the config snippets of scopes.md are valid configs', () => {
    const blocks = [...read('scopes.md').matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    const env = Object.fromEntries(
      [...read('scopes.md').matchAll(/\$\{([A-Z_]+)\}/g)].map(([, name]) => [name!, `value-of-${name}-0123456789`]),
    );
    for (const block of blocks) expect(() => parseConfigText(block, { env }), block).not.toThrow();
  });

  it('the JSON snippets of clients.md parse, and name the right endpoints', () => {
    const text = read('clients.md');
    const blocks = [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const block of blocks) expect(() => JSON.parse(block) as unknown, block).not.toThrow();
    expect(text).toContain('claude mcp add --transport http mcproxy http://127.0.0.1:12010/mcp');
    expect(text).toContain('.vscode/mcp.json');
    expect(text).toContain('mcp-remote');
  });
});
