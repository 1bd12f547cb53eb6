/** What a masked secret is replaced with, in messages and in structured fields alike. */
export const REDACTED = '[redacted]';

/** Secrets shorter than this are not masked: masking "1" or "on" would mangle every line. */
export const MIN_SECRET_LENGTH = 4;

/**
 * Structured fields that hold secrets, as pino `redact` paths: the values of `env` and `headers` maps (at the
 * top level and one level down, e.g. `{ config: { env } }`) and the usual credential keys.
 */
export const DEFAULT_REDACT_PATHS: readonly string[] = [
  'env.*',
  '*.env.*',
  'headers.*',
  '*.headers.*',
  ...['authorization', 'token', 'password', 'secret', 'apiKey', 'api_key', 'accessToken', 'refreshToken'].flatMap(
    (key) => [key, `*.${key}`],
  ),
];

/** Returns the secret strings to mask; called for every line, so it should return a cached array. */
export type SecretSource = () => readonly string[];

/**
 * A function that replaces every known secret in `text` with {@link REDACTED}. It masks both the raw string
 * and its JSON-escaped form, so it works on serialised JSON lines as well as on plain messages.
 *
 * @example
 * const mask = createSecretMasker(() => ['pplx-123456']);
 * mask('calling with key pplx-123456'); // 'calling with key [redacted]'
 */
export function createSecretMasker(source: SecretSource): (text: string) => string {
  let lastValues: readonly string[] | undefined;
  let needles: string[] = [];
  return function maskSecrets(text: string): string {
    const values = source();
    if (values !== lastValues) {
      lastValues = values;
      needles = buildNeedles(values);
    }
    let masked = text;
    for (const needle of needles) {
      if (masked.includes(needle)) masked = masked.split(needle).join(REDACTED);
    }
    return masked;
  };
}

function buildNeedles(values: readonly string[]): string[] {
  const needles = new Set<string>();
  for (const value of values) {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) continue;
    needles.add(value);
    needles.add(JSON.stringify(value).slice(1, -1));
  }
  // Longest first, so a secret that contains another one is masked whole.
  return [...needles].sort((a, b) => b.length - a.length);
}
