import { createHash } from 'node:crypto';

import type { Tool } from '@modelcontextprotocol/sdk/types.js';

/** The parts of a tool's definition that are pinned: what a model reads and what it sends. */
export const PINNED_FIELDS = ['name', 'title', 'description', 'inputSchema', 'outputSchema', 'annotations'] as const;

export type PinnedDefinition = Partial<Record<(typeof PINNED_FIELDS)[number], unknown>>;

/** The pinned fields of a tool, without the others (`_meta`, `icons`, `execution` vary for harmless reasons). */
export function pinnedDefinition(tool: Tool): PinnedDefinition {
  const definition: PinnedDefinition = {};
  for (const field of PINNED_FIELDS) if (tool[field] !== undefined) definition[field] = tool[field];
  return definition;
}

/**
 * A stable digest of a tool's pinned fields: SHA-256 of their canonical JSON (keys sorted at every level), so
 * the same definition sent with its keys in another order digests the same.
 *
 * @example digestOf({ name: 'echo', inputSchema: { type: 'object' } }) // 'sha256:5b1e…'
 */
export function digestOf(definition: PinnedDefinition): string {
  return `sha256:${createHash('sha256').update(canonicalJson(definition)).digest('hex')}`;
}

/** Which pinned fields differ between two definitions, in field order. */
export function changedFields(before: PinnedDefinition, after: PinnedDefinition): string[] {
  return PINNED_FIELDS.filter((field) => canonicalJson(before[field]) !== canonicalJson(after[field]));
}

/** JSON with object keys sorted, so that equal values serialise equally. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}
