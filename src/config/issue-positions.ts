import type { Node } from 'yaml';

import type { ConfigIssue, PathSegment } from './issues.js';
import { yamlParser } from './yaml-parser.js';

/**
 * Adds the line and column of each issue's field in the file's text (JSON or YAML: the YAML parser reads both
 * and keeps positions). An issue about a field that is absent points at its nearest present ancestor; one that
 * already has a position, or whose path is the whole file, is left as it is. Only runs on the error path.
 *
 * @example withPositions('{\n  "mode": "fast"\n}', [{ path: 'mode', message: '…' }]) // [{ …, line: 2, column: 3 }]
 */
export function withPositions(text: string, issues: readonly ConfigIssue[]): ConfigIssue[] {
  if (issues.every((issue) => issue.line !== undefined || issue.path === '')) return [...issues];
  const { LineCounter, parseDocument } = yamlParser();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  if (doc.errors.length > 0) return [...issues];
  return issues.map((issue) => {
    if (issue.line !== undefined || issue.path === '') return issue;
    const segments = parsePath(issue.path);
    const offset = segments === undefined ? undefined : offsetOf(doc.contents, segments);
    if (offset === undefined) return issue;
    const { line, col } = lineCounter.linePos(offset);
    return { ...issue, line, column: col };
  });
}

/**
 * The segments of a path as `formatPath` writes it: `servers.github.env`, `servers[0] (github).command`,
 * `mcpServers["my server"]`. Undefined for text it did not write.
 */
export function parsePath(path: string): PathSegment[] | undefined {
  const segments: PathSegment[] = [];
  let rest = path;
  while (rest !== '') {
    const match =
      /^\.?([A-Za-z_$][\w$-]*)/.exec(rest) ??
      /^\[(\d+)\](?: \([^)]*\))?/.exec(rest) ??
      /^\[("(?:[^"\\]|\\.)*")\]/.exec(rest);
    if (!match || match.index !== 0 || (segments.length === 0 && rest.startsWith('.'))) return undefined;
    const token = match[1]!;
    segments.push(
      match[0].startsWith('[') ? (token.startsWith('"') ? (JSON.parse(token) as string) : Number(token)) : token,
    );
    rest = rest.slice(match[0].length);
  }
  return segments;
}

/** Where the deepest existing node of `segments` starts: a map entry's key, a list item itself. */
function offsetOf(root: unknown, segments: readonly PathSegment[]): number | undefined {
  const { isMap, isPair, isScalar, isSeq } = yamlParser();
  let node: unknown = root;
  let offset: number | undefined;
  for (const segment of segments) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}
