/** Names longer than this are never compared: no real tool or server name is (the protocol allows 128). */
export const MAX_SUGGEST_NAME_CHARS = 128;
/** Candidates looked at per suggestion, so a huge catalog cannot make one answer slow. */
const MAX_CANDIDATES = 5_000;

/** Edit distance between two strings (insertions, deletions, substitutions), case-insensitive. */
export function levenshtein(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  if (s === t) return 0;
  let previous = Array.from({ length: t.length + 1 }, (_, i) => i);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      row[j] = Math.min((row[j - 1] ?? 0) + 1, (previous[j] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = row;
  }
  return previous[t.length] ?? 0;
}

/**
 * Whether two strings are within `max` edits (case-sensitive), computing only the diagonal band that can stay
 * within `max` and stopping as soon as a whole row exceeds it. Callers bound the lengths.
 */
export function levenshteinWithin(a: string, b: string, max: number): boolean {
  if (Math.abs(a.length - b.length) > max) return false;
  if (a === b) return true;
  const outside = max + 1;
  let previous = new Array<number>(b.length + 1).fill(outside);
  for (let j = 0; j <= Math.min(b.length, max); j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const current = new Array<number>(b.length + 1).fill(outside);
    if (i <= max) current[0] = i;
    let best = current[0] ?? outside;
    for (let j = Math.max(1, i - max); j <= Math.min(b.length, i + max); j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      const value = Math.min(
        (previous[j - 1] ?? outside) + cost,
        (current[j - 1] ?? outside) + 1,
        (previous[j] ?? outside) + 1,
        outside,
      );
      current[j] = value;
      if (value < best) best = value;
    }
    if (best > max) return false;
    previous = current;
  }
  return (previous[b.length] ?? outside) <= max;
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
  const limit = Math.max(2, Math.ceil(wanted.length / 3));
  const scored: Array<{ name: string; distance: number }> = [];
  let looked = 0;
  for (const name of new Set(candidates)) {
    if (++looked > MAX_CANDIDATES) break;
    if (name.length > MAX_SUGGEST_NAME_CHARS) continue;
    const lower = name.toLowerCase();
    const related =
      (needle.length >= 3 && (lower.includes(needle) || needle.includes(lower))) || isAbbreviation(needle, lower);
    if (related) scored.push({ name, distance: limit });
    else if (levenshteinWithin(needle, lower, limit)) scored.push({ name, distance: levenshtein(needle, lower) });
  }
  scored.sort((x, y) => x.distance - y.distance || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return scored.slice(0, max).map((entry) => entry.name);
}
