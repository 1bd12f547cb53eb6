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
 * Names close to `wanted`: within a third of its length in edits, or containing it (or contained in it),
 * closest first, ties by name.
 *
 * @example
 * suggestNames('ecoh', ['echo', 'add', 'echo_twice']); // ['echo', 'echo_twice']
 */
export function suggestNames(wanted: string, candidates: Iterable<string>, max = 3): string[] {
  const needle = wanted.toLowerCase();
  const limit = Math.max(2, Math.ceil(wanted.length / 3));
  const scored: Array<{ name: string; distance: number }> = [];
  for (const name of new Set(candidates)) {
    const lower = name.toLowerCase();
    const distance = levenshtein(needle, lower);
    const related = needle.length >= 3 && (lower.includes(needle) || needle.includes(lower));
    if (distance <= limit || related) scored.push({ name, distance: related ? Math.min(distance, limit) : distance });
  }
  scored.sort((x, y) => x.distance - y.distance || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return scored.slice(0, max).map((entry) => entry.name);
}
