import type { z } from 'zod';

import { GatewayError } from '../errors.js';

/** One problem of a config file. `path` is the field's path as the user reads it (`servers.github.command`). */
export interface ConfigIssue {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export type PathSegment = string | number;

/** Shown in place of a file name when a config did not come from a file. */
export const NO_FILE = '<config>';

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/**
 * Renders a path the way a user finds the field: `servers.github.env.API_KEY`, and for a v1 list entry
 * `servers[0] (github).command`, naming the entry because counting array items in a big file is error-prone.
 *
 * @example formatPath(['servers', 0, 'command'], { servers: [{ name: 'github' }] }) // 'servers[0] (github).command'
 */
export function formatPath(segments: readonly PathSegment[], root?: unknown): string {
  let out = '';
  let node = root;
  for (const segment of segments) {
    if (typeof segment === 'number') {
      out += `[${segment}]`;
      node = Array.isArray(node) ? node[segment] : undefined;
      const name = isRecord(node) ? node['name'] : undefined;
      if (typeof name === 'string' && name !== '') out += ` (${name})`;
    } else {
      out += PLAIN_KEY.test(segment) ? (out === '' ? segment : `.${segment}`) : `[${JSON.stringify(segment)}]`;
      node = isRecord(node) ? node[segment] : undefined;
    }
  }
  return out;
}

/** The lines of a CONFIG_INVALID message: `<file>: <path>: <message>`, or `<file>:<line>:<column>: ...`. */
export function formatIssue(file: string, issue: ConfigIssue): string {
  const where = issue.line === undefined ? file : `${file}:${issue.line}:${issue.column ?? 1}`;
  return issue.path === '' ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}

/** The one error thrown for an invalid config; `data` carries the file and every issue for programmatic use. */
export function configInvalidError(file: string | undefined, issues: ConfigIssue[]): GatewayError {
  const name = file ?? NO_FILE;
  const message = issues.map((issue) => formatIssue(name, issue)).join('\n');
  return new GatewayError('CONFIG_INVALID', message, { data: { file: name, issues } });
}

/**
 * Orders issues as their fields appear in the file, so the list reads top to bottom however they were found.
 * An issue about a field that is absent sorts with its nearest present ancestor. The sort is stable.
 */
export function sortByDocumentOrder(issues: ConfigIssue[], root: unknown): ConfigIssue[] {
  const order = new Map<string, number>();
  const walk = (node: unknown, segments: PathSegment[]): void => {
    order.set(formatPath(segments, root), order.size);
    if (Array.isArray(node)) node.forEach((item, index) => walk(item, [...segments, index]));
    else if (isRecord(node)) for (const [key, value] of Object.entries(node)) walk(value, [...segments, key]);
  };
  walk(root, []);
  const rank = (path: string): number => {
    let best = '';
    for (const known of order.keys()) {
      if (known.length > best.length && path.startsWith(known) && /^$|^[.[ ]/.test(path.slice(known.length))) {
        best = known;
      }
    }
    return order.get(best) ?? 0;
  };
  return issues
    .map((issue, index) => ({ issue, index, rank: rank(issue.path) }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map(({ issue }) => issue);
}

/** Turns zod's issues into readable ones, resolving unions and suggesting the nearest known key for a typo. */
export function issuesFromZod(error: z.ZodError, root: unknown, schema: z.ZodType): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of error.issues) collect(issue, [], root, schema, out);
  return out;
}

type ZodIssue = z.core.$ZodIssue;

function collect(issue: ZodIssue, base: PathSegment[], root: unknown, schema: z.ZodType, out: ConfigIssue[]): void {
  const segments = [...base, ...(issue.path as PathSegment[])];
  const path = formatPath(segments, root);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(schema, segments);
      for (const key of issue.keys) {
        const suggestion = suggest(key, known);
        const hint = suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
        out.push({ path: formatPath([...segments, key], root), message: `unknown field${hint}` });
      }
      return;
    }
    case 'invalid_union': {
      // A union of shapes (v1 list | v2 object): report the branch that matched the value's type, not all of them.
      const matching = issue.errors.filter((branch) => !branch.every(isTypeMismatchAtRoot));
      if (matching.length > 0 && matching[0]) {
        for (const inner of matching[0]) collect(inner, segments, root, schema, out);
        return;
      }
      const expected = issue.errors.flatMap((branch) => branch.map(expectedOf)).filter(isString);
      const value = valueAt(root, segments);
      const message = expected.length > 0 ? `expected ${[...new Set(expected)].join(' or ')}` : issue.message;
      out.push({ path, message: `${message}, received ${describeType(value)}` });
      return;
    }
    case 'invalid_key':
      for (const inner of issue.issues) out.push({ path, message: `invalid name: ${inner.message}` });
      return;
    case 'invalid_type': {
      const value = valueAt(root, segments);
      const expected = expectedOf(issue) ?? issue.expected;
      const message =
        value === undefined
          ? `required field is missing (expected ${expected})`
          : `expected ${expected}, received ${describeType(value)}`;
      out.push({ path, message });
      return;
    }
    case 'invalid_value':
      out.push({
        path,
        message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, received ${JSON.stringify(valueAt(root, segments))}`,
      });
      return;
    case 'invalid_format':
      if (issue.format === 'url') {
        out.push({
          path,
          message: `expected an http or https URL, received ${JSON.stringify(valueAt(root, segments))}`,
        });
        return;
      }
      out.push({ path, message: issue.message });
      return;
    default:
      out.push({ path, message: issue.message.replace(/^(Invalid input|Too small|Too big): /, '') });
  }
}

function isTypeMismatchAtRoot(issue: ZodIssue): boolean {
  return issue.code === 'invalid_type' && issue.path.length === 0;
}

function expectedOf(issue: ZodIssue): string | undefined {
  if (issue.code !== 'invalid_type') return undefined;
  // "record" is zod's word; the user wrote (or should write) a JSON object.
  return issue.expected === 'record' ? 'object' : issue.expected;
}

function isString(value: string | undefined): value is string {
  return value !== undefined;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function valueAt(root: unknown, segments: readonly PathSegment[]): unknown {
  let node = root;
  for (const segment of segments) {
    if (Array.isArray(node) && typeof segment === 'number') node = node[segment];
    else if (isRecord(node)) node = node[String(segment)];
    else return undefined;
  }
  return node;
}

/** The keys the schema allows at a path, walking through optional, records, arrays and union branches. */
function knownKeysAt(schema: z.ZodType, segments: readonly PathSegment[]): string[] {
  const keys = new Set<string>();
  const walk = (node: z.core.$ZodType, depth: number): void => {
    const def = node._zod.def as unknown as Record<string, unknown> & { type: string };
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
        walk(def['innerType'] as z.core.$ZodType, depth);
        return;
      case 'pipe':
        walk(def['in'] as z.core.$ZodType, depth);
        return;
      case 'union':
        for (const option of def['options'] as z.core.$ZodType[]) walk(option, depth);
        return;
      case 'object': {
        const shape = def['shape'] as Record<string, z.core.$ZodType>;
        if (depth === segments.length) {
          for (const key of Object.keys(shape)) keys.add(key);
          return;
        }
        const next = shape[String(segments[depth])];
        if (next) walk(next, depth + 1);
        return;
      }
      case 'record':
        if (depth < segments.length && typeof segments[depth] === 'string') {
          walk(def['valueType'] as z.core.$ZodType, depth + 1);
        }
        return;
      case 'array':
        if (depth < segments.length && typeof segments[depth] === 'number') {
          walk(def['element'] as z.core.$ZodType, depth + 1);
        }
        return;
      default:
        return;
    }
  };
  walk(schema, 0);
  return [...keys];
}

/**
 * The known key nearest to a typo, or undefined when none is close. Case, `_` and `-` are ignored first,
 * so `toolTimeout` finds `tool_timeout` and `mcp_servers` finds `mcpServers`.
 *
 * @example suggest('comand', ['command', 'args']) // 'command'
 */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  const fold = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = levenshtein(fold(input), fold(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.floor(input.length / 3));
  return bestDistance <= allowed ? best : undefined;
}

/** Edit distance (insertions, deletions, substitutions), two rows at a time. */
export function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
