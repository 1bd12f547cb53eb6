import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { parse as parseDotenv } from 'dotenv';

import { envFilePath } from '../../config/load.js';
import { GatewayError } from '../../errors.js';

/** The environment variable holding the key upstream sign-ins are encrypted with. */
export const TOKEN_KEY_ENV = 'MCPROXY_TOKEN_KEY';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The 256-bit key of `MCPROXY_TOKEN_KEY`: 32 bytes as base64 (`openssl rand -base64 32`) or as 64 hex digits.
 * Throws UPSTREAM_AUTH_REQUIRED, naming the variable and how to make a key, when it is missing or malformed;
 * the value itself is never part of a message.
 *
 * @example const key = readTokenKey(process.env);
 */
export function readTokenKey(value: string | undefined): Buffer {
  const how = `set ${TOKEN_KEY_ENV} to 32 random bytes, e.g. "openssl rand -base64 32", in the gateway's environment or the .env beside its config`;
  if (value === undefined || value.trim() === '') {
    throw new GatewayError('UPSTREAM_AUTH_REQUIRED', `upstream sign-ins are stored encrypted: ${how}`);
  }
  const text = value.trim();
  const hex = /^[0-9a-f]{64}$/i.test(text);
  const key = Buffer.from(text, hex ? 'hex' : 'base64');
  if (key.length !== KEY_BYTES || (!hex && !/^[A-Za-z0-9+/_-]{43}=?$/.test(text))) {
    throw new GatewayError('UPSTREAM_AUTH_REQUIRED', `${TOKEN_KEY_ENV} is not a 256-bit key: ${how}`);
  }
  return key;
}

/**
 * The key from the environment, else from the `.env` beside the config (the same precedence as `${VAR}`).
 * Throws like `readTokenKey`.
 */
export function tokenKeyFrom(env: NodeJS.ProcessEnv, configPath: string | undefined): Buffer {
  let value = env[TOKEN_KEY_ENV];
  if (value === undefined && configPath !== undefined) {
    try {
      value = parseDotenv(readFileSync(envFilePath(configPath), 'utf8'))[TOKEN_KEY_ENV];
    } catch {
      // No .env: the variable is missing, which readTokenKey reports.
    }
  }
  return readTokenKey(value);
}

/**
 * Encrypts `plaintext` with AES-256-GCM under a fresh 96-bit IV. `label` is authenticated but not stored, so
 * a sealed value only opens under the label it was sealed for (one user's tokens cannot be moved to another).
 * The result is base64url of IV, tag and ciphertext.
 */
export function seal(key: Buffer, label: string, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(label, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** Opens what `seal` made under the same key and label; throws when either differs or the value was altered. */
export function unseal(key: Buffer, label: string, sealed: string): string {
  const data = Buffer.from(sealed, 'base64url');
  if (data.length < IV_BYTES + TAG_BYTES) throw new Error('the sealed value is too short');
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(label, 'utf8'));
  decipher.setAuthTag(data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(data.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
}
