import { createHash } from 'node:crypto';

import type { Tool } from '@modelcontextprotocol/sdk/types.js';

import type { NamingPolicy } from '../config/model.js';

/**
 * How upstream names become public names: `prefix__name`, within a name budget. Tools get the `naming` policy
 * of the config (by default one that fits LLM APIs, which take 1–64 characters of `[A-Za-z0-9_-]`, with room
 * left for a client's own prefix such as Claude Code's `mcp__<server>__`); prompts keep the protocol's limits
 * (1–128 characters of `[A-Za-z0-9_.-]`). A name over budget is cut and given a short hash of the full name,
 * so shortening is deterministic and distinct names stay distinct. Collisions are settled by order: the first
 * claimant keeps the name, later ones get `_2`, `_3`… and every such rename is reported, so no entry is lost.
 */
export const NAME_SEPARATOR = '__';
export const MAX_NAME_LENGTH = 128;
/** Where the original name of a renamed tool is kept in its `_meta`. */
export const ORIGINAL_NAME_META_KEY = 'mcproxy/original_name';
export const SERVER_META_KEY = 'mcproxy/server';
const HASH_CHARS = 6;

/** The protocol's own limits. */
const PROTOCOL_NAMING: NamingPolicy = { maxLength: MAX_NAME_LENGTH, allowDots: true };

export interface NameClaim {
  server: string;
  prefix: string;
  original: string;
  /** The budget of this name; PROTOCOL_NAMING when absent. */
  naming?: NamingPolicy;
}

export interface NameAssignment extends NameClaim {
  publicName: string;
  /** Why the public name differs from the plain `prefix__name`, when it does. */
  renamed?: string;
}

export function joinName(prefix: string, original: string): string {
  return prefix === '' ? original : `${prefix}${NAME_SEPARATOR}${original}`;
}

/**
 * The public form of `prefix__original` under `policy`: forbidden characters become `_`; an over-long name is
 * cut (the prefix keeps at most half of the room unless the tool name leaves it more) and ends in `_` plus a
 * hash of the full name.
 *
 * @example sanitizeName('github', 'create_pull_request_review_comment_reply_with_suggestion', { maxLength: 48, allowDots: false })
 * // 'github__create_pull_request_review_commen_c5acbe' (48 characters)
 */
export function sanitizeName(prefix: string, original: string, policy: NamingPolicy = PROTOCOL_NAMING): string {
  const invalid = policy.allowDots ? /[^A-Za-z0-9_.-]/g : /[^A-Za-z0-9_-]/g;
  const cleanPrefix = prefix.replace(invalid, '_');
  const cleanOriginal = original.replace(invalid, '_') || '_';
  const whole = joinName(cleanPrefix, cleanOriginal);
  if (whole.length <= policy.maxLength) return whole;

  const suffix = `_${shortHash(joinName(prefix, original))}`;
  const separator = cleanPrefix === '' ? '' : NAME_SEPARATOR;
  const room = Math.max(0, policy.maxLength - suffix.length - separator.length);
  const prefixKeep = Math.min(cleanPrefix.length, Math.max(room - cleanOriginal.length, Math.ceil(room / 2)));
  const originalKeep = room - prefixKeep;
  const head = cleanPrefix.slice(0, prefixKeep) + separator + cleanOriginal.slice(0, originalKeep);
  return head + suffix;
}

/** Public names for `claims`, in order; unique across all of them. */
export function assignNames(claims: readonly NameClaim[]): NameAssignment[] {
  const taken = new Set<string>();
  const result: NameAssignment[] = [];
  for (const claim of claims) {
    const policy = claim.naming ?? PROTOCOL_NAMING;
    const wanted = joinName(claim.prefix, claim.original);
    const base = sanitizeName(claim.prefix, claim.original, policy);
    let publicName = base;
    for (let n = 2; taken.has(publicName); n++) publicName = withSuffix(base, `_${n}`, policy.maxLength);
    taken.add(publicName);
    let renamed: string | undefined;
    if (publicName !== base) renamed = `"${base}" is taken by an earlier server; exposed as "${publicName}"`;
    else if (publicName !== wanted) renamed = `"${wanted}" ${whyInvalid(wanted, policy)}; exposed as "${publicName}"`;
    result.push({ ...claim, publicName, ...(renamed ? { renamed } : {}) });
  }
  return result;
}

/**
 * A tool's definition as clients see it: the upstream's, under its public name. When that name is not the plain
 * `prefix__name` (shortened, cleaned or de-duplicated), `_meta` keeps the original name and server, and a tool
 * without a title gets its original name as title, so a client can still show what it is.
 */
export function publicToolDefinition(tool: Tool, assignment: NameAssignment): Tool {
  if (assignment.publicName === joinName(assignment.prefix, assignment.original)) {
    return { ...tool, name: assignment.publicName };
  }
  return {
    ...tool,
    name: assignment.publicName,
    title: tool.title ?? assignment.original,
    _meta: { ...tool._meta, [ORIGINAL_NAME_META_KEY]: assignment.original, [SERVER_META_KEY]: assignment.server },
  };
}

function whyInvalid(name: string, policy: NamingPolicy): string {
  const allowed = policy.allowDots ? '[A-Za-z0-9_.-]' : '[A-Za-z0-9_-]';
  if (name.length > policy.maxLength) return `is longer than ${policy.maxLength} characters`;
  return `has characters outside ${allowed}`;
}

function withSuffix(base: string, suffix: string, maxLength: number): string {
  return base.length + suffix.length <= maxLength ? base + suffix : base.slice(0, maxLength - suffix.length) + suffix;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, HASH_CHARS);
}

/** A name further than this from a candidate is no typo of it. */
const MAX_SUGGESTION_DISTANCE = 8;
/** Distance-table cells one suggestion may fill, whatever the input or the catalog: a few milliseconds. */
const SUGGESTION_BUDGET_CELLS = 500_000;

/**
 * Names of `candidates` closest to `name` (edit distance), best first, for "did you mean" messages. Bounded in
 * cost: a name longer than any valid one gets no suggestions, each distance is computed only within the band it
 * could matter in, and the whole search stops after a fixed amount of work.
 */
export function closestNames(name: string, candidates: Iterable<string>, max = 3): string[] {
  if (name === '' || name.length > MAX_NAME_LENGTH) return [];
  const best: Scored[] = [];
  const limit = Math.min(MAX_SUGGESTION_DISTANCE, Math.max(3, Math.floor(name.length / 2)));
  let budget = SUGGESTION_BUDGET_CELLS;
  for (const candidate of candidates) {
    if (budget <= 0) break;
    if (candidate.length > MAX_NAME_LENGTH) continue;
    let distance: number;
    if (candidate.includes(name) || name.includes(candidate)) distance = 1;
    else if (Math.abs(candidate.length - name.length) > limit) continue;
    else {
      budget -= name.length * (2 * limit + 1);
      distance = boundedEditDistance(name, candidate, limit);
    }
    if (distance <= limit) keepBest(best, { candidate, distance }, max);
  }
  return best.map((entry) => entry.candidate);
}

interface Scored {
  candidate: string;
  distance: number;
}

/** Inserts `entry` into the sorted `best` if it ranks among the first `max`: no sort of every near name. */
function keepBest(best: Scored[], entry: Scored, max: number): void {
  const ranksBefore = (other: Scored) =>
    entry.distance < other.distance ||
    (entry.distance === other.distance && entry.candidate.localeCompare(other.candidate) < 0);
  let at = best.length;
  while (at > 0 && ranksBefore(best[at - 1]!)) at--;
  if (at >= max) return;
  best.splice(at, 0, entry);
  if (best.length > max) best.pop();
}

/** Edit distance of `a` and `b` if it is at most `limit`, else `limit + 1`; fills only the band |i - j| <= limit. */
function boundedEditDistance(a: string, b: string, limit: number): number {
  const over = limit + 1;
  let previous = new Int32Array(b.length + 1).fill(over);
  let current = new Int32Array(b.length + 1);
  for (let j = 0; j <= Math.min(b.length, limit); j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current.fill(over);
    if (i <= limit) current[0] = i;
    let best = current[0]!;
    const code = a.charCodeAt(i - 1);
    for (let j = Math.max(1, i - limit); j <= Math.min(b.length, i + limit); j++) {
      let value = previous[j - 1]! + (code === b.charCodeAt(j - 1) ? 0 : 1);
      const deletion = previous[j]! + 1;
      const insertion = current[j - 1]! + 1;
      if (deletion < value) value = deletion;
      if (insertion < value) value = insertion;
      if (value > over) value = over;
      current[j] = value;
      if (value < best) best = value;
    }
    if (best > limit) return over;
    [previous, current] = [current, previous];
  }
  return previous[b.length]!;
}

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
