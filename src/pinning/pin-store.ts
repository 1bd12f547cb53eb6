import { readFile, rename, writeFile } from 'node:fs/promises';

import { z } from 'zod';

import { errorMessage, GatewayError } from '../errors.js';
import type { PinnedDefinition } from './tool-digest.js';

/** One tool's pin: the definition first seen (or last approved) and, while it differs, what the server lists now. */
export interface PinRecord {
  digest: string;
  definition: PinnedDefinition;
  /** ISO time it was first seen or last approved. */
  pinnedAt: string;
  approvedAt?: string;
  changed?: { digest: string; definition: PinnedDefinition; seenAt: string };
}

/** Pins by `server/tool` (the tool's own name on its server). */
export type Pins = Map<string, PinRecord>;

const DefinitionSchema = z.record(z.string(), z.unknown());
const RecordSchema = z.object({
  digest: z.string().startsWith('sha256:'),
  definition: DefinitionSchema,
  pinnedAt: z.string(),
  approvedAt: z.string().optional(),
  changed: z.object({ digest: z.string(), definition: DefinitionSchema, seenAt: z.string() }).optional(),
});
const PinFileSchema = z.object({ version: z.literal(1), tools: z.record(z.string(), RecordSchema) });

/** The key of a tool's pin. */
export function pinKey(server: string, tool: string): string {
  return `${server}/${tool}`;
}

/**
 * Reads a state file; a missing file is no pins. A file that is not a pin file is an error naming it: its
 * pins must not be silently replaced by new first sightings.
 */
export async function readPins(path: string): Promise<Pins> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new GatewayError('CONFIG_INVALID', `cannot read the pins in ${path}: ${errorMessage(error)}`);
  }
  return parsePins(text, path);
}

export function parsePins(text: string, path: string): Pins {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new GatewayError('CONFIG_INVALID', `${path} is not JSON: ${errorMessage(error)}`);
  }
  const parsed = PinFileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? ` at ${issue.path.join('.') || '(root)'}: ${issue.message}` : '';
    throw new GatewayError('CONFIG_INVALID', `${path} is not a pin file${where}`);
  }
  return new Map(Object.entries(parsed.data.tools) as [string, PinRecord][]);
}

/** The file's text for these pins (sorted by key, so it diffs well). */
export function formatPins(pins: Pins): string {
  const tools = Object.fromEntries([...pins].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ version: 1, tools }, null, 2)}\n`;
}

/** Writes the file whole (a sibling file renamed into place), so a reader never sees half of it. */
export async function writePins(path: string, text: string): Promise<void> {
  const staging = `${path}.${process.pid}.tmp`;
  await writeFile(staging, text);
  await rename(staging, path);
}

/**
 * Makes a changed tool's current definition its pin. Throws TOOL_NOT_FOUND for an unknown tool and
 * INVALID_PARAMS when it has no change to approve.
 */
export function approvePin(pins: Pins, key: string, now = new Date()): PinRecord {
  const record = pins.get(key);
  if (!record) throw new GatewayError('TOOL_NOT_FOUND', `no tool "${key}" has been pinned`);
  if (!record.changed) {
    throw new GatewayError('INVALID_PARAMS', `tool "${key}" has not changed since it was pinned; nothing to approve`);
  }
  const approved: PinRecord = {
    digest: record.changed.digest,
    definition: record.changed.definition,
    pinnedAt: now.toISOString(),
    approvedAt: now.toISOString(),
  };
  pins.set(key, approved);
  return approved;
}
