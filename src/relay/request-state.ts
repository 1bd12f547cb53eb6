import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

import { GatewayError } from '../errors.js';

/**
 * The `requestState` the gateway hands a 2026-07-28 client between the rounds of a multi round-trip request:
 * sealed with AES-256-GCM (integrity and secrecy: it may carry an upstream server's own state), bound to the
 * caller who may redeem it and to the request it belongs to, and short-lived. The client sees an opaque string.
 */
export interface SealedState {
  /** What the state refers to: a held round of the gateway, or an upstream server's own state. */
  body: Record<string, unknown>;
  /** Who may redeem it: the access grant's owner and endpoint. */
  principal: string;
  /** Digest of the method and parameters of the request it answers (see `requestDigest`). */
  request: string;
  expiresAt: number;
}

export type Unsealed = { ok: true; state: SealedState } | { ok: false; reason: string };

const IV_BYTES = 12;
const TAG_BYTES = 16;
/**
 * The longest sealed state, in characters, both when sealing and when opening: a server's own state grows with
 * what the client answered (a multi-round request may carry every earlier answer), so it is bounded here with a
 * clear error rather than sealed and then refused as malformed on the retry.
 */
export const MAX_SEALED_STATE_CHARS = 1024 * 1024;

/**
 * Seals and opens request states. The key comes from `MCPROXY_STATE_KEY` (64 hex characters) when set, so
 * that every replica of a deployment can open what another sealed; else it is made at start-up.
 */
export class RequestStateSealer {
  private readonly key: Buffer;

  constructor(key: Buffer | string | undefined = process.env.MCPROXY_STATE_KEY) {
    if (key === undefined || key === '') this.key = randomBytes(32);
    else if (typeof key === 'string') {
      if (!/^[0-9a-fA-F]{64}$/.test(key)) throw new Error('MCPROXY_STATE_KEY must be 64 hexadecimal characters');
      this.key = Buffer.from(key, 'hex');
    } else this.key = key;
  }

  seal(state: SealedState): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const plain = Buffer.from(JSON.stringify(state), 'utf8');
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    const token = Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
    if (token.length > MAX_SEALED_STATE_CHARS) {
      throw new GatewayError(
        'INVALID_PARAMS',
        `the request's state (${token.length} characters sealed) is larger than the gateway relays (${MAX_SEALED_STATE_CHARS}): answer with less, or start the request again`,
      );
    }
    return token;
  }

  /** Opens a state and checks that this caller may redeem it for this request, now. */
  open(token: unknown, expected: { principal: string; request: string; now?: number }): Unsealed {
    if (typeof token !== 'string' || token.length > MAX_SEALED_STATE_CHARS)
      return { ok: false, reason: 'requestState is malformed' };
    const raw = Buffer.from(token, 'base64url');
    if (raw.length <= IV_BYTES + TAG_BYTES) return { ok: false, reason: 'requestState is malformed' };
    let state: SealedState;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
      state = JSON.parse(plain.toString('utf8')) as SealedState;
    } catch {
      return { ok: false, reason: 'requestState was not issued by this gateway or was altered' };
    }
    if (state.principal !== expected.principal) return { ok: false, reason: 'requestState belongs to another caller' };
    if (state.request !== expected.request) return { ok: false, reason: 'requestState belongs to another request' };
    if (state.expiresAt < (expected.now ?? Date.now())) return { ok: false, reason: 'requestState has expired' };
    return { ok: true, state };
  }
}

/**
 * Identifies the request a state answers: its method and parameters, without the fields that differ between
 * rounds (`_meta`, `inputResponses`, `requestState`).
 */
export function requestDigest(method: string, params: Record<string, unknown> | undefined): string {
  const { _meta, inputResponses, requestState, ...rest } = params ?? {};
  void _meta;
  void inputResponses;
  void requestState;
  return createHash('sha256').update(method).update('\0').update(stableStringify(rest)).digest('base64url');
}

/** JSON with object keys sorted, so that the same parameters give the same digest whatever their order. */
function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableStringify((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
