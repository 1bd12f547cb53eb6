/**
 * Which remote servers were found to speak the legacy era alone, by URL, for a while: every instance of a
 * session- or credential-scoped server would otherwise ask again (`server/discover` at connect), and a server
 * that never answers a request without a session would hold each one up for the probe's whole timeout.
 * Kept ten minutes, so a server upgraded to speak 2026-07-28 is found out without a restart of the gateway.
 */
const LEGACY_ONLY_FOR_MS = 10 * 60_000;
/** Servers remembered at most; the oldest verdict goes first. */
const MAX_VERDICTS = 1_000;

const legacyOnly = new Map<string, number>();

/** Whether `url` was found, within the last ten minutes, to speak the legacy era alone. */
export function knownLegacyOnly(url: string, now = Date.now()): boolean {
  const until = legacyOnly.get(url);
  if (until === undefined) return false;
  if (until > now) return true;
  legacyOnly.delete(url);
  return false;
}

/** Records the outcome of a probe of `url`: legacy alone, or 2026-07-28 too (which forgets a legacy verdict). */
export function recordEraVerdict(url: string, speaksModern: boolean, now = Date.now()): void {
  legacyOnly.delete(url);
  if (speaksModern) return;
  if (legacyOnly.size >= MAX_VERDICTS) legacyOnly.delete(legacyOnly.keys().next().value!);
  legacyOnly.set(url, now + LEGACY_ONLY_FOR_MS);
}
