/**
 * How upstream names become public names: `prefix__name`, within the protocol's limits (1–128 characters
 * of `[A-Za-z0-9_.-]`). Collisions are settled by order: the first claimant keeps the name, later ones get
 * `_2`, `_3`… and every such rename is reported, so no entry is ever lost silently.
 */
export const NAME_SEPARATOR = '__';
export const MAX_NAME_LENGTH = 128;
const INVALID_CHARS = /[^A-Za-z0-9_.-]/g;

export interface NameClaim {
  server: string;
  prefix: string;
  original: string;
}

export interface NameAssignment extends NameClaim {
  publicName: string;
  /** Why the public name differs from the plain `prefix__name`, when it does. */
  renamed?: string;
}

export function joinName(prefix: string, original: string): string {
  return prefix === '' ? original : `${prefix}${NAME_SEPARATOR}${original}`;
}

/** Replaces characters the protocol forbids and shortens over-long names with a stable hash suffix. */
export function sanitizeName(name: string): string {
  let clean = name.replace(INVALID_CHARS, '_');
  if (clean === '') clean = '_';
  if (clean.length <= MAX_NAME_LENGTH) return clean;
  const suffix = `_${fnv1a(name)}`;
  return clean.slice(0, MAX_NAME_LENGTH - suffix.length) + suffix;
}

export function assignNames(claims: readonly NameClaim[]): NameAssignment[] {
  const taken = new Set<string>();
  const result: NameAssignment[] = [];
  for (const claim of claims) {
    const wanted = joinName(claim.prefix, claim.original);
    const base = sanitizeName(wanted);
    let publicName = base;
    for (let n = 2; taken.has(publicName); n++) publicName = withSuffix(base, `_${n}`);
    taken.add(publicName);
    let renamed: string | undefined;
    if (publicName !== base) renamed = `"${base}" is taken by an earlier server; exposed as "${publicName}"`;
    else if (publicName !== wanted) renamed = `"${wanted}" is not a valid tool name; exposed as "${publicName}"`;
    result.push({ ...claim, publicName, ...(renamed ? { renamed } : {}) });
  }
  return result;
}

function withSuffix(base: string, suffix: string): string {
  return base.length + suffix.length <= MAX_NAME_LENGTH
    ? base + suffix
    : base.slice(0, MAX_NAME_LENGTH - suffix.length) + suffix;
}

function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
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
