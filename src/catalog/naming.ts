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

/** Names of `candidates` closest to `name` (edit distance), best first, for "did you mean" messages. */
export function closestNames(name: string, candidates: Iterable<string>, max = 3): string[] {
  const scored: { candidate: string; distance: number }[] = [];
  const limit = Math.max(3, Math.floor(name.length / 2));
  for (const candidate of candidates) {
    const distance = candidate.includes(name) || name.includes(candidate) ? 1 : editDistance(name, candidate);
    if (distance <= limit) scored.push({ candidate, distance });
  }
  scored.sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate));
  return scored.slice(0, max).map((entry) => entry.candidate);
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
