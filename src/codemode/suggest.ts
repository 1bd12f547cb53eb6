/** Names longer than this are never compared: no real tool or server name is (the protocol allows 128). */
export const MAX_SUGGEST_NAME_CHARS = 128;
/** Candidates looked at per suggestion, so a huge catalog cannot make one answer slow. */
const MAX_CANDIDATES = 1_000;
/** More edits than this is another name, not a slip. */
const MAX_SUGGEST_EDITS = 4;

/**
 * The edit distance between two strings when it is at most `max`, else `max + 1` (case-sensitive). Only the
 * diagonal band that can stay within `max` is computed, and it stops as soon as a whole row exceeds it:
 * O(length × max). Callers bound the lengths.
 */
export function boundedDistance(a: string, b: string, max: number): number {
  const outside = max + 1;
  if (Math.abs(a.length - b.length) > max) return outside;
  if (a === b) return 0;
  let previous = new Uint32Array(b.length + 1).fill(outside);
  let current = new Uint32Array(b.length + 1).fill(outside);
  for (let j = 0; j <= Math.min(b.length, max); j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const from = Math.max(1, i - max);
    const to = Math.min(b.length, i + max);
    const char = a.charCodeAt(i - 1);
    let left = from === 1 && i <= max ? i : outside;
    current[from - 1] = left;
    let best = left;
    for (let j = from; j <= to; j++) {
      const diagonal = previous[j - 1]! + (char === b.charCodeAt(j - 1) ? 0 : 1);
      const up = j < i + max ? previous[j]! + 1 : outside;
      const value = Math.min(diagonal, left + 1, up, outside);
      current[j] = value;
      left = value;
      if (value < best) best = value;
    }
    if (to < b.length) current[to + 1] = outside;
    if (best > max) return outside;
    [previous, current] = [current, previous];
  }
  return Math.min(previous[b.length]!, outside);
}

/** Whether two strings are within `max` edits; see {@link boundedDistance}. */
export function levenshteinWithin(a: string, b: string, max: number): boolean {
  return boundedDistance(a, b, max) <= max;
}

/** Whether the letters of `short` appear in `long` in order (`fs` in `filesystem`), from its first letter. */
function isAbbreviation(short: string, long: string): boolean {
  if (short.length < 2 || short.length >= long.length || short[0] !== long[0]) return false;
  let at = 0;
  for (const char of long) if (char === short[at]) at++;
  return at >= short.length;
}

/**
 * Names close to `wanted`: within a third of its length in edits, containing it (or contained in it), or
 * abbreviated by it (`fs` for `filesystem`); closest first, ties by name. Bounded in cost: a name over
 * MAX_SUGGEST_NAME_CHARS gets no suggestions, and each comparison is a banded edit distance.
 *
 * @example
 * suggestNames('ecoh', ['echo', 'add', 'echo_twice']); // ['echo']
 */
export function suggestNames(wanted: string, candidates: Iterable<string>, max = 3): string[] {
  if (wanted.length === 0 || wanted.length > MAX_SUGGEST_NAME_CHARS) return [];
  const needle = wanted.toLowerCase();
  const limit = Math.min(MAX_SUGGEST_EDITS, Math.max(2, Math.ceil(wanted.length / 3)));
  const scored: Array<{ name: string; distance: number }> = [];
  let looked = 0;
  for (const name of new Set(candidates)) {
    if (++looked > MAX_CANDIDATES) break;
    if (name.length > MAX_SUGGEST_NAME_CHARS) continue;
    const lower = name.toLowerCase();
    const distance = boundedDistance(needle, lower, limit);
    const related =
      (needle.length >= 3 && (lower.includes(needle) || needle.includes(lower))) || isAbbreviation(needle, lower);
    if (distance <= limit || related) scored.push({ name, distance: Math.min(distance, limit) });
  }
  scored.sort((x, y) => x.distance - y.distance || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return scored.slice(0, max).map((entry) => entry.name);
}
